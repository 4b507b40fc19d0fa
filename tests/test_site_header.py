"""The public header leads to sign-in, and a signed-in person to where they work: staff to the
admin, member contacts to the portal. Public pages are cached whole for anonymous readers, so
what an anonymous reader sees is the same for all of them, and nobody's own links are cached."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import ContactFactory, UserFactory, make_letter

pytestmark = pytest.mark.django_db

SIGN_IN = '<a href="/accounts/login/code/">Sign in</a>'


def header(response) -> str:
    page = response.content.decode()
    return re.search(r'<header class="site-header">.*?</header>', page, re.S).group(0)


@pytest.fixture
def letter():
    return make_letter(slug="widgets")


def test_anonymous_readers_are_offered_the_code_login(letter):
    first = Client().get(letter.url)
    second = Client().get(letter.url)  # from the page cache

    assert first.status_code == second.status_code == 200
    assert SIGN_IN in header(first)
    assert header(second) == header(first)
    assert "Sign out" not in header(first)
    assert Client().get("/letters/").status_code == 200
    assert SIGN_IN in header(Client().get("/letters/"))


def test_the_link_leads_to_the_code_login(client):
    response = client.get("/accounts/login/code/")

    assert response.status_code == 200
    assert "Email me a sign-in code" in response.content.decode()


def test_staff_are_led_to_the_admin_whatever_their_flags(client, letter):
    """Wagtail gives admin access through groups: an editor made in the admin is not is_staff."""
    editor = UserFactory(username="editor", email="editor@example.org")
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)

    shown = header(client.get(letter.url))

    assert '<a href="/admin/">Admin</a>' in shown
    assert "Sign out" in shown
    assert SIGN_IN not in shown


def test_member_contacts_are_led_to_the_portal(client, letter):
    from coalition.crm.portal.services import address_for_login_code

    contact = ContactFactory()
    address_for_login_code(contact.email)
    contact.refresh_from_db()
    client.force_login(contact.user)

    shown = header(client.get(letter.url))

    assert '<a href="/portal/">Your organization</a>' in shown
    assert "Admin" not in shown
    assert SIGN_IN not in shown


def test_a_signed_in_page_is_never_what_an_anonymous_reader_gets(client, staff, letter):
    anonymous = Client()
    assert SIGN_IN in header(anonymous.get(letter.url))  # cached now

    client.force_login(staff)
    assert SIGN_IN not in header(client.get(letter.url))
    assert "Admin" not in header(Client().get(letter.url))
