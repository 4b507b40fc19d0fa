"""Errors to Sentry, when SENTRY_DSN names a project (settings.py calls `init`).

Nothing personal or secret leaves the site with a report: no user, cookie, request body or
local variable (the CRM's rows and the signers' names and addresses pass through them), no
query string, no Referer, and the links that are keys in themselves (a signer's token, a
press contact's, an email confirmation's) reach Sentry with the token replaced.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

# Path parameters that open something by themselves: a report shows the route, not the key.
SECRET_PARAMETERS = frozenset({"token", "key"})
# Shorter than any key the site makes: a value this short opens nothing, and replacing it
# everywhere in the path would hide the route.
SHORTEST_KEY = 8
FILTERED = "[Filtered]"
# Request headers that carry a session or the address of the page before (a signer's link).
DROPPED_HEADERS = frozenset({"cookie", "authorization", "referer", "x-csrftoken"})


def init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,  # None: sentry-sdk finds one (SENTRY_RELEASE, the git commit)
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
        before_send=scrub,
        # Performance traces (SENTRY_TRACES_SAMPLE_RATE) carry the request too.
        before_send_transaction=scrub,
    )
    # A request for a host not in ALLOWED_HOSTS is a stranger's probe, answered 400: not an error
    # of ours, and scanners send thousands.
    ignore_logger("django.security.DisallowedHost")


def scrub(event: "Event", hint: "Hint") -> "Event":
    """The report with the request's secrets taken out (see the module's docstring)."""
    request: Any = event.get("request")
    if isinstance(request, dict):
        for field in ("query_string", "data", "cookies"):
            request.pop(field, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name in [name for name in headers if name.lower() in DROPPED_HEADERS]:
                del headers[name]
        if isinstance(request.get("url"), str):
            request["url"] = without_secrets(request["url"])
    return event


def without_secrets(url: str) -> str:
    """The URL with the value of each secret path parameter replaced, and no query string."""
    from django.urls import Resolver404, resolve

    parts = urlsplit(url)
    path = parts.path
    try:
        match = resolve(path)
    except Resolver404:  # no route: no parameter to hide
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    except Exception:  # read no further: without its path, the report still goes
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    for name, value in match.kwargs.items():
        if name in SECRET_PARAMETERS and len(str(value)) >= SHORTEST_KEY:
            path = path.replace(str(value), FILTERED)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
