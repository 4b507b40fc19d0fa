"""Email addresses as people type them: the CRM's rules (coalition/core/addresses.py), used here too."""

from coalition.core.addresses import DOTLESS_DOMAINS, email_key, same_mailbox

__all__ = ["DOTLESS_DOMAINS", "email_key", "same_mailbox"]
