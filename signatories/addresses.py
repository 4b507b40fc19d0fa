"""Email addresses as people type them: one person, one key, however the address is spelled."""

# Providers that deliver "j.doe@" to "jdoe@": the dots are the same mailbox.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def email_key(address: str) -> str:
    """The mailbox an address reaches: case, a “+tag” and, where the provider ignores them, dots aside.

    Plus-addressing reaches the same mailbox at nearly every provider, so "jane+1@example.org" and
    "Jane@Example.org" are one person signing twice.
    """
    local, at, domain = address.strip().casefold().rpartition("@")
    if not at:
        return address.strip().casefold()
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def same_mailbox(first: str, second: str) -> bool:
    return bool(first and second) and email_key(first) == email_key(second)
