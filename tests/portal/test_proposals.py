"""Contacts propose changes to their organization's profile; staff approve or reject them in the
admin, with a note the contact reads; an approved change is applied and logged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.models import ModelLogEntry

from coalition.crm.models import ProfileProposal
from coalition.crm.portal import services
from tests.factories import OrganizationFactory
from tests.support.portal import log_in, png

pytestmark = pytest.mark.django_db


def propose(client, organization, **changes):
    data = {
        "name": organization.name,
        "acronym": organization.acronym,
        "display": organization.display,
        "website": organization.website,
        "message": "",
        **changes,
    }
    return client.post(reverse("portal:profile", args=[organization.slug]), data)


def review(client, proposal, decision: str, note: str = ""):
    return client.post(
        reverse("portal_admin:review", args=[proposal.pk]), {"decision": decision, "note": note}
    )


def test_a_contact_proposes_a_change_and_nothing_prints_until_staff_approve(
    client, contact, staff, no_staff_mfa
):
    organization = contact.organization
    log_in(client, contact)

    response = propose(
        client,
        organization,
        display="AWM | Widget Makers",
        website="https://awm.example.org",
        message="Our new brand.",
        logo=SimpleUploadedFile("brand.png", png("teal"), content_type="image/png"),
    )

    assert response.status_code == 302
    proposal = ProfileProposal.objects.get()
    assert proposal.status == "pending"
    assert proposal.changes == {
        "display": "AWM | Widget Makers",
        "website": "https://awm.example.org",
    }
    assert proposal.previous == {"display": "", "website": ""}
    assert proposal.proposed_by == f"{contact.name} <{contact.email}>"
    organization.refresh_from_db()
    assert organization.printed_name == f"{organization.name} ({organization.acronym})"
    assert organization.logo is None
    assert "Waiting for review" in client.get(response["Location"]).content.decode()

    client.force_login(staff)
    listing = client.get(reverse("portal_admin:proposals")).content.decode()
    assert organization.name in listing and "Printed as, Website, logo" in listing
    assert review(client, proposal, "approve", "Looks right.").status_code == 302

    organization.refresh_from_db()
    assert organization.printed_name == "AWM | Widget Makers"
    assert organization.website == "https://awm.example.org"
    assert organization.logo.title == f"{organization.name} logo"
    with organization.logo.file.open("rb") as stored, PILImage.open(stored) as image:
        assert (image.format, image.size) == ("PNG", (60, 24))
    entry = ModelLogEntry.objects.get(action=services.APPROVE_ACTION)
    assert entry.user == staff and entry.object_id == str(organization.pk)
    assert entry.data["changes"] == proposal.changes

    log_in(client, contact)
    page = client.get(reverse("portal:organization", args=[organization.slug])).content.decode()
    assert "<strong>Approved</strong>: Looks right." in page
    assert f'alt="{organization.name}"' in page


def test_rejecting_needs_a_note_and_leaves_the_profile_as_it_was(
    client, contact, staff, no_staff_mfa
):
    organization = contact.organization
    proposal = services.propose_profile_change(
        contact=contact, change=services.ProfileChange(fields={"acronym": "XYZ"})
    )
    client.force_login(staff)

    response = review(client, proposal, "reject", "")
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Note: say why, so that the contact knows what to do instead."]

    review(client, proposal, "reject", "Your acronym is AWM0 on every letter so far.")

    proposal.refresh_from_db()
    organization.refresh_from_db()
    assert proposal.status == "rejected" and proposal.reviewed_by == staff
    assert organization.acronym == "AWM0"
    assert ModelLogEntry.objects.filter(action=services.REJECT_ACTION).count() == 1
    log_in(client, contact)
    page = client.get(reverse("portal:organization", args=[organization.slug])).content.decode()
    assert "<strong>Rejected</strong>: Your acronym is AWM0 on every letter so far." in page


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("pending", "approved", True),
        ("pending", "rejected", True),
        ("approved", "approved", False),
        ("approved", "rejected", False),
        ("rejected", "approved", False),
        ("rejected", "rejected", False),
    ],
)
def test_each_status_moves_only_as_the_table_allows(contact, staff, current, target, allowed):
    proposal = services.propose_profile_change(
        contact=contact, change=services.ProfileChange(fields={"acronym": "NEW"})
    )
    ProfileProposal.objects.filter(pk=proposal.pk).update(status=current)
    decide = {
        "approved": lambda: services.approve_profile_proposal(proposal=proposal, user=staff),
        "rejected": lambda: services.reject_profile_proposal(
            proposal=proposal, user=staff, note="No."
        ),
    }[target]

    if allowed:
        assert decide().status == target
    else:
        with pytest.raises(services.ProposalError, match="already"):
            decide()
        proposal.refresh_from_db()
        assert proposal.status == current


def test_nothing_changed_is_no_proposal(client, contact):
    log_in(client, contact)

    response = propose(client, contact.organization)

    assert response.status_code == 400
    assert "Nothing to propose: change a field or upload a new logo." in response.content.decode()
    assert not ProfileProposal.objects.exists()


def test_a_name_another_organization_has_is_refused_naming_the_field(client, contact):
    OrganizationFactory(name="Widget Council")
    log_in(client, contact)

    response = propose(client, contact.organization, name="The Widget Council")

    assert response.status_code == 400
    assert "Name: another organization is already called" in response.content.decode()


def test_a_name_that_would_read_backwards_is_refused_naming_the_character(client, contact):
    log_in(client, contact)

    response = propose(client, contact.organization, display="Widget\u202eOrg")

    assert response.status_code == 400
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in response.content.decode()
    assert not ProfileProposal.objects.exists()


def test_a_name_taken_between_proposal_and_approval_is_refused_and_nothing_changes(contact, staff):
    proposal = services.propose_profile_change(
        contact=contact, change=services.ProfileChange(fields={"name": "Widget Council"})
    )
    OrganizationFactory(name="Widget Council")

    with pytest.raises(services.ProposalError, match=r"^Name: "):
        services.approve_profile_proposal(proposal=proposal, user=staff)

    proposal.refresh_from_db()
    contact.organization.refresh_from_db()
    assert proposal.status == "pending"
    assert contact.organization.name == "Association of Widget Makers 0"


def test_a_new_name_sorts_by_itself(contact, staff):
    proposal = services.propose_profile_change(
        contact=contact, change=services.ProfileChange(fields={"name": "The Zebra Guild"})
    )

    services.approve_profile_proposal(proposal=proposal, user=staff)

    contact.organization.refresh_from_db()
    assert contact.organization.sort_name == "Zebra Guild"


def test_contacts_cannot_reach_the_review_pages(client, contact):
    proposal = services.propose_profile_change(
        contact=contact, change=services.ProfileChange(fields={"acronym": "NEW"})
    )
    log_in(client, contact)

    for url in (
        reverse("portal_admin:proposals"),
        reverse("portal_admin:review", args=[proposal.pk]),
    ):
        assert client.get(url).status_code == 302
    review(client, proposal, "approve")
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_the_review_page_shows_the_change_beside_the_profile(client, contact, staff, no_staff_mfa):
    proposal = services.propose_profile_change(
        contact=contact,
        change=services.ProfileChange(
            fields={"website": "https://awm0.example.org"},
            logo=SimpleUploadedFile("new.png", png(), content_type="image/png"),
            message="New site and logo.",
        ),
    )
    client.force_login(staff)

    page = client.get(reverse("portal_admin:review", args=[proposal.pk])).content.decode()

    assert "New site and logo." in page
    assert "<td>(empty)</td><td>https://awm0.example.org</td>" in page
    assert f'<img src="{proposal.logo.url}" alt="The logo proposed"' in page


def test_staff_find_the_profile_changes_in_the_admin_menu(client, staff, no_staff_mfa):
    client.force_login(staff)

    assert reverse("portal_admin:proposals") in client.get("/admin/").content.decode()


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_contact_is_emailed_the_decision_once(
    client, contact, staff, no_staff_mfa, mailoutbox, decision, django_capture_on_commit_callbacks
):
    from coalition.crm.portal.tasks import email_proposal_decision

    organization = contact.organization
    log_in(client, contact)
    propose(client, organization, website="https://awm.example.org")
    proposal = ProfileProposal.objects.get()
    assert mailoutbox == []  # proposing tells staff in the admin, not the contact

    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        review(client, proposal, decision, note="Checked with your office.")

    [email] = mailoutbox
    assert email.to == [contact.email]
    approved = decision == "approve"
    assert email.subject == (
        f"Profile change {'approved' if approved else 'not made'}: {organization.name}"
    )
    assert "website: https://awm.example.org" in email.body
    assert "Their note: Checked with your office." in email.body
    assert f"/portal/{organization.slug}/" in email.body
    proposal.refresh_from_db()
    assert proposal.decision_emailed_at is not None

    assert email_proposal_decision.call(proposal.pk) is False  # the job run again sends nothing
    assert len(mailoutbox) == 1
