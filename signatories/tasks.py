"""Email jobs: invitations, reminders, forwards, the text changing, what became of a response,
the letter published or corrected, and the sign-on closed (a draft shared for comment: in
signatories.draft_emails, whose jobs this module names too).

Arguments are ids (JSON-serialisable). Each job reads the current state, checks the email still
applies (someone may have answered while it waited in the queue), derives the link from the
row's nonce and hands the email to `deliveries.deliver`, which sends it once however often the
job runs, and queues the job again (with `retrying`, the delivery's id) while the mail server is
away. Jobs change nothing in the database and import no service: the services queue them. The
one job that is no email, `keep_checkpoint`, appends a record's head to a log outside it.
"""

import datetime
from typing import Any

from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from coalition.core import deliveries, emails
from coalition.core.deliveries import Outgoing
from letters import text_diff
from letters.models import Publication

from . import checkpoints, selectors
from .deadlines import describe_deadline, format_moment

# Named here too: jobs queued before the drafts' emails had a module of their own run on.
from .draft_emails import send_draft_decision as send_draft_decision
from .draft_emails import send_draft_share as send_draft_share
from .models import Action, Event, Invitation, Signature, SignOn

# Each email follows a change recorded as an event, by kind: the latest such event is the
# email's occasion. A job that runs twice finds the email of that occasion sent; the next
# reminder or forward is a new event, and sends. The new text follows the sign-on's own event.
INVITATION_EMAILS: dict[str, tuple[Action, ...]] = {
    "invitation": (Action.INVITED,),
    "reminder": (Action.REMINDER_SENT,),
    "forwarded": (Action.FORWARDED,),
    "text_changed": (Action.RECIRCULATED,),
    "deadline_changed": (Action.DEADLINE_NOTIFIED,),
}
INVITATION_TEMPLATES = {
    "text_changed": "invitation-text-changed",
    "deadline_changed": "deadline-changed",
}
SIGNATURE_EMAILS: dict[str, tuple[Action, ...]] = {
    "signed": (Action.SIGNED, Action.CONFIRMED),
    "declined": (Action.DECLINED,),
    "confirm": (Action.REQUESTED, Action.INDIVIDUAL_SIGNED),
    "withdrawn": (Action.WITHDRAWN,),
    # Staff approve, or the sign-on's rule approves a person as they confirm their address.
    "approved": (Action.APPROVED, Action.CONFIRMED),
    "rejected": (Action.REJECTED,),
    "reconfirmed": (Action.RECONFIRMED,),
    "display_name_corrected": (Action.DISPLAY_NAME_CORRECTED,),
}


def _deadline_context(sign_on: SignOn) -> dict[str, str]:
    return {
        "letter_title": sign_on.letter.title,
        "deadline": describe_deadline(sign_on.deadline),
        "deadline_at": format_moment(sign_on.deadline),
    }


def _occasion(sign_on_id: int, actions: tuple[Action, ...], **about: int) -> str:
    """The latest event of these actions (about this row): "event 12", or "" if none is recorded."""
    latest = _latest_event(sign_on_id, actions, **about)
    return f"event {latest[0]}" if latest is not None else ""


def _latest_event(
    sign_on_id: int, actions: tuple[Action, ...], **about: int
) -> tuple[int, int, str] | None:
    """The latest event of these actions (about this row): its id, number and keyed hash."""
    return (
        Event.objects.filter(sign_on_id=sign_on_id, action__in=actions, **about)
        .order_by("-sequence")
        .values_list("pk", "sequence", "hash")
        .first()
    )


@task(backend="background", queue_name="email")
def send_invitation(
    invitation_id: int, kind: str, note: str = "", retrying: int | None = None
) -> int:
    """Email one invited person their link: the invitation, a reminder, a colleague's forward,
    the new text after a material change, or the deadline moved."""
    if kind not in INVITATION_EMAILS:
        raise ValueError(f"unknown invitation email {kind!r}")
    outgoing = _invitation_email(invitation_id, kind, note)
    sent = deliveries.deliver(
        outgoing, job=send_invitation, args=(invitation_id, kind, note), retrying=retrying
    )
    return int(sent)


def _invitation_email(invitation_id: int, kind: str, note: str) -> Outgoing | None:
    invitation = (
        Invitation.objects.select_related(
            "sign_on", "sign_on__letter", "organization", "contact", "forwarded_by"
        )
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.sign_on.status != SignOn.Status.OPEN:
        return None
    if invitation.contact is not None and invitation.contact.email_opt_out:
        return None
    # The organization may have answered while a reminder or the new text waited in the queue.
    waiting = selectors.awaiting_response(invitation.sign_on).filter(pk=invitation.pk)
    if kind in {"reminder", "text_changed", "deadline_changed"} and not waiting.exists():
        return None
    sign_on = invitation.sign_on
    about = {} if kind == "text_changed" else {"invitation_id": invitation.pk}
    occasion = _occasion(sign_on.pk, INVITATION_EMAILS[kind], **about)
    if kind == "deadline_changed" and (not occasion or sign_on.is_past_deadline()):
        # Invited after the change, nothing to tell; or the new date passed while it waited.
        return None
    token = selectors.invitation_link_token(invitation)
    return Outgoing(
        name=INVITATION_TEMPLATES.get(kind, kind),
        to=invitation.email,
        job=f"invitation:{kind}",
        regarding=f"invitation {invitation.pk}",
        occasion=occasion,
        topic=topic_of(sign_on),
        context={
            **_deadline_context(sign_on),
            "name": invitation.name,
            "organization": invitation.organization.name,
            "message": sign_on.message,
            "note": note,
            "forwarded_by": invitation.forwarded_by.name if invitation.forwarded_by else "",
            "forwarded_note": _forward_note(invitation),
            "link": emails.absolute_url(reverse("signatories:sign", args=[token])),
            "why": f"{invitation.forwarded_by.name} gave your address to the coalition's sign-on"
            if kind == "forwarded" and invitation.forwarded_by
            else f"{invitation.organization.name} was invited to sign this letter",
            **(_deadline_change(invitation) if kind == "deadline_changed" else {}),
        },
    )


def _deadline_change(invitation: Invitation) -> dict[str, object]:
    """The deadline before the latest move, as the person was told it, and which way it moved."""
    event = (
        invitation.sign_on.events.filter(action=Action.DEADLINE_NOTIFIED, invitation=invitation)
        .order_by("-sequence")
        .first()
    )
    detail = (event.detail or {}) if event else {}
    try:
        previous = datetime.datetime.fromisoformat(detail["previous_deadline"])
    except (KeyError, TypeError, ValueError):
        return {"previous_deadline_at": "", "extended": True}
    return {
        "previous_deadline_at": format_moment(previous),
        "extended": invitation.sign_on.deadline > previous,
    }


def _forward_note(invitation: Invitation) -> str:
    event = invitation.sign_on.events.filter(action=Action.FORWARDED, invitation=invitation).last()
    return (event.detail or {}).get("note", "") if event else ""


@task(backend="background", queue_name="email")
def send_signature_email(signature_id: int, kind: str, retrying: int | None = None) -> bool:
    """Tell the signer what became of their response: confirm the address, signed, withdrawn,
    approved, rejected, reconfirmed, the line it prints corrected."""
    if kind not in SIGNATURE_EMAILS:
        raise ValueError(f"unknown signature email {kind!r}")
    outgoing = _signature_email(signature_id, kind)
    return deliveries.deliver(
        outgoing, job=send_signature_email, args=(signature_id, kind), retrying=retrying
    )


def _signature_email(signature_id: int, kind: str) -> Outgoing | None:
    signature = (
        Signature.objects.select_related("sign_on", "sign_on__letter", "organization")
        # The email names the letter: its text, the widest part of the row, stays unread.
        .defer(*(f"sign_on__letter__{name}" for name in selectors.LETTER_TEXT_FIELDS))
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or not signature.signer_email or signature.sign_on is None:
        return None
    if kind == "confirm" and signature.status != Signature.Status.UNCONFIRMED:
        return None
    sign_on = signature.sign_on
    link = ""
    if signature.token_nonce and (signature.is_active or kind == "confirm"):
        token = selectors.signature_link_token(signature)
        link = emails.absolute_url(reverse("signatories:signature", args=[token]))
    # The event the email follows, with what it recorded of a staff decision, in one read.
    event = (
        Event.objects.filter(
            sign_on_id=sign_on.pk, action__in=SIGNATURE_EMAILS[kind], signature_id=signature.pk
        )
        .order_by("-sequence")
        .values_list("pk", "sequence", "hash", "detail")
        .first()
    )
    return Outgoing(
        name=f"signature-{kind.replace('_', '-')}",
        to=signature.signer_email,
        job=f"signature:{kind}",
        regarding=f"signature {signature.pk}",
        occasion=f"event {event[0]}" if event is not None else "",
        topic=topic_of(sign_on),
        context={
            **_deadline_context(sign_on),
            **(_staff_decision(event[3] if event else None) if kind in STAFF_DECISIONS else {}),
            "kind": kind,
            "organization": selectors.requested_name(signature, with_acronym=False),
            "display_name": signature.display_name,
            "signer_name": signature.signer_name,
            "status": signature.get_status_display(),
            "pending_review": signature.status == Signature.Status.PENDING_REVIEW,
            "reason": signature.reason,
            "link": link,
            # Open-link responses have no invitation; individuals have no organization.
            "individual": signature.organization_id is None,
            # Where the sign-on lists people by rule: a person confirming is listed at once.
            "listed_on_confirming": signature.organization_id is None
            and sign_on.auto_approve_individuals,
            "invited": signature.invitation_id is not None,
            "why": _why(signature),
            # The record's head after this answer, kept by the signer outside the database: a
            # later rewrite of the record cannot match it (signatories.checkpoints).
            "record_event": event[1] if event is not None else None,
            "record_head": event[2] if event is not None else "",
        },
    )


# Emails of a decision staff took on a signature: what the event recorded of it is told.
STAFF_DECISIONS = {"approved", "display_name_corrected"}


def topic_of(sign_on: SignOn) -> str:
    """What the outbox records a sign-on's email as sent for, to find it again."""
    return f"“{sign_on.letter.title}” (sign-on {sign_on.pk})"


def _staff_decision(detail: dict[str, Any] | None) -> dict[str, object]:
    """What the event the email follows (its occasion) recorded of a staff decision: the line as
    it printed before a correction, the letter already out, the note on one not reconfirmed."""
    detail = detail or {}
    not_reconfirmed = detail.get("not_reconfirmed") or {}
    return {
        "display_name_was": (detail.get("display_name") or {}).get("old", ""),
        "after_publication": bool(detail.get("after_publication")),
        "not_reconfirmed": bool(not_reconfirmed),
        "note": not_reconfirmed.get("note", ""),
        "by_rule": bool(detail.get("approved_by_rule")),
    }


def _why(signature: Signature) -> str:
    if signature.invitation_id is not None and signature.organization is not None:
        return f"{signature.organization.name} was invited to sign this letter"
    return "you asked to sign this letter through its open link"


@task(backend="background", queue_name="email")
def send_text_changed(
    signature_id: int, kind: str, note: str = "", retrying: int | None = None
) -> int:
    """After a material change: a signer gets what changed and a link to reconfirm; an
    organization that declined gets the new text, in case it changes its mind."""
    outgoing = _text_changed_email(signature_id, kind, note)
    sent = deliveries.deliver(
        outgoing, job=send_text_changed, args=(signature_id, kind, note), retrying=retrying
    )
    return int(sent)


def _text_changed_email(signature_id: int, kind: str, note: str) -> Outgoing | None:
    signature = (
        Signature.objects.select_related(
            "sign_on", "sign_on__letter", "sign_on__revision", "organization", "invitation"
        )
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or not signature.is_active or signature.sign_on is None:
        return None
    sign_on = signature.sign_on
    if sign_on.status != SignOn.Status.OPEN or not signature.signer_email:
        return None
    signed = kind == "signed"
    if signed and signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        return None  # reconfirmed or withdrawn before this job ran
    if signed:
        token = selectors.signature_link_token(signature)
        link = reverse("signatories:signature", args=[token])
    elif signature.invitation is not None:
        link = reverse(
            "signatories:sign", args=[selectors.invitation_link_token(signature.invitation)]
        )
    else:
        return None
    before = selectors.signed_revision(signature) if signed else sign_on.previous_revision
    changes = text_diff.diff_revisions(before, sign_on.revision) if before else []
    return Outgoing(
        name="signature-reconfirm",
        to=signature.signer_email,
        job=f"text_changed:{kind}",
        regarding=f"signature {signature.pk}",
        occasion=_occasion(sign_on.pk, (Action.RECIRCULATED,)),
        topic=topic_of(sign_on),
        context={
            **_deadline_context(sign_on),
            "organization": signature.organization.name if signature.organization else "",
            "signer_name": signature.signer_name,
            "individual": signature.organization_id is None,
            # Where the sign-on lists people by rule: a person confirming is listed at once.
            "listed_on_confirming": signature.organization_id is None
            and sign_on.auto_approve_individuals,
            "declined": not signed,
            "note": note,
            "changes": changes,
            "link": emails.absolute_url(link),
            "why": _why(signature),
        },
    )


# ---------------------------------------------------------------------------------------------
# A letter published or corrected: every signer hears of it once; staff hear of a close.

# The PDF of a new version is rendered by its own job: an email waits for its SHA-256, asking
# again every PDF_WAIT, PDF_WAITS times at most (an hour), and then goes without it.
PDF_WAIT = datetime.timedelta(seconds=30)
PDF_WAITS = 120


@task(backend="background", queue_name="email")
def announce_version(publication_id: int) -> int:
    """Queue one email to each signer the version prints who may be emailed of it."""
    signatures = selectors.signers_to_tell(publication_id)
    for signature_id in signatures:
        send_version_email.enqueue(signature_id, publication_id)
    return len(signatures)


@task(backend="background", queue_name="email")
def send_version_email(
    signature_id: int, publication_id: int, waits: int = 0, retrying: int | None = None
) -> bool:
    """Tell a signer the letter is published (or corrected): its page, its PDF and SHA-256."""
    publication = selectors.version_to_announce(publication_id)
    if publication is None:
        return False
    may_wait = waits < PDF_WAITS and send_version_email.get_backend().supports_defer
    if not publication.pdf_sha256 and may_wait and retrying is None:
        # Its PDF is still being rendered by its own job: ask again shortly.
        send_version_email.using(run_after=timezone.now() + PDF_WAIT).enqueue(
            signature_id, publication_id, waits + 1
        )
        return False
    return deliveries.deliver(
        _version_email(signature_id, publication),
        job=send_version_email,
        args=(signature_id, publication_id, waits),
        retrying=retrying,
    )


def _version_email(signature_id: int, publication: Publication) -> Outgoing | None:
    signature = (
        Signature.objects.printable()
        .filter(pk=signature_id, letter_id=publication.letter_id, publication_emails=True)
        .exclude(signer_email="")
        .first()
    )
    if signature is None:
        return None  # withdrawn meanwhile, or they asked not to be told
    letter = publication.letter
    letter_url = emails.absolute_url(letter.url)
    own_page = ""
    if signature.token_nonce:
        own_page = emails.absolute_url(
            reverse("signatories:signature", args=[selectors.signature_link_token(signature)])
        )
    return Outgoing(
        name="letter-published",
        to=signature.signer_email,
        job="version:published",
        regarding=f"signature {signature.pk}",
        occasion=f"publication {publication.pk}",
        topic=f"“{letter.title}” (version {publication.version})",
        context={
            "letter_title": letter.title,
            "signer_name": signature.signer_name,
            "display_name": signature.display_name,
            "correction": publication.is_correction,
            "note": publication.note,
            "version": publication.version,
            "letter_url": letter_url,
            "pdf_url": f"{letter_url}pdf/v{publication.version}/",
            "sha256": publication.pdf_sha256,
            "own_page": own_page,
            "why": "you signed this letter",
        },
    )


@task(backend="background", queue_name="email")
def send_closed_email(sign_on_id: int, retrying: int | None = None) -> bool:
    """Tell the staff member who opened a sign-on that it closed, with the tally."""
    return deliveries.deliver(
        _closed_email(sign_on_id), job=send_closed_email, args=(sign_on_id,), retrying=retrying
    )


def _closed_email(sign_on_id: int) -> Outgoing | None:
    sign_on = SignOn.objects.select_related("letter", "created_by").filter(pk=sign_on_id).first()
    if sign_on is None or sign_on.created_by is None or not sign_on.created_by.email:
        return None
    if sign_on.status != SignOn.Status.CLOSED:
        return None  # published or cancelled before this ran: nothing to tell
    tally = selectors.tally(sign_on)
    return Outgoing(
        name="sign-on-closed",
        to=sign_on.created_by.email,
        job="sign_on:closed",
        regarding=f"sign-on {sign_on.pk}",
        occasion=_occasion(sign_on.pk, (Action.CLOSED,)),
        topic=topic_of(sign_on),
        context={
            "letter_title": sign_on.letter.title,
            "staff_name": sign_on.created_by.get_full_name() or sign_on.created_by.email,
            "closed_at": format_moment(sign_on.closed_at or timezone.now()),
            # The tracker's own numbers (selectors.tally): invited and through the open link.
            "counts": [
                (label, tally.totals.get(key, 0) + tally.open_link_totals.get(key, 0))
                for key, label in selectors.COLUMNS.items()
            ],
            "printed": tally.printed,
            "why": "you opened this sign-on",
            "tracker_url": emails.absolute_url(
                reverse("signatories_admin:tracker", args=[sign_on.pk])
            ),
        },
    )


@task(backend="background")
def send_goal_email(sign_on_id: int, retrying: int | None = None) -> bool:
    """Tell the staff member who opened a sign-on that it reached its goal."""
    return deliveries.deliver(
        _goal_email(sign_on_id), job=send_goal_email, args=(sign_on_id,), retrying=retrying
    )


def _goal_email(sign_on_id: int) -> Outgoing | None:
    sign_on = SignOn.objects.select_related("letter", "created_by").filter(pk=sign_on_id).first()
    if sign_on is None or sign_on.created_by is None or not sign_on.created_by.email:
        return None
    if sign_on.goal_reached_at is None:
        return None
    counted = selectors.tally(sign_on)
    goal = selectors.goal_of(sign_on, counted)
    waiting = counted.waiting_for_review if sign_on.status == "closed" else 0
    return Outgoing(
        name="sign-on-goal",
        to=sign_on.created_by.email,
        job="sign_on:goal",
        regarding=f"sign-on {sign_on.pk}",
        occasion=_occasion(sign_on.pk, (Action.GOAL_REACHED,)),
        topic=topic_of(sign_on),
        context={
            "letter_title": sign_on.letter.title,
            "staff_name": sign_on.created_by.get_full_name() or sign_on.created_by.email,
            "reached_at": format_moment(sign_on.goal_reached_at),
            "parts": goal.parts if goal is not None else [],
            "status": sign_on.status,
            "publish_at_goal": sign_on.publish_at_goal,
            "waiting": waiting,
            "letter_url": emails.absolute_url(sign_on.letter.url or "/"),
            "why": "you opened this sign-on",
            "tracker_url": emails.absolute_url(
                reverse("signatories_admin:tracker", args=[sign_on.pk])
            ),
        },
    )


@task(backend="background")
def send_press_preview(preview_id: int, retrying: int | None = None) -> bool:
    """Email a press contact their own link to an embargoed letter."""
    return deliveries.deliver(
        _press_preview_email(preview_id),
        job=send_press_preview,
        args=(preview_id,),
        retrying=retrying,
    )


def _press_preview_email(preview_id: int) -> Outgoing | None:
    preview = selectors.press_preview_to_send(preview_id)
    if preview is None:
        return None  # revoked, or published meanwhile: the link would not open
    embargo = preview.embargo
    sign_on = embargo.sign_on
    return Outgoing(
        name="press-preview",
        to=preview.email,
        job="embargo:press",
        regarding=f"press preview {preview.pk}",
        occasion="",
        topic=topic_of(sign_on),
        context={
            "name": preview.name,
            "letter_title": sign_on.letter.title,
            "until": format_moment(embargo.until),
            "url": emails.absolute_url(
                reverse("signatories:press_preview", args=[selectors.press_link_token(preview)])
            ),
            "why": "the coalition chose to show you this letter before it is published",
        },
    )


@task(backend="background")
def keep_checkpoint(sign_on_id: int) -> bool:
    """Append the sign-on's record head to the log outside the database (EVENT_CHECKPOINTS)."""
    sign_on = SignOn.objects.filter(pk=sign_on_id).only("pk").first()
    if sign_on is None:
        return False
    head_hash, sequence = selectors.chain_head(sign_on)
    return checkpoints.append(checkpoints.Checkpoint(sign_on_id, sequence, head_hash))
