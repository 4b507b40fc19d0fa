"""Staff MFA: staff enrol an authenticator app (or a passkey), allauth asks for it after the
emailed code, and with STAFF_MFA_REQUIRED no door of the admin opens without one."""

import re
import secrets
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from bs4 import BeautifulSoup
from django.urls import reverse

from coalition.core.mfa import ENROL_FIRST, must_enrol
from tests.factories import OrganizationFactory, StaffFactory, make_letter
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

MFA_INDEX = "/accounts/2fa/"


@pytest.fixture
def required(settings):
    settings.STAFF_MFA_REQUIRED = True


@pytest.fixture
def staff_address(staff):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    return staff


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (not in the last second of its 30-second step,
    so that it is still the current one when the server checks it)."""
    if 30 - time.time() % 30 < 1.5:
        time.sleep(1.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def a_wrong_code(secret: str) -> str:
    return format_hotp_value((int(totp_code(secret)) + 1) % 1_000_000)


def emailed_code(mailoutbox) -> str:
    return re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mailoutbox[-1].body).group(0)


def log_in_by_code(client, user, mailoutbox):
    """The emailed-code login up to the code: the response to posting it."""
    response = client.post(reverse("account_request_login_code"), {"email": user.email})
    assert response.status_code == 302
    return client.post(response["Location"], {"code": emailed_code(mailoutbox)})


def enrol_authenticator_app(client, user, mailoutbox) -> str:
    """Activate TOTP as a signed-in user would: allauth first asks to confirm who they are (by
    another emailed code), then for a code from the app. Returns the app's secret."""
    activate = reverse("mfa_activate_totp")
    response = client.get(activate)
    assert response.status_code == 302  # adding a factor needs a fresh proof of identity
    response = client.post(response["Location"], {"recipient": user.email, "next": activate})
    response = client.post(response["Location"], {"code": emailed_code(mailoutbox)})
    assert response["Location"] == activate
    page = client.get(activate)
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    assert secret in page.content.decode()  # shown beside the QR code, for typing in
    response = client.post(activate, {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_staff_enrol_an_app_then_sign_in_with_the_emailed_code_and_the_app(
    client, staff_address, mailoutbox, required
):
    staff = staff_address
    log_in_by_code(client, staff, mailoutbox)

    # Signed in, but the admin waits for a second factor.
    response = client.get("/admin/")
    assert response["Location"] == MFA_INDEX
    overview = client.get(MFA_INDEX)
    assert ENROL_FIRST in overview.content.decode()

    secret = enrol_authenticator_app(client, staff, mailoutbox)

    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert 'href="/admin/"' in codes.content.decode()  # the way back
    assert client.get("/admin/").status_code == 200

    # Next time: the emailed code, then the app's code.
    client.post(reverse("account_logout"))
    response = log_in_by_code(client, staff, mailoutbox)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)

    refused = client.post(reverse("mfa_authenticate"), {"code": a_wrong_code(secret)})
    assert refused.status_code == 200
    assert "Incorrect code." in refused.content.decode()
    assert not is_signed_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_can_add_a_passkey_instead(client, staff_address, mailoutbox, required):
    """The security key page loads allauth's scripts from the site itself: the page's content
    policy (no inline script) lets them run."""
    log_in_by_code(client, staff_address, mailoutbox)
    add = reverse("mfa_add_webauthn")
    response = client.get(add)
    response = client.post(response["Location"], {"recipient": staff_address.email, "next": add})
    client.post(response["Location"], {"code": emailed_code(mailoutbox)})

    page = client.get(add)

    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.find(id="mfa_webauthn_add").get_text(strip=True) == "Add"
    scripts = [tag["src"] for tag in soup.find_all("script", src=True)]
    assert "/static/mfa/js/webauthn.js" in scripts
    assert all(tag.get("type") == "application/json" for tag in soup.find_all("script", src=False))
    assert "script-src" not in page["Content-Security-Policy"]  # default-src 'self' applies


def test_without_the_second_factor_the_sign_in_does_not_finish(client, staff_address, mailoutbox):
    """Not only when staff must have one: whoever has enrolled one is always asked for it."""
    TOTP.activate(staff_address, generate_totp_secret())

    response = log_in_by_code(client, staff_address, mailoutbox)

    assert response["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/accounts/login/")
    assert client.get("/admin/sign-ons/")["Location"].startswith("/accounts/login/")


def admin_doors() -> list[tuple[str, str]]:
    return [
        ("GET", "dashboard"),
        ("GET", "page editor"),
        ("POST", "page preview"),
        ("GET", "page preview"),
        ("GET", "draft view"),
        ("GET", "organizations viewset"),
        ("GET", "letter listing"),
        ("GET", "sign-ons"),
        ("GET", "review queue"),
        ("GET", "admin API"),
        ("GET", "account settings"),
        ("GET", "an unknown admin address"),
    ]


@pytest.fixture
def door_urls(db) -> dict[str, str]:
    letter = make_letter(live=False)
    organization = OrganizationFactory()
    return {
        "dashboard": reverse("wagtailadmin_home"),
        "page editor": reverse("wagtailadmin_pages:edit", args=[letter.pk]),
        "page preview": reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk]),
        "draft view": reverse("wagtailadmin_pages:view_draft", args=[letter.pk]),
        "organizations viewset": reverse("coalition_organizations:edit", args=[organization.pk]),
        "letter listing": reverse("letter_listing:index"),
        "sign-ons": reverse("signatories_admin:index"),
        "review queue": reverse("signatories_admin:review"),
        "admin API": "/admin/api/main/pages/",
        "account settings": reverse("wagtailadmin_account"),
        "an unknown admin address": "/admin/no-such-thing/",
    }


@pytest.mark.parametrize(("method", "door"), admin_doors())
def test_every_admin_door_sends_staff_without_a_second_factor_to_enrol(
    method, door, door_urls, staff_client, required
):
    response = getattr(staff_client, method.lower())(door_urls[door])

    assert response.status_code == 302
    assert response["Location"] == MFA_INDEX


@pytest.mark.parametrize(("method", "door"), admin_doors())
def test_every_admin_door_opens_once_a_second_factor_is_enrolled(
    method, door, door_urls, staff, staff_client, required
):
    TOTP.activate(staff, generate_totp_secret())

    response = getattr(staff_client, method.lower())(door_urls[door])

    assert response.get("Location") != MFA_INDEX
    expected = 404 if door == "an unknown admin address" else 200
    assert response.status_code == expected, door


@pytest.mark.parametrize("door", ["dashboard", "page editor", "sign-ons"])
def test_nothing_is_asked_when_it_is_not_required(door, door_urls, staff, staff_client, settings):
    settings.STAFF_MFA_REQUIRED = False

    assert staff_client.get(door_urls[door]).status_code == 200
    assert not must_enrol(staff)


def test_a_passkey_counts_as_the_second_factor(staff, staff_client, required):
    """A security key or passkey is enough (no app needed); recovery codes alone are not."""
    Authenticator.objects.create(user=staff, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert staff_client.get("/admin/")["Location"] == MFA_INDEX

    Authenticator.objects.create(
        user=staff, type=Authenticator.Type.WEBAUTHN, data={"name": "Laptop key"}
    )
    assert staff_client.get("/admin/").status_code == 200


def test_a_contact_signs_in_without_being_asked_for_a_second_factor(
    client, member_user, mailoutbox, required
):
    EmailAddress.objects.create(
        user=member_user, email=member_user.email, primary=True, verified=True
    )

    response = log_in_by_code(client, member_user, mailoutbox)

    assert response.status_code == 302
    assert response["Location"] != reverse("mfa_authenticate")
    assert is_signed_in(client)
    assert not must_enrol(member_user)
    # The admin stays Wagtail's to refuse: no enrolment page for someone who may not enter.
    assert client.get("/admin/").get("Location") != MFA_INDEX
    assert client.get(MFA_INDEX).status_code == 200  # reachable, never imposed


def test_the_admin_account_page_leads_to_the_two_factor_pages(staff, staff_client):
    page = BeautifulSoup(staff_client.get(reverse("wagtailadmin_account")).content, "html.parser")

    panel = page.find(id="two_factor-section")
    assert "No second factor is enrolled" in panel.get_text(" ", strip=True)
    assert panel.find("a", href=MFA_INDEX).get_text(strip=True) == (
        "Manage two-factor authentication"
    )
    more_actions = page.find(id="tab-actions")
    assert more_actions.find("a", href=MFA_INDEX).get_text(strip=True) == (
        "Two-factor authentication"
    )

    TOTP.activate(staff, generate_totp_secret())
    page = BeautifulSoup(staff_client.get(reverse("wagtailadmin_account")).content, "html.parser")
    assert "An authenticator app is enrolled" in page.find(id="two_factor-section").get_text()


def test_saving_the_account_page_still_works_beside_the_two_factor_panel(staff, staff_client):
    response = staff_client.post(
        reverse("wagtailadmin_account"),
        {
            "name_email-first_name": "Dana",
            "name_email-last_name": "Okafor",
            "name_email-email": staff.email,
            "theme-theme": "system",
            "theme-density": "default",
            "theme-contrast": "system",
            "theme-keyboard_shortcuts": "on",
        },
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.first_name == "Dana"


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({"DEBUG": "0"}, "True"),
        ({"DEBUG": "0", "STAFF_MFA_REQUIRED": "0"}, "False"),
        ({"DEBUG": "1"}, "False"),
    ],
)
def test_mfa_is_required_by_default_in_production_only(env, required):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.STAFF_MFA_REQUIRED)",
        SECRET_KEY=secrets.token_urlsafe(50),
        CACHE_URL="redis://127.0.0.1:6379/1",
        **env,
    )

    assert result.stdout.strip().splitlines()[-1] == required, result.stderr


def test_an_authenticator_secret_is_stored_encrypted_and_still_gives_codes(settings, db):
    from allauth.mfa.adapter import get_adapter as get_mfa_adapter
    from allauth.mfa.totp.internal.auth import TOTP

    staff = StaffFactory(username="keeper", email="keeper@example.org")
    secret = generate_totp_secret()
    totp = TOTP.activate(staff, secret)

    stored = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    assert stored.startswith("fernet:") and secret not in stored
    assert TOTP(Authenticator.objects.get(pk=totp.instance.pk)).validate_code(totp_code(secret))

    # The secret key rotated, the old one kept among the fallbacks: the secret still reads.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert get_mfa_adapter().decrypt(stored) == secret


def test_staff_made_in_the_admin_can_still_add_a_second_factor(client, db, mailoutbox, settings):
    """An account made in Wagtail's Users page has its address on the user row only. Before,
    allauth then offered no way to confirm who was there, and adding a factor was a 403:
    with MFA required, such staff were locked out of the admin for good."""
    settings.STAFF_MFA_REQUIRED = True
    staff = StaffFactory(username="newcomer", email="newcomer@example.org")
    assert not EmailAddress.objects.filter(user=staff).exists()

    assert log_in_by_code(client, staff, mailoutbox).status_code == 302
    assert EmailAddress.objects.get(user=staff).verified  # the code proved the address

    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_request_reauthentication_code"))
