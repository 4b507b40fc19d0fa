"""Finding 7 / item 4: a link per invited person, passing the request to a colleague, and review
reasons worked out when staff read them."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from signatories import selectors, services
from signatories.inputs import Forwarding
from signatories.models import Action, Invitation, Signature, SignOn
from tests.factories import CoalitionFactory, ContactFactory, MembershipFactory, OrganizationFactory
from tests.support.signing import (
    LINK,
    SIGNER,
    Members,
    open_new_sign_on,
    sign,
    sign_data,
    token_for,
)

ORG = "Association of Widget Makers"
REVIEW = "/admin/sign-ons/review/"


def url(token: str) -> str:
    return reverse("signatories:sign", args=[token])


def one_organization(*people: dict) -> Members:
    """A coalition of one organization with these contacts (name, email, authorized, title)."""
    coalition = CoalitionFactory(name="Digital Trade Coalition", slug="dtc")
    organization = OrganizationFactory(name=ORG, acronym="AWM")
    MembershipFactory(coalition=coalition, organization=organization, tier="member")
    contacts = [
        ContactFactory(
            organization=organization,
            name=person["name"],
            email=person["email"],
            title=person.get("title", ""),
            is_authorized_signer=person.get("authorized", False),
            is_primary=person.get("primary", False),
        )
        for person in people
    ]
    return Members(coalition=coalition, organizations=[organization], contacts=contacts)


PAT = {"name": "Pat Director", "email": "pat@awm.example.org", "authorized": True, "title": "CEO"}
LEE = {"name": "Lee Staffer", "email": "lee@awm.example.org", "title": "Policy Officer"}


def forward_data(**overrides) -> dict:
    data = {
        "action": "forward",
        "forward-name": "Dana Director",
        "forward-email": "dana@awm.example.org",
        "forward-note": "Could you sign this for us?",
    }
    data.update({f"forward-{k}": v for k, v in overrides.items()})
    return data


def test_each_chosen_contact_gets_a_link_of_their_own(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 7: one link per organization, shared by whoever opened it."""
    members = one_organization(PAT, LEE)
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members, recipients=SignOn.Recipients.ALL)
    invitations = {i.email: i for i in sign_on.invitations.all()}
    assert set(invitations) == {"pat@awm.example.org", "lee@awm.example.org"}
    assert len(mailoutbox) == 2
    paths = set()
    for email in mailoutbox:
        [address] = email.to
        invitation = invitations[address]
        assert invitation.contact.email == address
        assert email.body.startswith(f"Dear {invitation.name},")
        assert f"<p>Dear {invitation.name},</p>" in email.alternatives[0][0]
        path = LINK.search(email.body).group(1)
        assert path == url(token_for(invitation))
        assert selectors.find_invitation(path.split("/")[-2]) == invitation
        paths.add(path)
    assert len(paths) == 2
    assert sign_on.events.filter(action=Action.INVITED).count() == 2


def test_the_signers_choice_invites_authorized_signers_only(db):
    members = one_organization(PAT, LEE)
    sign_on = open_new_sign_on(members)
    assert list(sign_on.invitations.values_list("email", flat=True)) == ["pat@awm.example.org"]


def test_the_form_is_filled_in_with_what_is_known_and_the_email_is_the_invited_one(client, db):
    """Finding 7: whoever opened the shared link typed their name and email."""
    members = one_organization(PAT, LEE)
    sign_on = open_new_sign_on(members, recipients=SignOn.Recipients.ALL)
    lee = sign_on.invitations.get(email="lee@awm.example.org")
    html = client.get(url(token_for(lee))).content.decode()
    assert re.search(r'name="signer_name" value="Lee Staffer"', html)
    assert re.search(r'name="signer_title" value="Policy Officer"', html)
    assert f'name="display_name" value="{ORG} (AWM)"' in html
    assert 'name="signer_email"' not in html
    assert "Your email address: <strong>lee@awm.example.org</strong>" in html
    assert "invitation of Lee Staffer (lee@awm.example.org)" in html
    # Lee may not sign alone: told so, and offered to pass it on.
    assert "does not list you as someone who may sign" in html
    assert 'href="#forward-heading"' in html

    data = sign_data(sign_on, members.organizations[0], signer_name="Lee Staffer")
    data["signer_email"] = "pat@awm.example.org"  # a typed address is not taken
    assert client.post(url(token_for(lee)), data).status_code == 302
    signature = Signature.objects.get()
    assert (signature.signer_email, signature.invitation) == ("lee@awm.example.org", lee)


@pytest.mark.parametrize(
    "on_file", ["Pat@AWM.example.org", "PAT@awm.EXAMPLE.ORG"], ids=["capitalised", "upper"]
)
def test_a_real_signer_whose_address_differs_in_case_is_not_sent_to_review(
    client, db, mailoutbox, django_capture_on_commit_callbacks, on_file
):
    """Finding 7: an address differing in case from the contact on file landed in review as "not
    a known authorized signer"."""
    members = one_organization({**PAT, "email": on_file})
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members)
    token = LINK.search(mailoutbox[0].body).group(1).split("/")[-2]
    data = sign_data(sign_on, members.organizations[0], signer_name="Pat Director")
    assert client.post(url(token), data).status_code == 302
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.APPROVED
    assert selectors.review_reasons(signature) == []


def test_a_colleague_forwarded_to_at_another_spelling_of_their_address_is_known(db):
    """Finding 7: a real signer whose address differs in case or alias was "not a known
    authorized signer"."""
    members = one_organization({**LEE, "primary": True})
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    dana = ContactFactory(
        organization=members.organizations[0],
        name="Dana Director",
        email="dana.director@awm.example.org",
        is_authorized_signer=True,
    )
    colleague = services.forward_invitation(
        invitation=lee,
        forwarding=Forwarding(name="D. Director", email="Dana.Director+letters@AWM.example.org"),
        actor=SIGNER,
    )
    assert (colleague.contact, colleague.email) == (dana, "dana.director@awm.example.org")
    assert colleague.name == "Dana Director"
    signature = sign(colleague, signer_name="Dana Director")
    assert signature.status == Signature.Status.APPROVED
    assert selectors.review_reasons(signature) == []


@pytest.mark.parametrize("first", ["colleague", "forwarder"])
def test_a_contact_who_may_not_sign_passes_it_to_a_colleague_and_the_first_answer_wins(
    client, db, mailoutbox, django_capture_on_commit_callbacks, first
):
    """Finding 7 / item 4: nobody could pass the request to the person who may sign."""
    members = one_organization({**LEE, "primary": True})
    organization = members.organizations[0]
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(token_for(lee)), forward_data())
    assert response.status_code == 302
    assert response["Location"] == url(token_for(lee))
    page = client.get(response["Location"]).content.decode()
    assert f"Dana Director has been sent a link of their own to answer for {ORG}." in page

    dana = sign_on.invitations.get(email="dana@awm.example.org")
    assert (dana.name, dana.contact, dana.forwarded_by) == ("Dana Director", None, lee)
    [email] = mailoutbox
    assert email.to == ["dana@awm.example.org"]
    assert email.body.startswith("Dear Dana Director,")
    assert "Lee Staffer passed on to you the request" in email.body
    assert "Could you sign this for us?" in email.body
    path = LINK.search(email.body).group(1)
    assert path == url(token_for(dana)) != url(token_for(lee))
    event = sign_on.events.get(action=Action.FORWARDED)
    assert event.invitation == dana
    assert (event.detail["from"], event.detail["to"]) == (lee.email, "dana@awm.example.org")
    assert event.detail["note"] == "Could you sign this for us?"
    assert selectors.verify_event_chain(sign_on=sign_on) == []

    people = {
        "colleague": (Client(), dana, "Dana Director", "Executive Director"),
        "forwarder": (client, lee, "Lee Staffer", "Policy Officer"),
    }
    browser, invitation, winner, title = people[first]
    data = sign_data(sign_on, organization, signer_name=winner, signer_title=title)
    assert browser.post(url(token_for(invitation)), data).status_code == 302
    browser, invitation, loser, _ = people["forwarder" if first == "colleague" else "colleague"]
    second = url(token_for(invitation))
    refused = browser.post(second, sign_data(sign_on, organization, signer_name=loser))
    assert refused.status_code == 409
    assert f"{winner} ({title}) already signed for {ORG} (AWM)" in refused.content.decode()
    assert Signature.objects.get().signer_name == winner
    # Nor may the second person decline over it, or pass it on again.
    assert (
        browser.post(second, {"action": "decline", "decline-signer_name": loser}).status_code == 409
    )
    assert browser.post(second, forward_data(email="x@awm.example.org")).status_code == 409
    assert Signature.objects.count() == 1
    assert sign_on.invitations.count() == 2


def test_a_colleague_forwarded_to_an_unknown_address_is_reviewed_with_that_reason(client, db):
    members = one_organization({**LEE, "primary": True})
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    dana = services.forward_invitation(
        invitation=lee,
        forwarding=Forwarding(name="Dana Director", email="dana@awm.example.org"),
        actor=SIGNER,
    )
    signature = sign(dana, signer_name="Dana Director")
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert selectors.review_reasons(signature) == [
        f"Lee Staffer forwarded the request to dana@awm.example.org, which is not a contact of "
        f"{ORG} on file."
    ]
    # Lee, who may not sign, cannot undo Dana's signature either.
    response = client.post(url(token_for(lee)), {"action": "withdraw", "withdraw-reason": ""})
    assert response.status_code == 400
    assert "only they, or an authorized signer of the organization" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING_REVIEW


def test_forwarding_to_ones_own_address_is_refused_by_name(client, db):
    members = one_organization({**LEE, "primary": True})
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    response = client.post(url(token_for(lee)), forward_data(email="LEE+x@awm.example.org"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This is your own address: give your colleague&#x27;s." in html
    assert 'id="id_forward-email_error"' in html
    assert sign_on.invitations.count() == 1


def test_review_reasons_are_worked_out_when_staff_open_the_queue(staff_client, db):
    """Finding 7: review reasons were frozen when the signature came in; fixing the contact did
    not clear them."""
    members = one_organization({**LEE, "primary": True})
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    signature = sign(lee, signer_name="Lee Staffer")
    assert signature.status == Signature.Status.PENDING_REVIEW
    reason = (
        f"Lee Staffer &lt;lee@awm.example.org&gt; is not marked as an authorized signer of {ORG}."
    )
    page = staff_client.get(REVIEW).content.decode()
    assert reason in page

    contact = members.contacts[0]
    contact.is_authorized_signer = True
    contact.save()
    page = staff_client.get(REVIEW).content.decode()
    assert reason not in page
    assert "No reason is left to hold it back." in page
    assert selectors.review_reasons(Signature.objects.get()) == []
    # Still for staff to approve: nothing changed by itself.
    assert Signature.objects.get().status == Signature.Status.PENDING_REVIEW
    assert Invitation.objects.count() == 1


def test_passing_it_on_twice_to_the_same_colleague_sends_one_email(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    """Found by the sign-on's state machine: a second press of "Send them a link" (a double
    click) emailed the colleague the same link twice."""
    members = one_organization({**LEE, "primary": True})
    sign_on = open_new_sign_on(members)
    [lee] = sign_on.invitations.all()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url(token_for(lee)), forward_data()).status_code == 302
        again = client.post(url(token_for(lee)), forward_data())

    assert again.status_code == 400
    assert "Dana Director already has a link of their own to this letter" in (
        again.content.decode()
    )
    assert [email.to for email in mailoutbox] == [["dana@awm.example.org"]]
    assert sign_on.invitations.count() == 2
