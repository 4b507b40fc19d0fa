"""Email addresses as people type them: one person, one key, however the address is spelled."""

import contextlib
import unicodedata

# Providers that deliver "j.doe@" to "jdoe@": the dots are the same mailbox.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def readable_host(domain: str) -> str:
    """A host with its IDNA labels ("xn--…") in the script they encode: "jane@bücher.example"
    and "jane@xn--bcher-kva.example" are one mailbox, "bücher.example" and its "xn--" form one
    website."""
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # not punycode: compared as written
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return ".".join(labels)


def email_key(address: str) -> str:
    """The mailbox an address reaches: case, a “+tag” and, where the provider ignores them, dots aside.

    Plus-addressing reaches the same mailbox at nearly every provider, so "jane+1@example.org" and
    "Jane@Example.org" are one person signing twice.
    """
    folded = unicodedata.normalize("NFKC", address.strip()).casefold()
    local, at, domain = folded.rpartition("@")
    if not at:
        return folded
    domain = readable_host(domain)
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def same_mailbox(first: str, second: str) -> bool:
    return bool(first and second) and email_key(first) == email_key(second)
