"""Accounts: signed in by an emailed code, never given a password, never signed up for.

Staff accounts are made by staff. A member contact's account is made the first time a code is
asked for an address that reaches them (coalition/portal/services.py): only addresses staff put
on file ever get a code, and an unknown one gets the same answer as a known one.

Limits on logging in count per client, never per account alone: a limit that anyone can use up
for someone else's address is a way to lock that person out.
"""

from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.forms import ConfirmLoginCodeForm, LoginForm, RequestLoginCodeForm
from allauth.core import context, ratelimit
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by staff, never by visitors; nobody sets a password."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        # Every allauth flow that writes a password (reset, change, set) ends here; the URLs are
        # closed too (coalition/urls.py), this holds if one ever opens again.
        raise PermissionDenied("Accounts sign in by emailed code and have no password.")

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Staff to the admin, everyone else (member contacts) to the member portal."""
        if _has_admin_access(request.user):
            return super().get_login_redirect_url(request)
        return reverse("portal:home")

    def is_safe_url(self, url: str) -> bool:
        if not super().is_safe_url(url):
            return False
        # The admin sends a signed-in user without access back to sign in, with itself as the
        # next address, which would send them to the admin again: a loop. They go to the portal.
        user = getattr(context.request, "user", None)
        if user is not None and user.is_authenticated and not _has_admin_access(user):
            return not urlsplit(url).path.startswith(reverse("wagtailadmin_home"))
        return True


def _has_admin_access(user: Any) -> bool:
    return bool(user.has_perm("wagtailadmin.access_admin"))


class ContactLoginForm(LoginForm):
    """The sign-in page: an address, to which a code is sent (there is no password field)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "remember" in self.fields:
            self.fields["remember"].label = "Keep me signed in on this device"

    def clean_login(self) -> str:
        # Imported here: the sign-on app imports this module (client_ip), and the portal reads it.
        from coalition.portal.services import address_for_login_code

        return address_for_login_code(super().clean_login())


class ContactLoginCodeRequestForm(RequestLoginCodeForm):
    """The page asking for a sign-in code: a known contact's account is made on the way."""

    def clean_email(self) -> str:
        from coalition.portal.services import address_for_login_code

        email = self.cleaned_data.get("email")
        if email:
            self.cleaned_data["email"] = address_for_login_code(email)
        return super().clean_email()


class LoginCodeForm(ConfirmLoginCodeForm):
    """The emailed code, typed in: wrong ones are counted per client, across every address.

    allauth allows three tries per code in the session that asked for it; a client that asks
    again and again, for one address or many, is stopped here (`login_code_failed` in
    ACCOUNT_RATE_LIMITS), and then not even a right code from it is taken.
    """

    def clean_code(self) -> str:
        request = context.request
        if not ratelimit.consume(request, action="login_code_failed", dry_run=True):
            raise get_adapter(request).validation_error("too_many_login_attempts")
        try:
            code: str = super().clean_code()
        except ValidationError:
            ratelimit.consume(request, action="login_code_failed")
            raise
        return code


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as allauth's limits see it: honours ALLAUTH_TRUSTED_PROXY_COUNT."""
    try:
        ip: Any = get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all (a request made up in code)
        return None
    return str(ip)


def user_display(user: AbstractBaseUser) -> str:
    """How allauth names a person ("Signed in as …"): their name, else their address, never the
    username made up for a contact's account."""
    full_name = getattr(user, "get_full_name", lambda: "")()
    return str(full_name or getattr(user, "email", "") or user.get_username())
