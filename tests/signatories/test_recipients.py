"""A letter's recipients are CRM contacts, chosen from the CRM or added to it on the spot, and
the letter's address block is checked against them."""

import pytest
from django.urls import reverse

from coalition.crm.models import Contact, Organization
from signatories import selectors, services
from signatories.errors import SignOnError
from signatories.models import Recipient
from tests.factories import ContactFactory
from tests.support.recipients import jane, published_letter, recipient
from tests.support.signing import STAFF_ACTOR

pytestmark = pytest.mark.django_db


def test_it_adds_someone_new_to_the_crm_under_their_office_and_to_the_recipients():
    letter = published_letter()
    added = services.add_new_recipient(
        letter=letter,
        name="Jane  Doe",
        email="jane.doe@widgets.example.gov",
        title="Secretary of Widgets",
        office="Department of Widgets",
        actor=STAFF_ACTOR,
    )
    contact = Contact.objects.get(email="jane.doe@widgets.example.gov")
    assert added.contact == contact and contact.name == "Jane Doe"
    assert contact.organization.name == "Department of Widgets"
    assert contact.organization.kind == Organization.Kind.OTHER
    # A second person of the same office joins it: the office is found by its name.
    second = services.add_new_recipient(
        letter=letter,
        name="Ann Other",
        email="ann@widgets.example.gov",
        title="",
        office="department of  WIDGETS",
        actor=STAFF_ACTOR,
    )
    assert second.contact.organization == contact.organization
    assert [r.contact.name for r in selectors.letter_recipients(letter)] == [
        "Jane Doe",
        "Ann Other",
    ]


def test_a_known_address_is_that_contact_and_a_recipient_is_added_once():
    letter = published_letter()
    known = ContactFactory(email="Known@Example.org", name="Known Person")
    again = services.add_new_recipient(
        letter=letter,
        name="Typed Else",
        email="known@example.org",
        title="",
        office="X",
        actor=STAFF_ACTOR,
    )
    assert again.contact == known
    with pytest.raises(SignOnError) as refused:
        services.add_recipient(letter=letter, contact=known, actor=STAFF_ACTOR)
    assert refused.value.field == "contact"
    assert Recipient.objects.filter(letter=letter).count() == 1


def test_bad_input_is_refused_naming_the_field_and_nothing_is_half_written():
    letter = published_letter()
    with pytest.raises(SignOnError) as refused:
        services.add_new_recipient(
            letter=letter,
            name="Jane",
            email="jane@example.gov",
            title="",
            office="  ",
            actor=STAFF_ACTOR,
        )
    assert refused.value.field == "office"
    assert not Contact.objects.filter(email="jane@example.gov").exists()
    with pytest.raises(SignOnError) as refused:
        services.add_new_recipient(
            letter=letter,
            name="Evil\u202eName",
            email="e@example.gov",
            title="",
            office="Office",
            actor=STAFF_ACTOR,
        )
    assert refused.value.field == "name"
    # The office the refused contact would have joined is not left behind either.
    assert not Organization.objects.filter(name="Office").exists()


def test_the_address_block_and_the_recipients_are_compared_both_ways():
    letter = published_letter()
    # "The Honorable Jane Doe … Department of Widgets" and "Mr. John Roe …": nobody yet.
    assert len(selectors.address_block_warnings(letter, [])) == 2
    jane(letter)
    stranger = recipient(letter, "Max Mustermann", "max@example.de", "Bundesamt")
    warnings = selectors.address_block_warnings(letter, list(selectors.letter_recipients(letter)))
    assert warnings == [
        "Max Mustermann (Bundesamt) is a recipient, but the letter's address block does not "
        "name them.",
        "The address block names “Mr. John Roe”, who is not among the recipients: add them from "
        "the CRM, or correct the address block.",
    ]
    services.remove_recipient(recipient=stranger, actor=STAFF_ACTOR)
    # Named by the office alone: the Office of the Trade Representative, whoever reads it.
    recipient(letter, "Desk Officer", "desk@ustr.example.gov", "Office of the Trade Representative")
    assert selectors.address_block_warnings(letter, list(selectors.letter_recipients(letter))) == []


def test_staff_add_and_remove_recipients_and_see_the_warning(client, staff):
    letter = published_letter()
    client.force_login(staff)
    url = reverse("signatories_admin:recipients", args=[letter.pk])
    ContactFactory(name="Jane Doe", email="jane@dept.example.gov")
    page = client.get(url, {"q": "jane"}).content.decode()
    assert "does not" not in page or "not among the recipients" in page
    assert "jane@dept.example.gov" in page
    contact = Contact.objects.get(email="jane@dept.example.gov")
    response = client.post(url, {"action": "add", "contact": contact.pk})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Mr. John Roe" in page and "address-block-warnings" in page
    response = client.post(
        url, {"action": "new", "name": "John Roe", "email": "not-an-address", "office": "USTR"}
    )
    assert response.status_code == 400
    assert "Email: Enter a valid email address." in response.content.decode()
    response = client.post(
        url,
        {"action": "new", "name": "John Roe", "email": "roe@ustr.example.gov", "office": "USTR"},
    )
    assert response.status_code == 302
    assert "address-block-warnings" not in client.get(url).content.decode()
    roe = Recipient.objects.get(contact__email="roe@ustr.example.gov")
    client.post(url, {"action": "remove", "recipient": roe.pk})
    assert not Recipient.objects.filter(pk=roe.pk).exists()


def test_a_recipient_sent_the_letter_stays(client, staff):
    from tests.support.recipients import emailed

    letter = published_letter()
    sent = jane(letter)
    emailed(letter, sent)
    with pytest.raises(SignOnError):
        services.remove_recipient(recipient=sent, actor=STAFF_ACTOR)


def test_the_page_is_for_publishers_only(client, django_user_model):
    letter = published_letter()
    user = django_user_model.objects.create_user("someone", "someone@example.org", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("signatories_admin:recipients", args=[letter.pk])).status_code in (
        302,
        403,
    )
