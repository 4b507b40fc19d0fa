"""The email provider's tracking webhooks (django-anymail), mounted at /anymail/<provider>/tracking/,
and what their events do: move a letter delivery's status (signatories.services).

Anymail's own views check each request: the basic auth of ANYMAIL["WEBHOOK_SECRET"] (from the
environment, ANYMAIL_WEBHOOK_SECRET), and the provider's signature where it signs (Mailgun,
ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY); a wrong one answers 400 and reaches no receiver. Around
them, each door here:

- opens only for a provider this site is set up for: one whose settings are missing (no signing
  key; no shared secret where basic auth is all it has, which anymail would accept from anyone
  with a warning) answers 404;
- counts POSTs per client address (the "webhook" rate of SIGN_ON_RATE_LIMITS): a flood is
  answered 429 with Retry-After, which every provider takes as "try again later".

Only tracking is mounted: nothing here reads inbound mail.
"""

import logging
import re
import warnings
from typing import Any

from anymail import urls as anymail_urls
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
    AnymailInsecureWebhookWarning,
)
from anymail.signals import AnymailTrackingEvent
from anymail.webhooks.base import AnymailBasicAuthMixin, AnymailCoreWebhookView
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

from coalition.crm.accounts import client_ip

from . import ratelimits, services
from .errors import RateLimited

logger = logging.getLogger(__name__)

OUTBOX_KEY = re.compile(r"^[0-9a-f]{64}$")


def record_tracking_event(
    sender: type, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """A provider's event about an email: kept with its letter delivery, if it is one's."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    key = metadata.get("outbox_key")
    if not isinstance(key, str) or not OUTBOX_KEY.match(key):
        return  # an email of the outbox's other jobs, or of another system: nothing to record
    services.record_provider_event(
        outbox_key=key,
        provider=esp_name,
        event_type=str(event.event_type),
        event_id=str(event.event_id) if event.event_id else None,
        occurred_at=event.timestamp,
        description=str(event.description or event.mta_response or event.reject_reason or ""),
    )


def _configured(view_class: type[AnymailCoreWebhookView]) -> bool:
    """Whether the provider's webhook is set up here: its view can be made from the settings,
    and it has the shared secret where basic auth is its only check."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
            view = view_class()
    except (AnymailConfigurationError, AnymailImproperlyInstalled, ImproperlyConfigured):
        return False
    if isinstance(view, AnymailBasicAuthMixin) and view.warn_if_no_basic_auth:
        return bool(view.basic_auth)
    return True


def guarded(pattern: URLPattern) -> URLPattern:
    """Anymail's view at its own address and name, opened only where set up, and rate limited."""
    view_class: type[AnymailCoreWebhookView] = pattern.callback.view_class  # type: ignore[attr-defined]
    real = pattern.callback

    @csrf_exempt
    def webhook(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _configured(view_class):
            raise Http404(f"No {view_class.esp_name} webhook is set up on this site.")
        if request.method == "POST":
            try:
                ratelimits.consume("webhook", ip=client_ip(request))
            except RateLimited as error:
                refused = HttpResponse(error.message, status=429, content_type="text/plain")
                refused["Retry-After"] = str(error.retry_after)
                return refused
        try:
            answered: HttpResponse = real(request, *args, **kwargs)
        except (AnymailConfigurationError, AnymailImproperlyInstalled) as error:
            # A setting it reads only when a request comes (Mandrill's key): not set up either.
            logger.warning("The %s webhook is not set up: %s", view_class.esp_name, error)
            raise Http404(f"No {view_class.esp_name} webhook is set up on this site.") from None
        return answered

    webhook.view_class = view_class  # type: ignore[attr-defined]
    return URLPattern(pattern.pattern, webhook, pattern.default_args, pattern.name)


app_name = "anymail"
urlpatterns = [
    guarded(pattern)
    for pattern in anymail_urls.urlpatterns
    if isinstance(pattern, URLPattern)
    and (pattern.name or "").endswith("_tracking_webhook")
    # Brevo's old name, which anymail keeps with a deprecation warning: Brevo's own is mounted.
    and pattern.name != "sendinblue_tracking_webhook"
]
