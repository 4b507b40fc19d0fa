"""Accounts: signed in by an emailed code, never given a password, never signed up for.

Staff accounts are made by staff. A member contact's account is made the first time a code is
asked for an address that reaches them (coalition/crm/portal/services.py): only addresses staff put
on file ever get a code, and an unknown one gets the same answer as a known one.

Limits on logging in count per client, never per account alone: a limit that anyone can use up
for someone else's address is a way to lock that person out.

No password opens anything: the one authentication backend authenticates nobody (allauth logs a
person in itself once their code, and second factor, are right), and the one password hasher
keeps no password and verifies none.
"""

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.forms import ConfirmLoginCodeForm, LoginForm, RequestLoginCodeForm
from allauth.account.models import EmailAddress
from allauth.core import context, ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import BasePasswordHasher, make_password
from django.contrib.auth.models import Group
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from coalition.core import deliveries
from coalition.core.addresses import readable_host
from coalition.crm.errors import CoalitionError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LOGIN_CODE_EMAIL = "account/email/login_code"
UNKNOWN_ACCOUNT_EMAIL = "account/email/unknown_account"


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by staff, never by visitors; nobody sets a password."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        # Every allauth flow that writes a password (reset, change, set) ends here; the URLs are
        # closed too (coalition/project/urls.py), this holds if one ever opens again.
        raise PermissionDenied("Accounts sign in by emailed code and have no password.")

    def send_mail(self, template_prefix: str, email: str, extra: dict[str, Any]) -> None:
        """Rendered in the request, sent by the task worker through the outbox, once: no request
        waits on the mail server.

        An address on file for nobody comes here as allauth's "unknown account" email: it gets a
        sign-in code email rendered and queued like anyone's, addressed to nobody, so that the
        answer to a known and an unknown address reads the same and takes the same work.
        """
        recipients = [email]
        if template_prefix == UNKNOWN_ACCOUNT_EMAIL:
            template_prefix, recipients = LOGIN_CODE_EMAIL, []
            extra = extra | {"code": self.generate_login_code(), "reauthentication": False}
        request = context.request
        message = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                # The site's own name and address, not the host the request came in by.
                "site_name": settings.WAGTAIL_SITE_NAME,
                "site_url": settings.SITE_URL,
            }
            | extra,
        )
        message.to = recipients
        deliveries.queue_rendered(
            message, job=f"account:{template_prefix.rpartition('/')[2]}", regarding=email
        )

    def format_email_subject(self, subject: str) -> str:
        return f"{settings.WAGTAIL_SITE_NAME}: {subject}"

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
        from coalition.crm.portal.services import address_for_login_code

        return address_for_login_code(super().clean_login())

    def _clean_without_password(self, email: str | None, phone: str | None) -> dict[str, Any]:
        # allauth would check the address with its own lookup: ours, as on the code page.
        if not email:
            self.add_error("login", get_adapter().validation_error("invalid_login"))
            return self.cleaned_data
        try:
            self.user = account_for_login_code(email)
        except ValidationError as error:
            self.add_error("login", error)
        return self.cleaned_data


class ContactLoginCodeRequestForm(RequestLoginCodeForm):
    """The page asking for a sign-in code: a known contact's account is made on the way."""

    def clean_email(self) -> str:
        from coalition.crm.portal.services import address_for_login_code

        email: str = self.cleaned_data["email"]
        if email:
            email = address_for_login_code(email)
            self._user = account_for_login_code(email)
        return email


def account_for_login_code(address: str) -> AbstractBaseUser | None:
    """The account a sign-in code asked for `address` goes to, if any: found by the same two
    reads whether or not anyone has the address, so that the answer takes as long either way.

    allauth's own lookup (filter_users_by_email) skips its second read once a verified address
    is found; this one prefers a verified address in the same way and reads both tables always.
    """
    request = context.request
    if not ratelimit.consume(request, action="request_login_code", key=address.lower()):
        raise get_adapter(request).validation_error("too_many_login_attempts")
    recorded = list(EmailAddress.objects.filter(email__iexact=address).select_related("user"))
    on_accounts = list(get_user_model().objects.filter(email__iexact=address))
    verified = [row.user for row in recorded if row.verified]
    candidates = verified or [row.user for row in recorded] + on_accounts
    return next((user for user in candidates if user.is_active), None)


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


class NoPasswordBackend(ModelBackend):
    """Permissions as Django's ModelBackend reads them (Wagtail asks through the backends); no
    credentials at all authenticate anyone.

    allauth logs a person in once the emailed code (and a second factor) is right, naming this
    backend; nothing ever signs in through authenticate(), so a form that posts a username and a
    password (Django's, Wagtail's, allauth's) finds nobody.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **credentials: Any,
    ) -> None:
        return None


class NoPasswordHasher(BasePasswordHasher):
    """The only password hasher: a password set is kept as an unusable one, and none verifies.

    Everything that sets a password (set_password, a management command, a form) goes through
    make_password(), so no account ever stores a usable one; a hash written by another hasher
    (left from before, or put in by hand) names an algorithm Django no longer knows, so
    check_password() refuses it.
    """

    algorithm = "no-password"

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        return make_password(None)

    def decode(self, encoded: str) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "hash": "", "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        return False

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        return {"algorithm": self.algorithm}

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None


class AccountError(CoalitionError):
    """An account that cannot be made as asked."""


def account_address(address: str) -> str:
    """An address as accounts keep it: trimmed, in one Unicode form, its host in lower case and
    in the script it is written in ("jane@xn--bcher-kva.example" is kept as
    "jane@bücher.example"), which is how allauth compares the address typed to sign in (lowered)."""
    address = unicodedata.normalize("NFC", address.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local}@{readable_host(domain.lower())}"


def create_staff(*, email: str, groups: Sequence[str] = ()) -> "User":
    """Make a staff account that signs in by a code emailed to `email`, with no password.

    Without groups it is a superuser, as the first account of an installation must be (it adds
    the others, and their groups, in the admin); with groups, a member of those alone. As staff
    made in the admin, the address is recorded for allauth unverified, until the first code is
    typed, so that the first sign-in can go on to add a second factor.
    """
    address = account_address(email)
    try:
        validate_email(address)
    except ValidationError:
        raise AccountError(f"Email: “{address}” is not an email address.") from None
    users = get_user_model().objects
    spellings = Q(email__iexact=address) | Q(email__iexact=_ascii_spelling(address))
    if users.filter(spellings).exists() or EmailAddress.objects.filter(spellings).exists():
        raise AccountError(f"Email: an account with the address {address} exists already.")
    username = address[:150]  # the column's length; Wagtail shows it beside the name
    if users.filter(username__iexact=username).exists():
        raise AccountError(f"Email: an account with the username {username} exists already.")
    found = list(Group.objects.filter(name__in=groups))
    missing = sorted(set(groups) - {group.name for group in found})
    if missing:
        there = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
        raise AccountError(
            f"Group: there is no group {', '.join(f'“{name}”' for name in missing)} "
            f"(the groups are: {there})."
        )
    with transaction.atomic():
        if groups:
            user = users.create_user(username=username, email=address, password=None)
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.set(found)
        else:
            user = users.create_superuser(username=username, email=address, password=None)
        EmailAddress.objects.create(user=user, email=address, primary=True, verified=False)
    return user


def _ascii_spelling(address: str) -> str:
    """The address with its host in IDNA ("xn--…"), as an account made elsewhere may hold it."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address
