"""The sign-in pages carry the site's layout and say only what is true: nobody signs up, nobody
has a password, and the page after asking for a code reads the same whether or not the address
is on file."""

import re

import pytest

pytestmark = pytest.mark.django_db

UNTRUE = re.compile(r"sign[ -]?up|password|forgot", re.IGNORECASE)


def visible_text(page: str) -> str:
    """The words a reader sees: no tags, scripts or attribute values."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def assert_in_the_site_layout(page: str) -> None:
    assert '<html lang="en">' in page
    assert '<a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<header class="site-header">' in page
    assert '<main id="main">' in page
    assert page.count("<h1>") == 1


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/login/code/"])
def test_the_sign_in_pages_ask_for_an_address_and_nothing_else(client, url):
    response = client.get(url)

    page = response.content.decode()
    assert response.status_code == 200
    assert_in_the_site_layout(page)
    text = visible_text(page)
    assert "<h1>Sign in</h1>" in page
    assert "with the email address the coalition has on file for them" in text
    assert "Email me a sign-in code" in text
    assert not UNTRUE.search(text), UNTRUE.search(text)
    assert 'type="password"' not in page
    assert 'href="/accounts/signup/' not in page
    assert re.search(r'<input type="email" name="(login|email)"', page)


@pytest.mark.parametrize("address", ["staff@example.org", "nobody@example.org"])
def test_the_code_page_says_only_what_is_true_for_any_address(client, staff, address):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)

    response = client.post("/accounts/login/code/", {"email": address}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [("/accounts/login/code/confirm/", 302)]
    assert_in_the_site_layout(page)
    text = visible_text(page)
    assert "<h1>Enter your sign-in code</h1>" in page
    assert "If the address you gave is on file for a member contact or for staff" in text
    assert "If that address is on file, a sign-in code is on its way to it." in text
    assert address not in text  # neither confirms nor denies that the address is known
    assert not UNTRUE.search(text), UNTRUE.search(text)
    assert 'autocomplete="one-time-code"' in page


def test_a_wrong_code_is_refused_on_the_same_page(client, staff):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    client.post("/accounts/login/code/", {"email": staff.email})

    response = client.post("/accounts/login/code/confirm/", {"code": "AAAA-AAAA"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Incorrect code." in visible_text(page)
    assert_in_the_site_layout(page)
