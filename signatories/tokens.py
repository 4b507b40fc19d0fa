"""Link tokens: the secrets in signers' links, derived so that a job can email them again.

A token is an HMAC of a random nonce stored on its row, keyed with the site's secret: the database
alone (a backup, a leaked dump) holds only the nonce and the token's SHA-256, from which no link
can be made. The emailing job derives the token again from the nonce, so the token itself never
sits in the task queue, and the job writes nothing. Issuing a new nonce replaces the link.
"""

import base64
import hashlib
import re
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

# 32 bytes of HMAC in URL-safe base64 without padding: 43 characters.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def derive(kind: str, nonce: str, *, secret: str | bytes | None = None) -> str:
    """The link token of a row of this kind ("invitation", "signature") with this nonce."""
    mac = salted_hmac(f"signatories.tokens.{kind}", nonce, secret=secret, algorithm="sha256")
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def rederive(kind: str, nonce: str, token_hash: str) -> str:
    """The token a row was issued, derived again: after a key rotation, under the secret it
    was issued with (one of SECRET_KEY_FALLBACKS), so that an email sent later still opens it."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        token = derive(kind, nonce, secret=secret)
        if digest(token) == token_hash:
            return token
    return derive(kind, nonce)


def digest(token: str) -> str:
    """What the database keeps of a token, to find its row."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None
