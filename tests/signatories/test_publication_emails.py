"""Everyone hears: each signer of a letter is emailed once when it is published and when it is
corrected (its page, its PDF and the PDF's SHA-256), unless they said not to; the staff member
who opened a sign-on is emailed when it closes, with the tracker's tally."""

import datetime
import re

import pytest
import time_machine

from coalition.core.emails import absolute_url
from letters.models import Publication
from signatories import selectors, services, tasks
from signatories.inputs import staff_text
from signatories.models import Signature
from tests.support.signing import (
    SIGNATURE_LINK,
    STAFF_ACTOR,
    make_members,
    open_new_sign_on,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(staff, mailoutbox, django_capture_on_commit_callbacks):
    """A sign-on opened by a staff member, two of three organizations signed, then closed."""
    members = make_members(3)
    sign_on = open_new_sign_on(members, actor=services.Actor(label="staff", user=staff))
    invitations = list(sign_on.invitations.order_by("organization__name"))
    with django_capture_on_commit_callbacks(execute=True):
        sign(invitations[0])
        sign(invitations[1], display_name="Widget Makers, the Association")  # held for review
    mailoutbox.clear()
    with (
        time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.close_due_sign_ons()
    sign_on.refresh_from_db()
    return sign_on


def test_the_staff_member_who_opened_a_sign_on_hears_it_closed_with_the_tally(
    closed, staff, mailoutbox
):
    [email] = mailoutbox
    assert email.to == [staff.email]
    assert email.subject == f"Sign-on closed: {closed.letter.title}"
    tally = selectors.tally(closed)
    assert f"{tally.printed} signatory would print now." in email.body
    assert f"Signed: {tally.totals['signed']}" in email.body
    assert f"Waiting for staff review: {tally.totals['review']}" in email.body
    assert f"Not responded: {tally.totals['not_responded']}" in email.body
    assert f"/admin/sign-ons/{closed.pk}/" in email.body
    # Its job run again sends nothing more.
    tasks.send_closed_email.call(closed.pk)
    assert len(mailoutbox) == 1


def publish(sign_on, mailoutbox, django_capture_on_commit_callbacks) -> Publication:
    """Settle what waits for review (the line asked for is refused), then publish."""
    with django_capture_on_commit_callbacks(execute=True):
        for waiting in selectors.review_queue().filter(sign_on=sign_on):
            services.reject_signature(
                signature=waiting, actor=STAFF_ACTOR, reason=staff_text("No.", name="reason")
            )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)


def test_each_signer_hears_once_that_the_letter_is_published_with_the_pdfs_hash(
    closed, mailoutbox, django_capture_on_commit_callbacks
):
    publication = publish(closed, mailoutbox, django_capture_on_commit_callbacks)
    publication.refresh_from_db()
    printed = list(Signature.objects.printable().filter(letter=closed.letter))
    assert len(printed) == 1 and publication.pdf_sha256
    [email] = mailoutbox
    assert email.to == [printed[0].signer_email]
    assert email.subject == f"Published: {closed.letter.title}"
    assert f"The letter: {absolute_url(closed.letter.url)}\n" in email.body
    assert f"Its PDF (version 1): {absolute_url(closed.letter.url)}pdf/v1/\n" in email.body
    assert f"SHA-256 of the PDF: {publication.pdf_sha256}" in email.body
    assert SIGNATURE_LINK.search(email.body)
    html = email.alternatives[0][0]
    assert publication.pdf_sha256 in html
    # The announcement run again (a worker restarted) sends nothing more.
    tasks.announce_version.call(publication.pk)
    assert len(mailoutbox) == 1


def test_a_signer_who_said_not_to_hears_nothing_and_may_ask_again(
    client, closed, mailoutbox, django_capture_on_commit_callbacks
):
    signature = Signature.objects.printable().get(letter=closed.letter)
    page = selectors.signature_link_token(signature)
    url = f"/sign/s/{page}/"
    assert "Stop these emails" in client.get(url).content.decode()
    response = client.post(url, {"action": "stop_publication_emails"}, follow=True)
    assert "You will not be emailed when the letter is published" in response.content.decode()
    assert "Email me again" in response.content.decode()
    signature.refresh_from_db()
    assert signature.publication_emails is False
    # The preference is no part of the record: the chain still verifies.
    assert selectors.verify_event_chain(sign_on=closed) == []

    publication = publish(closed, mailoutbox, django_capture_on_commit_callbacks)
    assert mailoutbox == []

    client.post(url, {"action": "publication_emails"})
    signature.refresh_from_db()
    assert signature.publication_emails is True
    services.add_signatory(
        letter=closed.letter,
        display_name=staff_text("Gadget Guild", name="display_name"),
        reason=staff_text("Signed by email.", name="reason"),
        actor=STAFF_ACTOR,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_correction(
            letter=closed.letter,
            note=staff_text("Adds Gadget Guild.", name="note"),
            actor=STAFF_ACTOR,
        )
    [email] = mailoutbox
    assert email.subject == f"Corrected: {closed.letter.title}"
    assert "(version 2): Adds Gadget Guild." in email.body
    second = Publication.objects.get(letter=closed.letter, version=2)
    assert second.pk != publication.pk
    assert re.search(rf"SHA-256 of the PDF: {second.pdf_sha256}\b", email.body)
