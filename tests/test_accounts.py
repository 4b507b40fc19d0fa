import re

import pytest
from allauth.account.models import EmailAddress

pytestmark = pytest.mark.django_db


def test_admin_login_does_not_serve_a_password_form(client):
    response = client.get("/admin/login/?next=/admin/pages/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/pages/"
    assert client.post("/admin/login/", {"username": "a", "password": "b"}).status_code == 302


def test_anonymous_admin_visitors_are_sent_to_allauth(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signup_is_closed(client):
    response = client.get("/accounts/signup/")

    assert "Sign Up Closed" in response.content.decode() or response.status_code == 403


def test_staff_log_in_by_emailed_code(client, staff, mailoutbox):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)

    response = client.post("/accounts/login/code/", {"email": staff.email})
    assert response.status_code == 302
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mailoutbox[0].body).group(0)
    response = client.post(response["Location"], {"code": code})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_unknown_email_gets_no_mail_and_no_hint(client, mailoutbox):
    response = client.post("/accounts/login/code/", {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert mailoutbox == []


def test_a_user_without_admin_access_cannot_use_the_admin(client, member_user):
    client.force_login(member_user)

    response = client.get("/admin/")

    assert response.status_code in {302, 403}


def test_public_pages_have_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_admin_has_a_policy_of_its_own(staff_client):
    """Inline scripts, which Wagtail's admin runs; nothing from another origin."""
    response = staff_client.get("/admin/")

    assert response.status_code == 200
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


# createsuperuser: an address, and nothing else


def test_createsuperuser_asks_for_an_address_only_and_gives_no_password(monkeypatch, mailoutbox):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    answers = iter(["not an address", "admin@example.org"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    out, err = StringIO(), StringIO()

    call_command("createsuperuser", stdout=out, stderr=err)

    assert "“not an address” is not an email address" in err.getvalue()
    user = get_user_model().objects.get(email="admin@example.org")
    assert user.is_superuser and user.is_staff and user.is_active
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("admin@example.org", True, False)
    assert "no password" in out.getvalue()
    assert "/accounts/login/code/" in out.getvalue()


def test_the_superuser_made_signs_in_by_code_and_may_add_a_second_factor(client, mailoutbox):
    from django.core.management import call_command

    call_command("createsuperuser", "--email", "admin@example.org", "--noinput", stdout=None)

    response = client.post("/accounts/login/code/", {"email": "admin@example.org"})
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mailoutbox[-1].body).group(0)
    response = client.post(response["Location"], {"code": code})

    assert response["Location"] == "/admin/"
    assert EmailAddress.objects.get(email="admin@example.org").verified
    # Adding a second factor asks for a fresh code at that verified address, not a password.
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/code/")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--noinput"], "Give the address with --email"),
        (["--noinput", "--email", "staff@example.org"], "exists already"),
        (["--noinput", "--email", "STAFF@example.org"], "exists already"),
        (["--noinput", "--email", "nope"], "is not an email address"),
        (["--noinput", "--username", "admin"], "unrecognized arguments"),
    ],
)
def test_createsuperuser_says_what_is_wrong_and_makes_nothing(staff, arguments, message):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    users = get_user_model().objects.count()

    with pytest.raises(CommandError, match=message):
        call_command("createsuperuser", *arguments)

    assert get_user_model().objects.count() == users


def test_createsuperuser_takes_the_address_from_the_environment_and_ignores_a_password(
    monkeypatch,
):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.org")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "hunter2-but-longer")
    err = StringIO()

    call_command("createsuperuser", "--noinput", stdout=StringIO(), stderr=err)

    assert not get_user_model().objects.get(email="ops@example.org").has_usable_password()
    assert "DJANGO_SUPERUSER_PASSWORD is ignored" in err.getvalue()
