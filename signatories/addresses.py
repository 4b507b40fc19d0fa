"""Email addresses as people type them: the CRM's rules (coalition/addresses.py), used here too."""

from coalition.addresses import DOTLESS_DOMAINS, email_key, same_mailbox

__all__ = ["DOTLESS_DOMAINS", "email_key", "same_mailbox"]
