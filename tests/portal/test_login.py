"""Member contacts sign in by emailed code: only addresses on file get one, and nobody learns
which addresses are on file."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from coalition.crm.models import Organization
from tests.factories import ContactFactory, OrganizationFactory
from tests.support.portal import CODE

pytestmark = pytest.mark.django_db


def request_code(client, address: str, *, page: str = "/accounts/login/code/"):
    field = "login" if page == "/accounts/login/" else "email"
    return client.post(page, {field: address})


def sign_in(client, mailoutbox, address: str, *, page: str = "/accounts/login/code/"):
    response = request_code(client, address, page=page)
    assert response.status_code == 302
    code = CODE.search(mailoutbox[-1].body).group(0)
    return client.post(response["Location"], {"code": code})


@pytest.mark.parametrize("page", ["/accounts/login/code/", "/accounts/login/"])
def test_a_known_contact_signs_in_by_code_and_lands_on_the_portal(
    client, mailoutbox, contact, page
):
    response = sign_in(client, mailoutbox, contact.email, page=page)

    assert mailoutbox[0].to == [contact.email]
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    contact.refresh_from_db()
    user = contact.user
    assert user is not None and not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert list(user.groups.all()) == []
    assert EmailAddress.objects.get(user=user).verified  # the code proved the address
    assert client.get("/portal/")["Location"] == f"/portal/{contact.organization.slug}/"


def test_the_welcome_names_the_person_not_their_made_up_username(client, mailoutbox, contact):
    sign_in(client, mailoutbox, contact.email)
    page = client.get(f"/portal/{contact.organization.slug}/").content.decode()
    assert f"Successfully signed in as {contact.name}." in page
    contact.refresh_from_db()
    assert contact.user.username not in page


def test_an_address_reaching_the_same_mailbox_gets_the_code_at_the_address_on_file(
    client, mailoutbox, contact
):
    local, domain = contact.email.split("@")
    response = sign_in(client, mailoutbox, f"{local.upper()}+portal@{domain.upper()}")

    assert [message.to for message in mailoutbox] == [[contact.email]]
    assert response["Location"] == "/portal/"


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent_or_made(
    client, mailoutbox, contact
):
    known = request_code(client, contact.email)
    known_page = client.get(known["Location"]).content.decode()
    mailoutbox.clear()
    client.logout()
    users = get_user_model().objects.count()

    unknown = request_code(client, "nobody@members.example.org")
    unknown_page = client.get(unknown["Location"]).content.decode()

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert _without_tokens(unknown_page) == _without_tokens(known_page)
    assert mailoutbox == []
    assert get_user_model().objects.count() == users


def _without_tokens(page: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


@pytest.mark.parametrize("status", [Organization.Status.PENDING, Organization.Status.ARCHIVED])
def test_contacts_of_organizations_that_are_not_active_get_no_code(client, mailoutbox, status):
    contact = ContactFactory(organization=OrganizationFactory(status=status))

    request_code(client, contact.email)

    assert mailoutbox == []
    contact.refresh_from_db()
    assert contact.user is None


def test_asking_twice_makes_one_account(client, mailoutbox, contact):
    request_code(client, contact.email)
    client.logout()
    request_code(client, contact.email)

    assert get_user_model().objects.filter(contact__isnull=False).count() == 1
    assert len(mailoutbox) == 2


def test_one_person_at_two_organizations_has_one_account_for_both(client, mailoutbox, members):
    first = members.contacts[0]
    second = ContactFactory(
        organization=members.organizations[1],
        name=first.name,
        email=first.email.replace("@", "+awm1@"),
    )

    sign_in(client, mailoutbox, second.email)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.user is not None and second.user is None  # one account, linked once
    page = client.get(f"/portal/{first.organization.slug}/").content.decode()
    assert f'href="/portal/{second.organization.slug}/"' in page
    assert client.get(f"/portal/{second.organization.slug}/").status_code == 200


def test_a_contact_never_reaches_the_admin(client, mailoutbox, contact):
    sign_in(client, mailoutbox, contact.email)

    response = client.get("/admin/", follow=True)

    # Sent to sign in, and from there (signed in already) to the portal, not back: no loop.
    assert [url for url, _ in response.redirect_chain] == [
        "/accounts/login/?next=/admin/",
        "/portal/",
        f"/portal/{contact.organization.slug}/",
    ]
    assert response.status_code == 200
    assert client.get("/admin/pages/").status_code == 302


def test_staff_still_land_on_the_admin(client, mailoutbox, staff):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)

    response = sign_in(client, mailoutbox, staff.email)

    assert response["Location"] == "/admin/"
    assert not hasattr(staff, "contact") or staff.contact is None


def test_a_staff_address_on_file_as_a_contact_keeps_its_staff_account(client, mailoutbox, staff):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    contact = ContactFactory(email=staff.email)

    sign_in(client, mailoutbox, staff.email)

    contact.refresh_from_db()
    assert contact.user is None  # no second account, no link made to a staff account
    assert get_user_model().objects.count() == 1


def test_a_contact_who_signed_in_before_may_type_the_address_another_way(
    client, mailoutbox, contact
):
    sign_in(client, mailoutbox, contact.email)
    client.logout()

    response = sign_in(client, mailoutbox, contact.email.upper().replace("@", "+again@"))

    assert mailoutbox[-1].to == [contact.email]
    assert response["Location"] == "/portal/"
    assert get_user_model().objects.count() == 1
