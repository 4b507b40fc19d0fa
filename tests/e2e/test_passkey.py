"""A staff member adds a passkey in Chromium, through its virtual authenticator, and the admin,
closed to staff without a second factor, opens."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.support.database import ensure_wagtail_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def test_staff_add_a_passkey_and_the_admin_opens(
    staff_page: Page, live_server, settings, mailoutbox
) -> None:
    ensure_wagtail_site()
    settings.STAFF_MFA_REQUIRED = True
    page = staff_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    # Signed in by emailed code, as staff are: the address is verified.
    user = get_user_model().objects.get(username="editor")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    # The admin is closed until a second factor is added.
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}{reverse('mfa_index')}")

    # Adding one asks who is there first: a fresh emailed code.
    page.goto(f"{live_server.url}{reverse('mfa_add_webauthn')}")
    page.get_by_role("button", name="Request Code").click()
    code = CODE.search(mailoutbox[-1].body).group(0)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name=re.compile("Confirm|Sign In", re.I)).click()

    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_add_webauthn"))))
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Add").click()
    expect(page).not_to_have_url(re.compile(re.escape(reverse("mfa_add_webauthn"))))

    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Laptop"
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
