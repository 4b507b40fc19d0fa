"""The key and the digest of the event chain.

Each event's hash is an HMAC over its content and the hash before it, keyed with a secret that
lives in the settings, not in the database: whoever can write to the database cannot recompute a
rewritten chain. `EVENT_CHAIN_KEY` sets it; without it the key is derived from `SECRET_KEY`, and
the derivations of `SECRET_KEY_FALLBACKS` still verify events written before a key rotation.
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac


def _derived(secret: str) -> bytes:
    return salted_hmac("signatories.event-chain", "key", secret=secret, algorithm="sha256").digest()


def signing_key() -> bytes:
    """The key new events are hashed with."""
    explicit = getattr(settings, "EVENT_CHAIN_KEY", "")
    return explicit.encode() if explicit else _derived(settings.SECRET_KEY)


def verifying_keys() -> list[bytes]:
    """Every key an event may have been hashed with: the current one first."""
    keys = [signing_key()]
    keys += [_derived(secret) for secret in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return keys


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(payload: dict[str, Any], key: bytes | None = None) -> str:
    return hmac.new(key or signing_key(), canonical(payload), hashlib.sha256).hexdigest()


def matches(payload: dict[str, Any], expected: str) -> bool:
    encoded = canonical(payload)
    return any(
        hmac.compare_digest(hmac.new(key, encoded, hashlib.sha256).hexdigest(), expected)
        for key in verifying_keys()
    )
