"""Staff sign in with a second factor: an authenticator app or a passkey (allauth's MFA).

allauth asks for the second factor at login once one is enrolled, after the emailed code; it
never requires one. With STAFF_MFA_REQUIRED on (the default when DEBUG is off), the admin opens
only to staff who have enrolled one: a request anywhere under the admin's prefix (the dashboard,
the page editor and its previews, the viewsets, the sign-on views) is sent to enrol first, so no
door of the admin is left open by forgetting to decorate it.
"""

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from cryptography.fernet import Fernet, MultiFernet
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from wagtail.admin.views.account import BaseSettingsPanel

# Recovery codes alone do not count: they are a way back in when the factor is lost, and allauth
# asks for a code at login only when an app or a key is enrolled.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]

ENROL_FIRST = (
    "The admin opens once your account has a second factor. Activate an authenticator app, "
    "or add a security key or passkey; you will be asked for it each time you sign in."
)


class MFAAdapter(DefaultMFAAdapter):
    """Authenticator secrets (the TOTP key, the recovery codes' seed) are stored encrypted.

    Fernet, with a key derived from SECRET_KEY: a copy of the database alone does not give
    anyone the codes. Keys in SECRET_KEY_FALLBACKS still decrypt, so the secret key can be
    rotated as Django rotates it; a secret stored before encryption was on reads as it is.
    """

    PREFIX = "fernet:"

    def encrypt(self, text: str) -> str:
        return self.PREFIX + _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(self.PREFIX):
            return encrypted_text
        return _fernet().decrypt(encrypted_text.removeprefix(self.PREFIX).encode()).decode()


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_key(secret)) for secret in keys])


def _key(secret: str) -> bytes:
    digest = hashlib.sha256(b"coalition.core.mfa.secrets:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def has_second_factor(user: Any) -> bool:
    return bool(is_mfa_enabled(user, SECOND_FACTORS))


def must_enrol(user: Any) -> bool:
    """Whether the admin stays closed to this user until they enrol a second factor."""
    return (
        settings.STAFF_MFA_REQUIRED
        and user.is_authenticated
        and user.has_perm("wagtailadmin.access_admin")
        and not has_second_factor(user)
    )


class RequireStaffMFA:
    """Sends staff without a second factor from any admin URL to allauth's enrolment pages.

    Listed after the authentication and message middleware, which it reads.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(reverse("wagtailadmin_home")) and must_enrol(request.user):
            messages.warning(request, ENROL_FIRST)
            return redirect("mfa_index")
        return self.get_response(request)


class TwoFactorSettingsPanel(BaseSettingsPanel):
    """The admin's account page says whether a second factor is enrolled, and where to manage it.

    Nothing is saved through this panel: enrolment happens on allauth's pages, which check the
    user's identity again before a factor is added or removed.
    """

    name = "two_factor"
    title = "Two-factor authentication"
    order = 150
    template_name = "mfa/account_panel.html"

    def get_form(self) -> forms.Form:
        # Never bound: the account view saves every bound panel form, and this one has nothing.
        return forms.Form(prefix=self.name)

    def get_context_data(self) -> dict[str, Any]:
        kinds = set(
            Authenticator.objects.filter(user_id=self.user.pk).values_list("type", flat=True)
        )
        return {
            "has_app": Authenticator.Type.TOTP in kinds,
            "has_key": Authenticator.Type.WEBAUTHN in kinds,
            "required": settings.STAFF_MFA_REQUIRED,
            "manage_url": reverse("mfa_index"),
        }


def account_menu_item(request: HttpRequest) -> dict[str, str]:
    """The link on the admin account page's "More actions" tab."""
    return {
        "url": reverse("mfa_index"),
        "label": "Two-factor authentication",
        "help_text": "Add or remove an authenticator app, a security key or passkey, "
        "and your recovery codes.",
    }
