"""The sign-on's evidence (issue 8, finding 12 and "What to build" 11).

Each event records the state it left its rows in and is hashed with a key that lives in the
settings, not in the database; the sign-on keeps the chain's head; publication verifies the chain
and prints its head on the page and in the PDF; the tracker verifies on every load.
"""

import datetime
import hashlib
import hmac
import io

import pytest
import time_machine
from django.db import models
from django.urls import reverse
from pypdf import PdfReader

from letters.models import LetterPage, Publication
from signatories import chain, selectors, services
from signatories.inputs import Forwarding, IndividualSigning
from signatories.models import Action, Event, Invitation, Signature, SignOn
from tests.factories import ContactFactory
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    ask_to_sign,
    decline,
    make_members,
    open_new_sign_on,
    sign,
    withdraw,
)

HELD_NAME = "Widget Makers United"


@pytest.fixture
def answered(sign_on: SignOn, invitations: list[Invitation]) -> SignOn:
    """One organization signed under another name (held, then approved), one declined."""
    held = sign(invitations[0], display_name=HELD_NAME)
    decline(invitations[1], reason="Not our issue")
    services.approve_signature(signature=held, actor=STAFF_ACTOR)
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    return sign_on


def events_of(sign_on: SignOn) -> list[Event]:
    return list(Event.objects.filter(sign_on=sign_on).order_by("sequence"))


def raw_events() -> models.QuerySet:
    """Events as someone with database access sees them: no append-only guard."""
    return models.QuerySet(Event)


def delete_last_event_and_rewind(sign_on: SignOn) -> Event:
    *kept, last = events_of(sign_on)
    Event.objects.filter(pk=last.pk)._raw_delete(Event.objects.db)
    SignOn.objects.filter(pk=sign_on.pk).update(
        event_count=kept[-1].sequence, last_event_hash=kept[-1].hash
    )
    return last


def plain_sha256(payload: dict) -> str:
    return hashlib.sha256(chain.canonical(payload)).hexdigest()


def wrong_key(payload: dict) -> str:
    return hmac.new(
        b"a key guessed by whoever rewrites", chain.canonical(payload), "sha256"
    ).hexdigest()


def rewrite_from(sign_on: SignOn, sequence: int, detail: dict, digest) -> list[Event]:
    """Rewrite one event's detail and recompute it and every later hash with `digest`."""
    events = events_of(sign_on)
    previous_hash = events[sequence - 2].hash
    rewritten = events[sequence - 1 :]
    rewritten[0].detail = detail
    for event in rewritten:
        event.previous_hash = previous_hash
        event.hash = digest(event.payload())
        raw_events().filter(pk=event.pk).update(
            detail=event.detail, previous_hash=event.previous_hash, hash=event.hash
        )
        previous_hash = event.hash
    SignOn.objects.filter(pk=sign_on.pk).update(last_event_hash=previous_hash)
    return rewritten


# (a) Removing the latest events and rewinding the head --------------------------------------


def test_deleting_the_last_event_and_rewinding_the_head_is_detected(answered, invitations):
    """Before the rewrite this verified clean: events held no state, so the rewound head matched."""
    last = delete_last_event_and_rewind(answered)
    assert last.action == Action.APPROVED
    assert selectors.verify_event_chain(sign_on=answered) == [
        f"the signature “{HELD_NAME}” was changed outside the sign-on (status differ from what "
        "the last event recorded)"
    ]


def test_deleting_a_closing_and_rewinding_the_head_is_detected(answered):
    """Before the rewrite this verified clean: the sign-on's own state was in no event."""
    services.close_sign_on(sign_on=answered, actor=STAFF_ACTOR)
    assert delete_last_event_and_rewind(answered).action == Action.CLOSED
    assert selectors.verify_event_chain(sign_on=answered) == [
        "the sign-on was changed outside the sign-on (status differ from what the last event "
        "recorded)"
    ]


def test_deleting_a_signature_s_event_and_rewinding_the_head_is_detected(answered, invitations):
    """Before the rewrite this verified clean: a signature nobody recorded went unnoticed."""
    signature = sign(invitations[2])
    assert delete_last_event_and_rewind(answered).action == Action.SIGNED
    assert selectors.verify_event_chain(sign_on=answered) == [
        f"the invitation of {invitations[2].email} was changed outside the sign-on "
        "(responded_at differ from what the last event recorded)",
        f"the signature “{signature.display_name}” has no event that made it",
    ]


# (b) Rewriting an event and recomputing the hashes after it ---------------------------------


@pytest.mark.parametrize("digest", [plain_sha256, wrong_key], ids=["plain-sha256", "wrong-key"])
def test_rewriting_an_event_and_recomputing_the_later_hashes_is_detected(answered, digest):
    """Before the rewrite this verified clean: the chain was plain SHA-256, which anyone recomputes."""
    declined = answered.events.get(action=Action.DECLINED)
    rewritten = rewrite_from(answered, declined.sequence, {"reason": "We support it."}, digest)
    assert [e.action for e in rewritten] == ["declined", "approved"]
    assert selectors.verify_event_chain(sign_on=answered) == [
        f"event {event.sequence} ({event.action}) was altered" for event in rewritten
    ]


def test_the_same_rewrite_with_the_key_would_pass_so_the_key_is_what_protects_the_chain(answered):
    declined = answered.events.get(action=Action.DECLINED)
    rewrite_from(answered, declined.sequence, {"reason": "We support it."}, chain.digest)
    assert selectors.verify_event_chain(sign_on=answered) == []


def test_the_chain_is_keyed_outside_the_database_and_survives_a_key_rotation(members, settings):
    settings.EVENT_CHAIN_KEY = ""
    sign_on = open_new_sign_on(members)
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key"
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    sign(sign_on.invitations.first())  # hashed with the new key, chained to the old
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    settings.SECRET_KEY_FALLBACKS = []
    events = events_of(sign_on)
    assert selectors.verify_event_chain(sign_on=sign_on) == [
        f"event {e.sequence} ({e.action}) was altered" for e in events[:-1]
    ]
    settings.EVENT_CHAIN_KEY = "a key of its own"
    assert len(selectors.verify_event_chain(sign_on=sign_on)) == len(events)


# (c) Editing the rows directly ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda s, i: Signature.objects.filter(sign_on=s, display_name=HELD_NAME).update(
                display_name="Someone Else Entirely"
            ),
            "the signature “Someone Else Entirely” was changed outside the sign-on "
            "(display_name differ from what the last event recorded)",
        ),
        (
            lambda s, i: Signature.objects.filter(sign_on=s, response="declined").update(
                response="signed"
            ),
            "the signature “Association of Widget Makers 1 (AWM1)” was changed outside the "
            "sign-on (response differ from what the last event recorded)",
        ),
        (
            lambda s, i: Invitation.objects.filter(pk=i[2].pk).update(email="mallory@example.com"),
            "the invitation of mallory@example.com was changed outside the sign-on (email "
            "differ from what the last event recorded)",
        ),
        (
            lambda s, i: SignOn.objects.filter(pk=s.pk).update(
                deadline=s.deadline + datetime.timedelta(days=30)
            ),
            "the sign-on was changed outside the sign-on (deadline differ from what the last "
            "event recorded)",
        ),
    ],
    ids=["display-name", "decline-to-signature", "invitation-address", "deadline"],
)
def test_editing_a_row_directly_is_detected(answered, invitations, edit, problem):
    """Before the rewrite rows were not covered at all: only the events' own fields were hashed."""
    edit(answered, invitations)
    assert selectors.verify_event_chain(sign_on=answered) == [problem]


def test_approving_a_held_signature_with_a_queryset_update_is_detected(sign_on, invitations):
    """Before the rewrite this verified clean, and the signature printed."""
    held = sign(invitations[0], display_name=HELD_NAME)
    Signature.objects.filter(pk=held.pk).update(status=Signature.Status.APPROVED)
    assert Signature.objects.printable().filter(pk=held.pk).exists()
    assert selectors.verify_event_chain(sign_on=sign_on) == [
        f"the signature “{HELD_NAME}” was changed outside the sign-on (status differ from what "
        "the last event recorded)"
    ]


# (d) An honest sequence verifies -------------------------------------------------------------


def test_every_kind_of_change_made_through_the_services_verifies_with_the_key(
    db, django_capture_on_commit_callbacks, mailoutbox, settings
):
    """Each service records the state it leaves, so the rows always match the last event."""
    settings.EVENT_CHAIN_KEY = "the coalition's chain key"
    members = make_members(5)
    letter_revision = approved_revision(accepts_individuals=True)
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members, revision=letter_revision, days=10)
        services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    invitations = list(sign_on.invitations.order_by("organization__name"))

    def holds() -> None:
        assert selectors.verify_event_chain(sign_on=sign_on) == []

    with django_capture_on_commit_callbacks(execute=True):
        services.record_invitation_opened(invitation=invitations[0], actor=SIGNER)
        signed = sign(invitations[0])
        held = sign(invitations[1], display_name=HELD_NAME)
        decline(invitations[2], reason="Not our issue")
        colleague = services.forward_invitation(
            invitation=invitations[3],
            forwarding=Forwarding(name="Dana Counsel", email="dana@awm3.example.org"),
            actor=SIGNER,
        )
        request = ask_to_sign(sign_on)
        person = services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(person="Jane Doe", signer_email="jane@example.org"),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
    holds()
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_signature(signature=request, actor=SIGNER)
        services.approve_signature(signature=request, actor=STAFF_ACTOR)
        services.approve_signature(signature=held, actor=STAFF_ACTOR)
        services.reject_signatures(signatures=[person], actor=STAFF_ACTOR, reason="Unknown")
        by_colleague = sign(colleague, signer_name="Dana Counsel")
        withdraw(by_colleague, reason="Signed too early")
        late = ContactFactory(
            organization=members.organizations[4],
            email="late@awm4.example.org",
            is_authorized_signer=True,
        )
        services.invite_organizations(
            sign_on=sign_on, organizations=[late.organization], actor=STAFF_ACTOR
        )
        services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    holds()

    letter = sign_on.letter
    letter.title = "A joint letter on widgets, amended"
    new_revision = letter.save_revision()
    from letters.services import approve_for_circulation

    approve_for_circulation(revision=new_revision, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.recirculate_sign_on(
            sign_on=sign_on, revision=new_revision, material=True, note="Amended", actor=STAFF_ACTOR
        )
    sign_on.refresh_from_db()
    holds()
    signed.refresh_from_db()
    assert signed.status == Signature.Status.NEEDS_RECONFIRMATION
    with django_capture_on_commit_callbacks(execute=True):
        for signature in (signed, held):
            services.reconfirm_signature(
                signature=signature, text_hash=sign_on.text_hash, actor=SIGNER
            )
        services.close_open_link(sign_on=sign_on, actor=STAFF_ACTOR)
    holds()
    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        services.close_due_sign_ons()
        holds()
        publication = services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    holds()
    # The two reconfirmed print; the request that was not reconfirmed does not.
    assert [line["text"] for line in publication.signatories] == [
        "Association of Widget Makers 0 (AWM0)",
        HELD_NAME,
    ]
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.PUBLISHED
    assert sign_on.event_count == sign_on.events.count()
    assert mailoutbox


# (e) Publication refuses a broken chain ------------------------------------------------------


def test_publication_refuses_a_broken_chain_and_publishes_nothing(
    answered, django_capture_on_commit_callbacks, mailoutbox, staff_client
):
    """Before the rewrite publication did not verify the chain, and this edit would print."""
    services.close_sign_on(sign_on=answered, actor=STAFF_ACTOR)
    Signature.objects.filter(display_name=HELD_NAME).update(display_name="Widget Makers Untied")
    events = answered.events.count()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.SignOnError) as error,
    ):
        services.publish_sign_on(sign_on=answered, actor=STAFF_ACTOR)
    assert error.value.message == (
        "The sign-on's record does not hold, so it is not published: the signature “Widget "
        "Makers Untied” was changed outside the sign-on (display_name differ from what the last "
        "event recorded). Ask whoever runs the database what changed."
    )
    answered.refresh_from_db()
    assert answered.status == SignOn.Status.CLOSED
    assert answered.events.count() == events
    assert not Publication.objects.exists()
    assert not LetterPage.objects.get(pk=answered.letter_id).live
    assert (callbacks, mailoutbox) == ([], [])
    # The confirmation page says so before anyone presses the button.
    page = staff_client.get(reverse("signatories_admin:publish", args=[answered.pk]))
    assert (
        "The sign-on's record does not hold</strong>; publishing is refused"
        in page.content.decode()
    )
    assert "Widget Makers Untied" in page.content.decode()


# (f) The head is printed on the page and in the PDF ------------------------------------------


def test_the_published_page_and_its_pdf_carry_the_chain_s_head(
    answered, client, django_capture_on_commit_callbacks
):
    """Before the rewrite neither showed it: a later rewrite of the record went unnoticed."""
    services.close_sign_on(sign_on=answered, actor=STAFF_ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        publication = services.publish_sign_on(sign_on=answered, actor=STAFF_ACTOR)
    answered.refresh_from_db()
    publication = Publication.objects.get(pk=publication.pk)
    assert answered.events.last().action == Action.PUBLISHED
    assert (publication.chain_head, publication.chain_length) == (
        answered.last_event_hash,
        answered.event_count,
    )
    assert len(publication.chain_head) == 64

    page = client.get(answered.letter.url)
    assert page.status_code == 200
    assert f'<code class="chain-head">{publication.chain_head}</code>' in page.content.decode()
    assert f"with event {publication.chain_length}," in page.content.decode()

    with publication.pdf.open("rb") as fh:
        pdf = fh.read()
    assert hashlib.sha256(pdf).hexdigest() == publication.pdf_sha256
    info = PdfReader(io.BytesIO(pdf)).metadata
    # WeasyPrint keeps the letters and digits of a custom key: "sign-on-record" → "signonrecord".
    assert info["/signonrecord"] == (
        f"{publication.chain_length} events, last HMAC-SHA256 {publication.chain_head}"
    )


# (g) The tracker verifies on every load ------------------------------------------------------


def test_the_tracker_verifies_on_every_load_and_shows_a_broken_chain(answered, staff_client):
    """Before the rewrite verification ran only when staff asked for it."""
    url = reverse("signatories_admin:tracker", args=[answered.pk])
    assert url == f"/admin/sign-ons/{answered.pk}/"
    page = staff_client.get(url).content.decode()
    assert 'id="chain-problems"' not in page
    assert "The record holds" in page

    delete_last_event_and_rewind(answered)
    page = staff_client.get(url).content.decode()
    assert 'id="chain-problems"' in page
    assert "<strong>Broken</strong>" in page
    assert (
        f"the signature “{HELD_NAME}” was changed outside the sign-on (status differ from what "
        "the last event recorded)"
    ) in page


def test_each_action_is_stored_as_its_lowercase_name() -> None:
    # The chain hashes the stored value: renaming a member must never change what is written.
    assert all(action.value == action.name.lower() for action in Action)
