"""Limits on what strangers may ask of the signer pages, counted in the shared cache.

Rates read like allauth's: "10/h/ip,3/h/address" allows ten requests an hour from one network
address and three an hour for one mailbox. The cache must be shared between processes in
production (Redis through CACHE_URL), or each process counts on its own. The network address is
the client's as allauth sees it (behind a load balancer: ALLAUTH_TRUSTED_PROXY_COUNT); an IPv6
client counts by its /64, since it holds the whole of it.
"""

import hashlib
import ipaddress
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coalition.crm.accounts import client_ip

from .errors import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^(?P<count>\d+)/(?P<amount>\d*)(?P<unit>[smhd])/(?P<key>\w+)$")

DEFAULT_RATES = {
    # Asking to sign, as an organization or a person: each sends a confirmation email.
    "open_link": "20/h/ip,3/h/address",
    # Passing an invitation to a colleague: each sends an email with a new link.
    "forward": "10/h/ip,5/d/invitation",
    # Every POST of an invited person's page and of a signer's own link (sign, decline, withdraw,
    # reconfirm...): generous for a meeting signing from one network, yet a leaked link cannot be
    # driven to sign and withdraw, each with its emails, without end.
    "sign": "120/h/ip,20/h/link",
    # Comments and suggested wording on a shared draft: each is a row staff read and may be
    # emailed about; a reader going through a letter comments on a dozen passages in an hour.
    "suggest": "60/h/ip,30/h/link",
    # Checking a copy of a letter's PDF on /verify/: each upload is read and hashed.
    "verify": "60/h/ip",
    # The email provider's tracking webhooks (signatories.webhooks), per sending address: a
    # provider posts an event or a batch at a time, a few for each email; past this, a flood.
    "webhook": "600/m/ip",
}

MESSAGES = {
    "ip": "Too many requests in a short time; please wait a while and try again.",
    "address": "This address has made too many requests in a short time; "
    "please wait a while and try again.",
    "invitation": "Too many requests for this invitation in a short time; "
    "please wait a while and try again.",
    "link": "Too many requests through this link in a short time; "
    "please wait a while and try again.",
}

type View = Callable[..., HttpResponse]


def _parse(action: str, spec: str) -> list[tuple[int, int, str]]:
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = RATE.match(part)
        if match is None:
            raise ImproperlyConfigured(f"SIGN_ON_RATE_LIMITS[{action!r}]: cannot read {part!r}")
        period = int(match["amount"] or 1) * PERIODS[match["unit"]]
        rules.append((int(match["count"]), period, match["key"]))
    return rules


def _rules(action: str) -> list[tuple[int, int, str]]:
    spec = {**DEFAULT_RATES, **getattr(settings, "SIGN_ON_RATE_LIMITS", {})}.get(action, "")
    return _parse(action, spec)


# A rate that cannot be read stops the process at start, not the first signer who meets it.
for _action, _spec in getattr(settings, "SIGN_ON_RATE_LIMITS", {}).items():
    _parse(_action, _spec)


def _network(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def consume(action: str, **keys: str | None) -> None:
    """Count one more `action` for each key given (ip=…, address=…); refuse when one is over."""
    for count, period, name in _rules(action):
        value = keys.get(name)
        if not value:
            continue
        if name == "ip":
            value = _network(value)
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
            raise RateLimited(MESSAGES.get(name, MESSAGES["ip"]), retry_after=period)


def limit_posts(action: str) -> Callable[[View], View]:
    """Count a signer page's POSTs per client and per link (its token) before the view runs."""

    def decorate(view: View) -> View:
        @wraps(view)
        def limited(
            request: HttpRequest, token: str, *args: object, **kwargs: object
        ) -> HttpResponse:
            if request.method == "POST":
                try:
                    consume(action, ip=client_ip(request), link=token)
                except RateLimited as error:
                    response = render(
                        request,
                        "signatories/rate_limited.html",
                        {"message": error.message},
                        status=429,
                    )
                    response["Retry-After"] = str(error.retry_after)
                    return response
            return view(request, token, *args, **kwargs)

        return limited

    return decorate
