"""Staff accounts: created by staff, signed in by an emailed code, never given a password.

Limits on logging in count per client, never per account alone: a limit that anyone can use up
for someone else's address is a way to lock that person out.
"""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.forms import ConfirmLoginCodeForm
from allauth.core import context, ratelimit
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by staff, never by visitors; nobody sets a password."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        # Every allauth flow that writes a password (reset, change, set) ends here; the URLs are
        # closed too (coalition/urls.py), this holds if one ever opens again.
        raise PermissionDenied("Accounts sign in by emailed code and have no password.")


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
