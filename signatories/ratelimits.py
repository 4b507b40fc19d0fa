"""Limits on what strangers may ask of the open link, counted in the shared cache.

Rates read like allauth's: "10/h/ip,3/h/address" allows ten requests an hour from one network
address and three an hour for one mailbox. The cache must be shared between processes in
production (Redis through CACHE_URL), or each process counts on its own.
"""

import hashlib
import re

from django.conf import settings
from django.core.cache import cache

from .errors import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^(?P<count>\d+)/(?P<amount>\d*)(?P<unit>[smhd])/(?P<key>\w+)$")

DEFAULT_RATES = {
    # Asking to sign, as an organization or a person: each sends a confirmation email.
    "open_link": "20/h/ip,3/h/address",
    # Passing an invitation to a colleague: each sends an email with a new link.
    "forward": "10/h/ip,5/d/invitation",
}


def _rules(action: str) -> list[tuple[int, int, str]]:
    spec = {**DEFAULT_RATES, **getattr(settings, "SIGN_ON_RATE_LIMITS", {})}.get(action, "")
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = RATE.match(part)
        if match is None:
            raise ValueError(f"SIGN_ON_RATE_LIMITS[{action!r}]: cannot read {part!r}")
        period = int(match["amount"] or 1) * PERIODS[match["unit"]]
        rules.append((int(match["count"]), period, match["key"]))
    return rules


def consume(action: str, **keys: str | None) -> None:
    """Count one more `action` for each key given (ip=…, address=…); refuse when one is over."""
    for count, period, name in _rules(action):
        value = keys.get(name)
        if not value:
            continue
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        key = f"signatories:rl:{action}:{name}:{period}:{digest}"
        # add() starts the window; incr() counts within it, atomically on Redis.
        cache.add(key, 0, timeout=period)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=period)
            used = 1
        if used > count:
            raise RateLimited(
                "Too many requests in a short time; please wait a while and try again."
                if name == "ip"
                else "This address has made too many requests in a short time; "
                "please wait a while and try again."
            )
