"""One sign-on taken through every kind of change, with the record verified at the end."""

import datetime

import time_machine
from django.utils import timezone

from coalition.crm.models import Organization
from letters.models import Publication
from signatories import selectors, services
from signatories.inputs import Forwarding, IndividualSigning
from signatories.models import Signature, SignOn
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    ask_to_sign,
    decline,
    make_members,
    open_new_sign_on,
    sign,
)


def test_it_takes_a_sign_on_from_opening_to_publication_with_the_record_intact(
    db, django_capture_on_commit_callbacks, mailoutbox
):
    members = make_members(4)
    revision = approved_revision(accepts_individuals=True)
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members, revision=revision)
        token = services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    assert token
    invitations = list(sign_on.invitations.order_by("organization__name"))
    assert len(invitations) == 4
    assert sorted(m.to[0] for m in mailoutbox) == sorted(c.email for c in members.contacts)
    with django_capture_on_commit_callbacks(execute=True):
        signed = sign(invitations[0])
        decline(invitations[1], reason="Not our issue")
        colleague = services.forward_invitation(
            invitation=invitations[2],
            forwarding=Forwarding(name="Dana Counsel", email="dana@awm2.example.org"),
            actor=SIGNER,
        )
        by_colleague = sign(colleague, signer_name="Dana Counsel")
        request = ask_to_sign(sign_on)
        person = services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(person="Jane Doe", signer_email="jane+x@example.org"),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
    assert signed.status == Signature.Status.APPROVED
    assert by_colleague.status == Signature.Status.PENDING_REVIEW
    assert request.status == Signature.Status.UNCONFIRMED
    assert request.organization.status == Organization.Status.PENDING
    assert person.signer_email_key == "jane@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_signature(signature=request, actor=SIGNER)
        services.approve_signature(signature=request, actor=STAFF_ACTOR)
        services.approve_signature(signature=by_colleague, actor=STAFF_ACTOR)
        services.reject_signatures(signatures=[person], reason="Unconfirmed", actor=STAFF_ACTOR)
    request.organization.refresh_from_db()
    assert request.organization.status == Organization.Status.ACTIVE

    counts = selectors.tally(sign_on)
    assert counts.totals == {
        "total": 4,
        "opened": 3,
        "signed": 2,
        "review": 0,
        "signer": 0,
        "declined": 1,
        "withdrawn": 0,
        "not_responded": 1,
    }
    assert counts.printed == 3
    assert selectors.response_chart(sign_on).totals["signed"] == 3
    assert selectors.verify_event_chain(sign_on=sign_on) == []

    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        services.close_due_sign_ons()
        with django_capture_on_commit_callbacks(execute=True):
            publication = services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.PUBLISHED
    assert len(publication.signatories) == 3
    publication = Publication.objects.get(pk=publication.pk)
    assert publication.pdf_sha256
    assert publication.chain_head == sign_on.last_event_hash
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    assert timezone.now()
