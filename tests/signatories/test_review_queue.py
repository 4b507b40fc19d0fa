"""The review queue: holds counted by who must act, signatures held for reconfirmation settled by
staff once the sign-on has closed (after publication too, as a correction), several approved at
once, and display names corrected with the signer told."""

import datetime

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.urls import reverse

from coalition.crm.models import Contact
from signatories import selectors, services
from signatories.models import Action, Signature
from tests.factories import OrganizationFactory
from tests.support.signing import SIGNER, STAFF_ACTOR, ask_to_sign, open_new_sign_on, sign

from .test_recirculation import recirculate

NEEDS = Signature.Status.NEEDS_RECONFIRMATION
REVIEW = reverse("signatories_admin:review")


def held_for_review(invitation, **signing) -> Signature:
    """A signature printed under another name than the organization's: it waits for review."""
    return sign(invitation, display_name=signing.pop("display_name", "Widget Friends"), **signing)


@pytest.fixture
def not_reconfirmed(sign_on, invitations) -> list[Signature]:
    """Two signatures (one approved, one held for review) that a material change put back to
    their signers, who did not reconfirm before the sign-on closed."""
    signatures = [sign(invitations[0]), held_for_review(invitations[1])]
    recirculate(sign_on, material=True)
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    for signature in signatures:
        signature.refresh_from_db()
        assert signature.status == NEEDS
    return signatures


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# After close ------------------------------------------------------------------------------------


def test_a_signature_held_for_reconfirmation_at_the_close_waits_for_staff(sign_on, not_reconfirmed):
    """Issue 15: held for reconfirmation when the sign-on closed, a signature could never be
    approved afterwards, and kept counting as waiting for review."""
    sign_on.refresh_from_db()

    assert list(selectors.review_queue()) == not_reconfirmed
    assert list(selectors.awaiting_reconfirmation()) == []
    counts = selectors.tally(sign_on)
    assert {row.state for row in counts.invited if row.response} == {"not_reconfirmed"}
    assert (counts.waiting_for_review, counts.waiting_for_signer) == (2, 0)
    for signature in not_reconfirmed:
        assert signature.awaits(responses_open=False) == "staff"
        assert signature.staff_may_approve(responses_open=False)
        assert signature.staff_may_reject(responses_open=False)


def test_staff_approve_one_with_a_note_of_how_the_signer_agreed(
    staff_client, sign_on, not_reconfirmed, mailoutbox, django_capture_on_commit_callbacks
):
    approved, _ = not_reconfirmed
    approve = reverse("signatories_admin:approve", args=[approved.pk])

    refused = staff_client.post(approve, {"note": ""})
    assert any("say how its signer agreed" in m for m in messages_of(refused))
    assert Signature.objects.get(pk=approved.pk).status == NEEDS

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(approve, {"note": "She agreed by phone on 3 March."})

    assert response["Location"] == REVIEW
    approved.refresh_from_db()
    assert approved.status == Signature.Status.APPROVED
    assert approved.status_before_reconfirmation == ""
    event = sign_on.events.get(action=Action.APPROVED, signature=approved)
    assert event.detail["not_reconfirmed"] == {
        "signed_text_hash": approved.text_hash,
        "note": "She agreed by phone on 3 March.",
    }
    assert approved.text_hash != Signature.objects.get(pk=approved.pk).sign_on.text_hash
    [email] = mailoutbox
    assert email.to == [approved.signer_email]
    assert "the sign-on closed before you reconfirmed" in email.body
    assert "She agreed by phone on 3 March." in email.body
    assert "already published" not in email.body
    assert len(Signature.objects.printable_lines(sign_on.letter)) == 1
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_staff_reject_one_approved_before_the_change_once_closed(sign_on, not_reconfirmed):
    approved, _ = not_reconfirmed
    services.reject_signature(signature=approved, actor=STAFF_ACTOR, reason="Never reconfirmed")
    approved.refresh_from_db()
    assert approved.status == Signature.Status.REJECTED


def test_while_open_the_signer_reconfirms_and_staff_may_not_settle_it(sign_on, invitations):
    approved, held = sign(invitations[0]), held_for_review(invitations[1])
    recirculate(sign_on, material=True)
    approved.refresh_from_db()

    assert list(selectors.awaiting_reconfirmation()) == [approved, held]
    assert not selectors.review_queue().exists()
    with pytest.raises(services.TransitionNotAllowed, match="once the sign-on has closed"):
        services.approve_signature(signature=approved, actor=STAFF_ACTOR, note="By phone")
    # Staff had approved it before the change: only its signer withdraws it while open.
    with pytest.raises(services.TransitionNotAllowed, match="only one waiting for review"):
        services.reject_signature(signature=approved, actor=STAFF_ACTOR, reason="No")
    # One that was waiting for their review, they may reject.
    services.reject_signature(signature=held, actor=STAFF_ACTOR, reason="Not its name")

    # Past the deadline, before the job closes it, it is staff's.
    sign_on.refresh_from_db()
    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        assert list(selectors.review_queue()) == [approved]
        services.approve_signature(signature=approved, actor=STAFF_ACTOR, note="By email")
    approved.refresh_from_db()
    assert approved.status == Signature.Status.APPROVED


def test_after_publication_a_late_approval_is_the_next_correction(
    staff_client, sign_on, not_reconfirmed, mailoutbox, django_capture_on_commit_callbacks
):
    approved, held = not_reconfirmed
    services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    letter = sign_on.letter
    assert letter.publications.get().signatories == []
    # The corrections page cannot add it beside its hold: it points to the review queue.
    with pytest.raises(services.AlreadyResponded, match="waits in the review queue"):
        services.add_signatory(
            letter=letter,
            organization=approved.organization,
            display_name=approved.display_name,
            reason="Signed by email",
            actor=STAFF_ACTOR,
        )
    page = BeautifulSoup(staff_client.get(REVIEW).content, "html.parser")
    assert page.find(id=f"review-{approved.pk}").find(class_="after-publication") is not None

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:approve_ticked"),
            {"signature": [approved.pk, held.pk], "note": "Both confirmed by email."},
        )

    [message] = messages_of(response)
    assert message.startswith("Approved 2 signatures:")
    assert "already published: the approved signatures print from the next correction" in message
    assert {s.status for s in Signature.objects.filter(pk__in=[approved.pk, held.pk])} == {
        "approved"
    }
    assert all("next dated correction" in email.body for email in mailoutbox)
    corrections = staff_client.get(reverse("signatories_admin:corrections", args=[letter.pk]))
    pending = BeautifulSoup(corrections.content, "html.parser").find(id="pending-changes")
    assert "Added: Association of Widget Makers 0 (AWM0)" in pending.get_text()
    assert "Added: Widget Friends" in pending.get_text()
    correction = services.publish_correction(
        letter=letter, note="Two late signatures.", actor=STAFF_ACTOR
    )
    assert correction.changes["added"] == [
        "Association of Widget Makers 0 (AWM0)",
        "Widget Friends",
    ]
    assert not selectors.review_queue().exists()
    assert selectors.verify_event_chain(sign_on=sign_on) == []


# Holds counted apart ----------------------------------------------------------------------------


def test_the_dashboard_counts_holds_for_staff_apart_and_its_rows_add_up(staff_client, members):
    """Issue 15: the dashboard said "2 wait for review" where its rows added up to 1: it
    counted holds waiting for the signer."""
    from tests.support.signing import approved_revision

    first = open_new_sign_on(members)
    second = open_new_sign_on(members, revision=approved_revision(slug="second", title="Second"))
    sign(first.invitations.select_related("sign_on", "organization").order_by("pk")[1])
    recirculate(first, material=True)  # the approved signature now waits for its signer
    held_for_review(first.invitations.select_related("sign_on", "organization").order_by("pk")[0])
    services.issue_open_link(sign_on=first, actor=STAFF_ACTOR, accepts_requests=True)
    first.refresh_from_db()
    ask_to_sign(first)  # waits for its signer to confirm the address
    sign(second.invitations.select_related("sign_on", "organization").first())
    recirculate(second, material=True)
    services.close_sign_on(sign_on=second, actor=STAFF_ACTOR)  # now staff's to settle

    response = staff_client.get(reverse("wagtailadmin_home"))
    page = BeautifulSoup(response.content, "html.parser")

    total = page.find(id="review-queue-total").get_text(" ", strip=True)
    assert total.startswith("2 signatures wait for review.")
    assert (
        page.find(id="signer-holds-total")
        .get_text(" ", strip=True)
        .startswith("2 wait for their signers")
    )
    row = page.find(id="open-sign-on-list").find(id=f"sign-on-{first.pk}")
    assert row.find(class_="waiting-for-review").get_text(strip=True) == "1 waiting"
    assert row.find(class_="waiting-for-signer").get_text(strip=True) == "2 waiting"
    closed = page.find(id="sign-ons-to-publish").find(id=f"sign-on-{second.pk}")
    assert closed.find(class_="waiting-for-review").get_text(strip=True) == "1 waiting for review"
    # The rows add up to the total, and the total is the review queue.
    cells = page.find(id="open-sign-ons-section").find_all(class_="waiting-for-review")
    assert sum(int(c.get_text().split()[0]) for c in cells if c.get_text()[0].isdigit()) == 2
    assert selectors.review_queue().count() == 2

    # The tracker says the same, from the same selector.
    first.refresh_from_db()
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[first.pk]))
    soup = BeautifulSoup(tracker.content, "html.parser")
    assert soup.find(id="holds-for-review").get_text() == "1"
    assert soup.find(id="holds-for-signer").get_text() == "2"
    [progress] = selectors.progress_of([first])
    assert (progress.waiting_for_review, progress.waiting_for_signer) == (1, 2)


def test_the_signers_own_hold_shows_on_the_review_page_but_not_as_theirs_to_approve(
    staff_client, sign_on, invitations
):
    approved = sign(invitations[0])
    recirculate(sign_on, material=True)

    page = BeautifulSoup(staff_client.get(REVIEW).content, "html.parser")

    assert "Nothing waits for review." in page.get_text()
    waiting = page.find("table", attrs={"aria-labelledby": "with-signers-heading"})
    assert approved.display_name in waiting.get_text()
    assert "approved before the change" in waiting.get_text()
    assert reverse("signatories_admin:approve", args=[approved.pk]) not in str(page)


# Several at once --------------------------------------------------------------------------------


@pytest.fixture
def three_held(sign_on, invitations) -> list[Signature]:
    Contact.objects.update(is_authorized_signer=False)
    return [sign(invitation) for invitation in invitations]


def test_staff_approve_the_ticked_signatures_at_once(
    staff_client, sign_on, three_held, mailoutbox, django_capture_on_commit_callbacks
):
    first, second, third = three_held
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:approve_ticked"), {"signature": [first.pk, third.pk]}
        )

    assert response["Location"] == REVIEW
    assert messages_of(response) == [
        "Approved 2 signatures: “Association of Widget Makers 0 (AWM0)”; “Association of "
        "Widget Makers 2 (AWM2)”. Each signer is emailed."
    ]
    statuses = dict(Signature.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "approved", second.pk: "pending_review", third.pk: "approved"}
    assert sorted(email.to[0] for email in mailoutbox) == [first.signer_email, third.signer_email]
    assert all(email.subject.startswith("Signature approved") for email in mailoutbox)
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_approving_several_is_all_or_nothing_with_a_clear_message(
    staff_client, sign_on, three_held, mailoutbox, django_capture_on_commit_callbacks
):
    first, second, _ = three_held
    services.reject_signature(signature=second, actor=STAFF_ACTOR, reason="Not them")
    events = sign_on.events.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:approve_ticked"),
            {"signature": [first.pk, second.pk], f"display_name-{first.pk}": "AWM Zero"},
        )

    assert messages_of(response) == [
        "Nothing was approved: The signature of Association of Widget Makers 1 (AWM1) is "
        "rejected: only one waiting for review can be approved."
    ]
    first.refresh_from_db()
    assert (first.status, first.display_name) == (
        "pending_review",
        "Association of Widget Makers 0 (AWM0)",
    )
    assert sign_on.events.count() == events
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("ticked", "note", "message"),
    [
        ([], "", "Tick the signatures to approve."),
        (["x", "²", "99999999999999999999", "-1"], "", "Tick the signatures to approve."),
        (
            ["first"],
            "n" * 2001,
            "Nothing was approved. Note: at most 2000 characters (this has 2001).",
        ),
    ],
)
def test_approving_nothing_or_garbage_is_refused_with_a_message(
    staff_client, three_held, ticked, note, message
):
    ticked = [str(three_held[0].pk) if value == "first" else value for value in ticked]
    response = staff_client.post(
        reverse("signatories_admin:approve_ticked"), {"signature": ticked, "note": note}
    )
    assert response.status_code == 302
    assert messages_of(response)[0].startswith(message)
    assert not Signature.objects.filter(status="approved").exists()


def test_the_queue_ticks_each_signature_with_its_line_in_a_fixed_number_of_queries(
    staff_client, three_held, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = staff_client.get(REVIEW)
    page = BeautifulSoup(response.content, "html.parser")
    for signature in three_held:
        item = page.find(id=f"review-{signature.pk}")
        assert item.find("input", attrs={"name": "signature"})["value"] == str(signature.pk)
        line = item.find("input", attrs={"name": f"display_name-{signature.pk}"})
        assert line["value"] == signature.display_name and line["maxlength"] == "300"
    buttons = {b.get_text(strip=True): b.get("formaction") for b in page.find_all("button")}
    assert buttons["Approve the ticked signatures"] == reverse("signatories_admin:approve_ticked")


# Display names ----------------------------------------------------------------------------------


def test_staff_correct_a_display_name_and_the_signer_is_told_old_and_new(
    staff_client, sign_on, three_held, mailoutbox, django_capture_on_commit_callbacks
):
    signature = three_held[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:correct_display_name", args=[signature.pk]),
            {f"display_name-{signature.pk}": "  AWM |  The   Widget Makers\x07 "},
        )

    assert messages_of(response) == [
        "“Association of Widget Makers 0 (AWM0)” now prints as “AWM | The Widget Makers”; its "
        "signer is emailed the correction."
    ]
    signature.refresh_from_db()
    assert signature.display_name == "AWM | The Widget Makers"
    assert signature.status == Signature.Status.PENDING_REVIEW
    event = sign_on.events.get(action=Action.DISPLAY_NAME_CORRECTED)
    assert event.detail == {
        "display_name": {
            "old": "Association of Widget Makers 0 (AWM0)",
            "new": "AWM | The Widget Makers",
        }
    }
    assert event.state["signature"]["display_name"] == "AWM | The Widget Makers"
    [email] = mailoutbox
    assert email.to == [signature.signer_email]
    assert email.subject == "How your signature prints, corrected: A joint letter on widgets"
    assert "Association of Widget Makers 0 (AWM0)" in email.body
    assert "AWM | The Widget Makers" in email.body
    assert "AWM | The Widget Makers" in email.alternatives[0][0]
    assert selectors.verify_event_chain(sign_on=sign_on) == []

    # The outbox sends it once however often the job runs.
    from signatories.tasks import send_signature_email

    send_signature_email.call(signature.pk, "display_name_corrected")
    assert len(mailoutbox) == 1


def test_staff_correct_the_line_when_approving_and_the_approval_says_so(
    staff_client, sign_on, three_held, mailoutbox, django_capture_on_commit_callbacks
):
    signature = three_held[1]
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("signatories_admin:approve", args=[signature.pk]),
            {f"display_name-{signature.pk}": "Widget Makers One"},
        )

    signature.refresh_from_db()
    assert (signature.status, signature.display_name) == ("approved", "Widget Makers One")
    corrected, approved = sign_on.events.filter(signature=signature).order_by("sequence")[1:]
    assert corrected.action == Action.DISPLAY_NAME_CORRECTED
    assert corrected.detail["display_name"] == {
        "old": "Association of Widget Makers 1 (AWM1)",
        "new": "Widget Makers One",
    }
    assert approved.detail["display_name"] == corrected.detail["display_name"]
    [email] = mailoutbox  # one email: the approval, which tells of the correction
    assert email.subject.startswith("Signature approved")
    assert "Widget Makers One" in email.body
    assert 'it was "Association of Widget Makers 1 (AWM1)"' in email.body
    assert Signature.objects.printable_lines(sign_on.letter)[0].text == "Widget Makers One"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "The name as it will print: this is required."),
        ("   \x00 ", "The name as it will print: this is required."),
        ("x" * 301, "The name as it will print: at most 300 characters (this has 301)."),
        # The signer's own cleaning, bidirectional controls refused (part of the same issue).
        ("AWM\u202e0MWA", "The name as it will print: contains U+202E"),
        ("Association of Widget Makers 0 (AWM0)", "already: type the corrected line."),
    ],
)
def test_a_bad_display_name_is_refused_naming_the_field(
    staff_client, sign_on, three_held, mailoutbox, typed, message
):
    signature = three_held[0]
    events = sign_on.events.count()
    response = staff_client.post(
        reverse("signatories_admin:correct_display_name", args=[signature.pk]),
        {f"display_name-{signature.pk}": typed},
    )
    [said] = messages_of(response)
    assert said.startswith("The line of “Association of Widget Makers 0 (AWM0)” is unchanged:")
    assert message in said
    assert sign_on.events.count() == events
    assert Signature.objects.get(pk=signature.pk).display_name == signature.display_name
    # The same rules when approving: nothing is approved.
    if typed != signature.display_name:
        staff_client.post(
            reverse("signatories_admin:approve", args=[signature.pk]),
            {f"display_name-{signature.pk}": typed},
        )
        assert Signature.objects.get(pk=signature.pk).status == "pending_review"


def test_only_a_signature_waiting_for_staff_has_its_line_corrected(sign_on, invitations):
    approved = sign(invitations[0])
    with pytest.raises(services.TransitionNotAllowed, match="only one waiting for review"):
        services.correct_display_name(signature=approved, display_name="Other", actor=STAFF_ACTOR)
    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    sign_on.refresh_from_db()
    request = ask_to_sign(sign_on)
    with pytest.raises(services.TransitionNotAllowed, match="never confirmed"):
        services.correct_display_name(signature=request, display_name="Other", actor=STAFF_ACTOR)


def test_a_person_corrected_sorts_by_the_new_line(sign_on, members):
    from signatories.inputs import IndividualSigning
    from tests.support.signing import approved_revision

    other = open_new_sign_on(
        members, revision=approved_revision(slug="people", accepts_individuals=True)
    )
    services.issue_open_link(sign_on=other, actor=STAFF_ACTOR, accepts_requests=True)
    other.refresh_from_db()
    person = services.sign_as_individual(
        sign_on=other,
        signing=IndividualSigning(person="Zed Last", signer_email="zed@example.org"),
        text_hash=other.text_hash,
        actor=SIGNER,
    )
    services.confirm_signature(signature=person, actor=SIGNER)
    services.correct_display_name(signature=person, display_name="Ann First", actor=STAFF_ACTOR)
    person.refresh_from_db()
    assert person.sort_key == "Ann First"


def test_the_transition_table_allows_every_move_staff_make(db):
    """Whatever staff may approve or reject (Signature.awaits), the table allows."""
    organization = OrganizationFactory()
    for status in Signature.Status.values:
        for before in ["", *Signature.Status.values]:
            for responses_open in (True, False):
                signature = Signature(
                    organization=organization, status=status, status_before_reconfirmation=before
                )
                if signature.staff_may_approve(responses_open=responses_open):
                    assert Signature.can_transition(status, Signature.Status.APPROVED)
                    assert not signature.never_confirmed
                if signature.staff_may_reject(responses_open=responses_open):
                    assert Signature.can_transition(status, Signature.Status.REJECTED)
