"""Issue 10, security hardening: accounts, passwords, the client's address behind proxies."""

import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator as django_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

REQUEST_CODE = "/accounts/login/code/"
CONFIRM_CODE = "/accounts/login/code/confirm/"
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
ATTACKER = "203.0.113.66"


@pytest.fixture
def person(db):
    """A staff member with no password, who signs in by emailed code (as every account does)."""
    user = StaffFactory(username="pat", email="pat@example.org")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def request_code(client: Client, email: str, mailoutbox: list) -> str | None:
    """Ask for a code; the code emailed for it, or None when none was sent."""
    sent = len(mailoutbox)
    client.post(REQUEST_CODE, {"email": email})
    if len(mailoutbox) == sent:
        return None
    return CODE.search(mailoutbox[-1].body).group(0)


def wrong(code: str) -> str:
    """A well-formed code that is certainly not `code`."""
    return ("B" if code[0] == "A" else "A") + code[1:]


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Login by code: nobody can lock a person out, and wrong codes are counted per client


def test_it_failing_codes_for_a_staff_address_does_not_lock_the_person_out(person, mailoutbox):
    """Finding: a stranger failing codes for a staff address locked its owner out for minutes."""
    attacker = at(ATTACKER)
    for _ in range(6):
        code = request_code(attacker, person.email, mailoutbox)
        for _ in range(3):
            attacker.post(CONFIRM_CODE, {"code": wrong(code) if code else "AAAA-AAAA"})
    assert not is_logged_in(attacker)

    colleague = at("198.51.100.7")
    code = request_code(colleague, person.email, mailoutbox)
    assert code is not None, "the person was refused a code"
    colleague.post(CONFIRM_CODE, {"code": code})
    assert is_logged_in(colleague)


def test_it_counts_wrong_codes_per_client_across_addresses(person, mailoutbox):
    """Guessing codes for many addresses from one client stops, even on a right guess after."""
    others = [StaffFactory(username=f"staff{n}", email=f"staff{n}@example.org") for n in range(4)]
    attacker = at(ATTACKER)
    for user in others:
        code = request_code(attacker, user.email, mailoutbox)
        for _ in range(3):
            attacker.post(CONFIRM_CODE, {"code": wrong(code)})

    code = request_code(attacker, person.email, mailoutbox)
    assert code is not None
    response = attacker.post(CONFIRM_CODE, {"code": code})
    assert "Too many failed login attempts" in response.content.decode()
    assert not is_logged_in(attacker)

    # The same person from their own machine is not affected.
    own = at("198.51.100.7")
    own.post(CONFIRM_CODE, {"code": request_code(own, person.email, mailoutbox)})
    assert is_logged_in(own)


def test_it_lets_a_person_who_mistyped_ask_a_fresh_code(person, mailoutbox):
    client = at("198.51.100.7")
    code = request_code(client, person.email, mailoutbox)
    for _ in range(3):
        client.post(CONFIRM_CODE, {"code": wrong(code)})
    client.post(CONFIRM_CODE, {"code": code})  # too late: that code is spent
    assert not is_logged_in(client)

    client.post(CONFIRM_CODE, {"code": request_code(client, person.email, mailoutbox)})
    assert is_logged_in(client)


def test_it_limits_the_codes_one_client_has_mailed(person, mailoutbox):
    """Per client, so that nobody fills a mailbox from one machine."""
    rules = settings.ACCOUNT_RATE_LIMITS["request_login_code"].split(",")
    assert all(rule.endswith("/ip") for rule in rules), "no limit may count per address alone"
    limit = min(int(rule.split("/")[0]) for rule in rules)
    # A fresh session each time: one session with a code pending is sent no second code anyway.
    sent = [request_code(at(ATTACKER), person.email, mailoutbox) for _ in range(limit + 5)]
    assert len(mailoutbox) == limit
    assert sent[-5:] == [None] * 5


# ---------------------------------------------------------------------------------------------
# Passwords: nobody has one, and no page sets one


def reset_link_for(user) -> str:
    """The link allauth's reset email carries, as an attacker who read it would follow it."""
    key = default_token_generator.make_token(user)
    return f"/accounts/password/reset/key/{user_pk_to_url_str(user)}-{key}/"


def test_it_sends_no_password_reset_email(client, person, mailoutbox):
    """Finding: the reset page emailed a link that gave a passwordless account a password."""
    response = client.post("/accounts/password/reset/", {"email": person.email})

    assert mailoutbox == []
    assert response.status_code in {302, 404}
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_request_login_code"))


def test_it_sets_no_password_from_a_reset_link(client, person):
    link = reset_link_for(person)
    response = client.get(link, follow=True)
    client.post(
        response.redirect_chain[-1][0] if response.redirect_chain else link,
        {"password1": "a-long-new-password-1", "password2": "a-long-new-password-1"},
    )

    person.refresh_from_db()
    assert not person.has_usable_password()


@pytest.mark.parametrize(
    "url",
    ["/accounts/password/set/", "/accounts/password/change/"],
    ids=["set", "change"],
)
def test_it_lets_no_signed_in_person_give_themselves_a_password(client, person, url):
    client.force_login(person)
    client.post(
        url,
        {
            "oldpassword": "",
            "password1": "a-long-new-password-1",
            "password2": "a-long-new-password-1",
        },
    )

    person.refresh_from_db()
    assert not person.has_usable_password()


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/done/",
        "/accounts/password/reset/key/1-abc/",
        "/accounts/password/set/",
        "/accounts/password/change/",
        "/admin/password_reset/",
        "/admin/password_reset/done/",
        "/admin/password_reset/confirm/MQ/abc-def/",
        "/admin/password_reset/complete/",
    ],
)
def test_every_password_page_is_closed(client, path):
    response = client.get(path)

    assert response.status_code in {302, 404}
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_request_login_code"))


def test_wagtails_reset_link_sets_no_password(client, person):
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = django_token_generator.make_token(person)
    url = f"/admin/password_reset/confirm/{uid}/{token}/"
    client.post(
        url, {"new_password1": "a-long-new-password-1", "new_password2": "a-long-new-password-1"}
    )

    person.refresh_from_db()
    assert not person.has_usable_password()


def test_wagtails_account_page_offers_no_password(client, person):
    client.force_login(person)
    response = client.get(reverse("wagtailadmin_account"))
    assert response.status_code == 200
    assert 'name="password_new_password1"' not in response.content.decode()
    assert "new_password" not in response.content.decode()


@pytest.mark.parametrize("view", ["add", "edit"])
def test_wagtails_user_forms_set_no_password(client, person, view):
    client.force_login(person)
    if view == "add":
        url = reverse("wagtailusers_users:add")
        data = {"username": "newcomer", "email": "newcomer@example.org"}
    else:
        colleague = StaffFactory(username="colleague", email="colleague@example.org")
        url = reverse("wagtailusers_users:edit", args=[colleague.pk])
        data = {"username": "colleague", "email": "colleague@example.org", "is_active": "on"}
    page = client.get(url).content.decode()
    assert 'name="password1"' not in page

    client.post(
        url,
        {
            **data,
            "first_name": "New",
            "last_name": "Comer",
            "password1": "a-long-new-password-1",
            "password2": "a-long-new-password-1",
        },
    )

    # Wagtail leaves an empty password field, which no password matches.
    user = type(person).objects.get(username=data["username"])
    assert not user.check_password("a-long-new-password-1")
