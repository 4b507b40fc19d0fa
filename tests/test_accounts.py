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
