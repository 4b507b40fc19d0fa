import datetime
import itertools

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import Revision

from letters.models import LetterPage, Publication
from letters.services import approve_for_circulation
from letters.versions import revision_text_hash
from signatories import selectors, services, tokens
from signatories.inputs import Forwarding, IndividualSigning, Withdrawing
from signatories.models import Action, Event, Signature, SignOn
from tests.support.pdf import body, pdftotext
from tests.support.signing import (
    LINK,
    SIGNATURE_LINK,
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    ask_to_sign,
    decline,
    open_new_sign_on,
    sign,
    token_for,
)

NEEDS = Signature.Status.NEEDS_RECONFIRMATION
XSS = "<script>alert(1)</script>"
RECONFIRM_BUTTON = "Reconfirm the signature"


def new_revision(letter: LetterPage, *, approve: bool = True, **changes) -> Revision:
    letter = LetterPage.objects.get(pk=letter.pk)
    for name, value in changes.items():
        setattr(letter, name, value)
    revision = letter.save_revision()
    if approve:
        approve_for_circulation(revision=revision, user=None)
    return revision


MATERIAL_BODY = [
    {"type": "paragraph", "value": "<p>We write about widgets and gadgets.</p>"},
    {"type": "heading", "value": f"Our asks {XSS}"},
    {"type": "bullets", "value": ["<p>Fewer tariffs</p>", "<p>More widgets</p>"]},
    {"type": "paragraph", "value": "<p>We also ask for a hearing.</p>"},
]


def recirculate(sign_on: SignOn, *, material: bool, note: str = "", **changes) -> SignOn:
    changes.setdefault("body", MATERIAL_BODY)
    revision = new_revision(sign_on.letter, **changes)
    return services.recirculate_sign_on(
        sign_on=sign_on, revision=revision, material=material, note=note, actor=STAFF_ACTOR
    )


def url(token: str, name: str = "sign") -> str:
    return reverse(f"signatories:{name}", args=[token])


def reconfirm_data(sign_on: SignOn) -> dict:
    sign_on.refresh_from_db()
    return {"action": "reconfirm", "text_hash": sign_on.text_hash}


@pytest.fixture
def responses(sign_on, invitations) -> list[Signature]:
    """One approved signature; one held for review, signed by a colleague the request was passed
    to at an address not on file; one decline."""
    colleague = services.forward_invitation(
        invitation=invitations[1],
        forwarding=Forwarding(name="Nell Newcomer", email="new@example.com"),
        actor=SIGNER,
    )
    return [sign(invitations[0]), sign(colleague), decline(invitations[2])]


# Recirculating ----------------------------------------------------------------------------------


def test_it_keeps_the_signatures_after_a_minor_edit(
    sign_on, responses, mailoutbox, django_capture_on_commit_callbacks
):
    old_revision, old_hash = sign_on.revision, sign_on.text_hash
    before = [(s.pk, s.status, s.text_hash) for s in responses]

    with django_capture_on_commit_callbacks(execute=True):
        recirculate(sign_on, material=False, note="Typo fixed")

    sign_on.refresh_from_db()
    assert sign_on.previous_revision == old_revision
    assert sign_on.revision != old_revision
    assert sign_on.text_hash == revision_text_hash(sign_on.revision) != old_hash
    after = [(s.pk, s.status, s.text_hash) for s in Signature.objects.order_by("pk")]
    assert after == before
    assert mailoutbox == []
    event = sign_on.events.get(action=Action.RECIRCULATED)
    assert event.detail["material"] is False
    assert event.detail["previous_text_hash"] == old_hash
    assert event.detail["text_hash"] == sign_on.text_hash == event.text_hash
    assert event.detail["note"] == "Typo fixed"
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_a_material_change_asks_every_signer_to_reconfirm(
    client, sign_on, responses, mailoutbox, django_capture_on_commit_callbacks
):
    approved, pending, declined = responses
    assert (approved.status, pending.status) == ("approved", "pending_review")

    with django_capture_on_commit_callbacks(execute=True):
        recirculate(sign_on, material=True, note="We added a paragraph <b>now</b>")

    approved.refresh_from_db()
    pending.refresh_from_db()
    declined.refresh_from_db()
    assert (approved.status, approved.status_before_reconfirmation) == (NEEDS, "approved")
    assert (pending.status, pending.status_before_reconfirmation) == (NEEDS, "pending_review")
    assert (declined.status, declined.response) == ("approved", "declined")
    assert sign_on.events.filter(action=Action.RECONFIRMATION_REQUESTED).count() == 2
    assert selectors.verify_event_chain(sign_on=sign_on) == []

    # Each signer at the address they signed from; the organization that declined, the new text.
    by_address = {email.to[0]: email for email in mailoutbox}
    assert len(mailoutbox) == 3
    assert set(by_address) == {
        "pat0@awm0.example.org",
        "new@example.com",
        "pat2@awm2.example.org",
    }
    reconfirm = by_address["pat0@awm0.example.org"]
    assert reconfirm.subject == "Please reconfirm your signature: A joint letter on widgets"
    assert by_address["new@example.com"].subject == reconfirm.subject
    assert "We added a paragraph <b>now</b>" in reconfirm.body
    assert "{+We also ask for a hearing.+}" in reconfirm.body
    html = reconfirm.alternatives[0][0]
    assert "We added a paragraph &lt;b&gt;now&lt;/b&gt;" in html
    assert XSS not in html
    assert by_address["pat2@awm2.example.org"].subject.startswith("The text has changed")
    assert "that response stands" in by_address["pat2@awm2.example.org"].body
    # Tokens stay hashed; the link in the email is the signer's own, and opens the page that
    # asks for reconfirmation.
    path = SIGNATURE_LINK.search(reconfirm.body).group(1)
    assert path in html
    token = path.split("/")[3]
    assert not Signature.objects.filter(token_hash=token).exists()
    assert Signature.objects.get(token_hash=tokens.digest(token)) == approved
    colleague_path = SIGNATURE_LINK.search(by_address["new@example.com"].body).group(1)
    assert colleague_path == url(selectors.signature_link_token(pending), "signature")
    page = client.get(path).content.decode()
    assert "Please reconfirm the signature of Association of Widget Makers 0" in page
    assert RECONFIRM_BUTTON in page


def test_the_signer_page_shows_the_difference_escaped(client, sign_on, responses, invitations):
    tokens_ = [token_for(invitation) for invitation in invitations]
    recirculate(sign_on, material=True, salutation="Dear Secretary Roe:")

    response = client.get(url(tokens_[0]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "The text of the letter has changed since Pat Signer signed it." in page
    changes = page[
        page.index('<ol class="text-changes"') : page.index(
            "</ol>", page.index('<ol class="text-changes"')
        )
    ]
    assert '<span class="visually-hidden">[removed: </span>Doe:' in changes
    assert '<span class="visually-hidden">[added: </span>Roe:' in changes
    assert '<del><span class="visually-hidden">[removed: </span>Doe:' in changes
    assert "<ins>" in changes and "gadgets." in changes
    assert "We also ask for a hearing." in changes
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in changes
    assert XSS not in page
    sign_on.refresh_from_db()
    assert f'value="{sign_on.text_hash}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="action" value="reconfirm"' in page
    # Withdrawing instead is offered too, after one question (its own page).
    assert 'name="withdraw" value="1"' in page
    # The organization that declined has nothing to reconfirm.
    declined_page = client.get(url(tokens_[2])).content.decode()
    assert RECONFIRM_BUTTON not in declined_page


def test_reconfirming_restores_approved_and_prints_again(
    client, sign_on, responses, invitations, mailoutbox, django_capture_on_commit_callbacks
):
    token = token_for(invitations[0])
    recirculate(sign_on, material=True)
    assert sign_on.letter.signatory_lines() == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(token), reconfirm_data(sign_on))

    assert response.status_code == 302
    assert response["Location"] == url(token)
    signature = Signature.objects.get(pk=responses[0].pk)
    assert signature.status == "approved"
    assert signature.status_before_reconfirmation == ""
    assert signature.text_hash == sign_on.text_hash
    assert [line.text for line in sign_on.letter.signatory_lines()] == [signature.display_name]
    event = sign_on.events.get(action=Action.RECONFIRMED)
    assert event.signature == signature and event.detail["status"] == "approved"
    assert mailoutbox[-1].subject == "Signature reconfirmed: A joint letter on widgets"
    page = client.get(response["Location"]).content.decode()
    assert "is reconfirmed on the new text" in page
    assert RECONFIRM_BUTTON not in page
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_reconfirming_a_signature_held_for_review_returns_it_to_review(sign_on, responses):
    recirculate(sign_on, material=True)
    sign_on.refresh_from_db()

    signature = services.reconfirm_signature(
        signature=responses[1], text_hash=sign_on.text_hash, actor=SIGNER
    )

    assert signature.status == "pending_review"
    with pytest.raises(services.TransitionNotAllowed, match="does not need reconfirming"):
        services.reconfirm_signature(signature=signature, text_hash=sign_on.text_hash, actor=SIGNER)


def test_staff_cannot_approve_in_place_of_the_signer(sign_on, responses):
    recirculate(sign_on, material=True)

    with pytest.raises(services.TransitionNotAllowed, match="reconfirm"):
        services.approve_signature(signature=responses[1], actor=STAFF_ACTOR)
    assert Signature.objects.get(pk=responses[1].pk).status == NEEDS


def test_a_signer_may_withdraw_instead(client, sign_on, responses, invitations):
    token = token_for(invitations[0])
    recirculate(sign_on, material=True)

    response = client.post(
        url(token), {"action": "withdraw", "withdraw-reason": "Not with this text"}
    )

    assert response.status_code == 302
    assert Signature.objects.get(pk=responses[0].pk).status == "withdrawn"
    assert sign_on.events.get(action=Action.WITHDRAWN).detail["reason"] == "Not with this text"


def test_a_second_material_change_keeps_what_to_restore_and_diffs_from_the_signed_text(
    client, sign_on, responses, invitations
):
    token = token_for(invitations[1])
    recirculate(sign_on, material=True)
    recirculate(sign_on, material=True, closing="Respectfully,")

    signature = Signature.objects.get(pk=responses[1].pk)
    assert signature.status_before_reconfirmation == "pending_review"
    page = client.get(url(token)).content.decode()
    # The pending signature agreed to the first text: both changes show.
    assert "gadgets." in page and "Respectfully," in page


# Refusals ---------------------------------------------------------------------------------------


def test_reconfirming_is_refused_after_the_deadline(client, sign_on, responses, invitations):
    token = token_for(invitations[0])
    recirculate(sign_on, material=True)
    sign_on.refresh_from_db()

    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        with pytest.raises(services.ResponsesClosed):
            services.reconfirm_signature(
                signature=responses[0], text_hash=sign_on.text_hash, actor=SIGNER
            )
        response = client.post(url(token), reconfirm_data(sign_on))
        assert response.status_code == 410
        page = response.content.decode()
        assert "responses are no longer accepted" in page
        assert RECONFIRM_BUTTON not in page
    assert Signature.objects.get(pk=responses[0].pk).status == NEEDS


def test_reconfirming_with_a_stale_text_is_refused(client, sign_on, responses, invitations):
    token = token_for(invitations[0])
    recirculate(sign_on, material=True)
    stale = Signature.objects.get(pk=responses[0].pk).text_hash

    with pytest.raises(services.SignOnError) as error:
        services.reconfirm_signature(signature=responses[0], text_hash=stale, actor=SIGNER)
    assert error.value.field == "text_hash"
    # A stale or missing text is a bad request that says what to do, not a bare 400.
    response = client.post(url(token), {"action": "reconfirm", "text_hash": stale})
    assert response.status_code == 400
    assert "reload it and read the changes again" in response.content.decode()
    missing = client.post(url(token), {"action": "reconfirm"})
    assert missing.status_code == 400
    assert "reload it and read the changes again" in missing.content.decode()
    assert Signature.objects.get(pk=responses[0].pk).status == NEEDS
    assert not sign_on.events.filter(action=Action.RECONFIRMED).exists()


def test_reconfirming_is_refused_unless_reconfirmation_is_due(
    client, sign_on, responses, invitations
):
    with pytest.raises(services.TransitionNotAllowed):
        services.reconfirm_signature(
            signature=responses[0], text_hash=sign_on.text_hash, actor=SIGNER
        )
    token = token_for(invitations[0])
    response = client.post(url(token), reconfirm_data(sign_on))
    assert response.status_code == 409
    assert "no signature waiting to be reconfirmed" in response.content.decode()


def test_reconfirming_is_refused_on_a_closed_sign_on(sign_on, responses):
    recirculate(sign_on, material=True)
    sign_on.refresh_from_db()
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)

    with pytest.raises(services.ResponsesClosed):
        services.reconfirm_signature(
            signature=responses[0], text_hash=sign_on.text_hash, actor=SIGNER
        )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("closed", "Only an open sign-on"),
        ("cancelled", "Only an open sign-on"),
        ("past deadline", "The deadline has passed"),
        ("unapproved", "not been approved for circulation"),
        ("other letter", "another letter"),
        ("same revision", "already circulated"),
    ],
)
def test_recirculation_is_refused(case, message, sign_on, responses):
    revision = new_revision(sign_on.letter, body=MATERIAL_BODY, approve=case != "unapproved")
    if case == "closed":
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    elif case == "cancelled":
        services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    elif case == "other letter":
        revision = approved_revision(title="Another letter", slug="another")
    elif case == "same revision":
        revision = sign_on.revision
    sign_on.refresh_from_db()
    before = (sign_on.revision_id, sign_on.text_hash, sign_on.event_count)
    moment = sign_on.deadline + datetime.timedelta(minutes=1)

    with (
        time_machine.travel(
            moment if case == "past deadline" else datetime.datetime.now(datetime.UTC)
        ),
        pytest.raises(services.SignOnError, match=message),
    ):
        services.recirculate_sign_on(
            sign_on=sign_on, revision=revision, material=True, note="", actor=STAFF_ACTOR
        )

    sign_on.refresh_from_db()
    assert (sign_on.revision_id, sign_on.text_hash, sign_on.event_count) == before
    assert not Signature.objects.filter(status=NEEDS).exists()


# Printing ---------------------------------------------------------------------------------------


def test_signatures_awaiting_reconfirmation_do_not_print(
    client, sign_on, invitations, django_capture_on_commit_callbacks, tmp_path
):
    kept, dropped = sign(invitations[0]), sign(invitations[1])
    letter = sign_on.letter
    names = [line.text for line in letter.signatory_lines()]
    assert names == [kept.display_name, dropped.display_name]

    recirculate(sign_on, material=True)
    assert letter.signatory_lines() == []
    sign_on.refresh_from_db()
    services.reconfirm_signature(signature=kept, text_hash=sign_on.text_hash, actor=SIGNER)
    assert [line.text for line in letter.signatory_lines()] == [kept.display_name]

    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        publication = services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    publication.refresh_from_db()
    letter.refresh_from_db()
    assert [line["text"] for line in publication.signatories] == [kept.display_name]
    assert letter.live_revision_id == sign_on.revision_id
    page = client.get(letter.url).content.decode()
    assert kept.display_name in page and dropped.display_name not in page
    assert "gadgets." in page
    text = pdftotext(body(client.get(f"{letter.url}pdf/")), tmp_path)
    assert "Widget Makers 0" in text and "Widget Makers 1" not in text
    assert Publication.objects.count() == 1


# Transitions ------------------------------------------------------------------------------------

STATUSES = list(Signature.Status.values)
PAIRS = [(c, t) for c, t in itertools.product(STATUSES, STATUSES) if NEEDS in (c, t)]


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_it_allows_exactly_the_reconfirmation_transitions_in_the_table(
    current, target, sign_on, invitations
):
    allowed = target in Signature.TRANSITIONS[current]
    assert Signature.can_transition(current, target) is allowed
    signature = sign(invitations[0])
    restores = (
        target
        if current == NEEDS and target in ("unconfirmed", "pending_review", "approved")
        # Staff reject what was waiting for their review before the change.
        else "pending_review"
        if current == NEEDS and target == "rejected"
        else ""
    )
    Signature.objects.filter(pk=signature.pk).update(
        status=current, status_before_reconfirmation=restores
    )
    signature.refresh_from_db()
    if target == NEEDS:
        # A material change is the only way there: it moves every active signature.
        recirculate(sign_on, material=True)
        signature.refresh_from_db()
        expected = NEEDS if allowed or current == NEEDS else current
        assert signature.status == expected
        if allowed:
            assert signature.status_before_reconfirmation == current
        return
    sign_on.refresh_from_db()

    def drive() -> None:
        if target == "withdrawn":
            services.withdraw_signature(
                signature=signature, withdrawing=Withdrawing(), actor=SIGNER
            )
        elif target == "rejected":
            services.reject_signature(signature=signature, actor=STAFF_ACTOR, reason="No")
        else:
            services.reconfirm_signature(
                signature=signature, text_hash=sign_on.text_hash, actor=SIGNER
            )

    if allowed:
        drive()
        signature.refresh_from_db()
        # Reconfirming from the emailed link proves the address: a request that was never
        # confirmed goes to review, not back to unconfirmed.
        assert signature.status == ("pending_review" if target == "unconfirmed" else target)
    else:
        with pytest.raises(services.TransitionNotAllowed):
            drive()
        signature.refresh_from_db()
        assert signature.status == current


# Open-link signers and organizations that have not answered -----------------------------------


def open_link_signature(sign_on: SignOn, kind: str, state: str) -> Signature:
    """A response through the open link, confirmed from its email, and approved if asked."""
    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    if kind == "organization":
        signature = ask_to_sign(sign_on)
    else:
        signature = services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(person="Sam Rivera", signer_email="sam@robots.example.org"),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
    signature = services.confirm_signature(signature=signature, actor=SIGNER)
    if state == "approved":
        signature = services.approve_signature(signature=signature, actor=STAFF_ACTOR)
    assert signature.status == state
    return signature


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("organization", "pending_review"),
        ("organization", "approved"),
        ("individual", "approved"),
    ],
)
def test_a_material_change_reaches_open_link_signers_and_those_who_have_not_answered(
    kind,
    state,
    client,
    staff_client,
    members,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """Finding 5: an open-link signer was set to need reconfirmation, never emailed, and gone
    from the review queue and the tracker; organizations that had not answered got nothing."""
    sign_on = open_new_sign_on(members, revision=approved_revision(accepts_individuals=True))
    signature = open_link_signature(sign_on, kind, state)
    link = url(selectors.signature_link_token(signature), "signature")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        recirculate(sign_on, material=True, note="A new ask")

    signature.refresh_from_db()
    assert (signature.status, signature.status_before_reconfirmation) == (NEEDS, state)
    by_address = {email.to[0]: email for email in mailoutbox}
    assert len(mailoutbox) == 4
    assert set(by_address) == {"sam@robots.example.org", *(c.email for c in members.contacts)}
    # The open-link signer: the difference, and their own link.
    email = by_address["sam@robots.example.org"]
    assert email.subject == "Please reconfirm your signature: A joint letter on widgets"
    assert email.body.startswith("Dear Sam Rivera,")
    assert "{+We also ask for a hearing.+}" in email.body
    assert "A new ask" in email.body
    assert SIGNATURE_LINK.search(email.body).group(1) == link
    assert link in email.alternatives[0][0]
    # Everyone invited whose organization has not answered: the new text, at their own link.
    for invitation in sign_on.invitations.all():
        told = by_address[invitation.email]
        assert told.subject.startswith("The text has changed: A joint letter on widgets")
        assert told.body.startswith(f"Dear {invitation.name},")
        assert LINK.search(told.body).group(1) == url(token_for(invitation))
    # Nobody drops out of sight: the review page and the tracker still show the signature, as
    # waiting for its signer (not for staff) while the sign-on is open.
    assert signature in selectors.awaiting_reconfirmation()
    assert signature not in selectors.review_queue()
    assert [row.response for row in selectors.tally(sign_on).open_link] == [signature]
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert tracker.context["tally"].open_link_totals["signer"] == 1
    html = tracker.content.decode()
    row = html[html.index(f"<td>{signature.signer_name if kind == 'individual' else 'Robot'}") :]
    assert "Signed, awaiting reconfirmation" in row[: row.index("</tr>")]
    review = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert signature.display_name in review

    page = client.get(link).content.decode()
    assert RECONFIRM_BUTTON in page and "gadgets." in page
    response = client.post(link, reconfirm_data(sign_on))

    assert response.status_code == 302 and response["Location"] == link
    signature.refresh_from_db()
    assert signature.status == state
    assert signature.text_hash == sign_on.text_hash
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_a_request_never_confirmed_stays_out_of_review_after_a_material_change(members):
    """Finding 4/5: only a confirmed request reaches review, a material change notwithstanding."""
    sign_on = open_new_sign_on(members)
    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    request = ask_to_sign(sign_on)

    recirculate(sign_on, material=True)

    request.refresh_from_db()
    assert request.confirmed_at is None
    assert request not in selectors.review_queue()
    assert request in selectors.unconfirmed_requests()
    services.reject_signatures(signatures=[request], actor=STAFF_ACTOR, reason="Never confirmed")


# Staff ------------------------------------------------------------------------------------------


def test_staff_circulate_a_new_revision_from_the_tracker(
    staff_client, sign_on, responses, mailoutbox, django_capture_on_commit_callbacks
):
    tracker = reverse("signatories_admin:tracker", args=[sign_on.pk])
    older = sign_on.revision
    revision = new_revision(sign_on.letter, body=MATERIAL_BODY)
    new_revision(sign_on.letter, approve=False, closing="Not approved")
    page = staff_client.get(tracker).content.decode()
    assert "Circulate a new revision" in page
    assert f'<option value="{revision.circulation_approval.pk}"' in page
    assert f'value="{older.circulation_approval.pk}"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:recirculate", args=[sign_on.pk]),
            {"approval": revision.circulation_approval.pk, "change": "material", "note": "New ask"},
        )

    assert response.status_code == 302 and response["Location"] == tracker
    sign_on.refresh_from_db()
    assert sign_on.revision == revision and sign_on.previous_revision == older
    assert Signature.objects.filter(status=NEEDS).count() == 2
    assert len(mailoutbox) == 3
    event = sign_on.events.get(action=Action.RECIRCULATED)
    assert event.actor == "staff" and event.detail["note"] == "New ask"
    page = staff_client.get(tracker)
    html = page.content.decode()
    # The two signatures wait for their signers: counted apart from staff's, each row saying why.
    assert html.count("<td>Signed, awaiting reconfirmation</td>") == 2
    totals = page.context["tally"].totals
    assert (totals["signed"], totals["review"], totals["signer"], totals["declined"]) == (
        0,
        0,
        2,
        1,
    )
    # Nothing newer is approved now: the form says how to get one.
    assert "No newer revision of this letter is approved for circulation" in html


def test_the_staff_form_names_the_field_in_error(staff_client, sign_on, responses):
    other = approved_revision(title="Another letter", slug="another")
    recirculate_url = reverse("signatories_admin:recirculate", args=[sign_on.pk])

    response = staff_client.post(recirculate_url, {"change": "sideways"})
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(e.startswith("Revision: This field is required") for e in errors)
    assert any(e.startswith("Kind of change: Select a valid choice") for e in errors)

    response = staff_client.post(
        recirculate_url, {"approval": other.circulation_approval.pk, "change": "minor"}
    )
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(e.startswith("Revision: Select a valid choice") for e in errors)

    revision = new_revision(sign_on.letter, body=MATERIAL_BODY)
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    response = staff_client.post(
        recirculate_url, {"approval": revision.circulation_approval.pk, "change": "minor"}
    )
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert errors
    assert not Event.objects.filter(action=Action.RECIRCULATED).exists()
    sign_on.refresh_from_db()
    assert sign_on.revision != revision


def test_only_staff_who_may_change_sign_ons_recirculate(client, sign_on):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    revision = new_revision(sign_on.letter, body=MATERIAL_BODY)
    response = client.post(
        reverse("signatories_admin:recirculate", args=[sign_on.pk]),
        {"approval": revision.circulation_approval.pk, "change": "minor"},
    )
    assert response.status_code in (302, 403)
    sign_on.refresh_from_db()
    assert sign_on.revision != revision
