"""Circulating a new revision of an open sign-on's letter, and signers reconfirming after it."""

from functools import partial

from django.db import transaction
from wagtail.models import Revision

from letters.models import CirculationApproval
from signatories import tasks
from signatories.models import Event, Signature, SignOn

from .errors import SignOnError, TransitionNotAllowed
from .events import Actor, record_event
from .sign_ons import lock_sign_on, revision_text_hash
from .signatures import (
    _change_status,
    _lock_signature,
    check_accepts_responses,
    check_text_hash,
)

NOTE_LIMIT = 2000
# Signed responses that a material change puts back to their signers.
RECONFIRMABLE = (
    Signature.Status.UNCONFIRMED,
    Signature.Status.PENDING_REVIEW,
    Signature.Status.APPROVED,
    Signature.Status.NEEDS_RECONFIRMATION,
)


def _check_new_revision(sign_on: SignOn, revision: Revision) -> str:
    approval = (
        CirculationApproval.objects.filter(revision_id=revision.pk).select_related("letter").first()
    )
    if approval is None:
        raise SignOnError("This revision has not been approved for circulation.", field="revision")
    if approval.letter_id != sign_on.letter_id or str(revision.object_id) != str(sign_on.letter_id):
        raise SignOnError(
            f"This revision is of another letter, “{approval.letter.title}”.", field="revision"
        )
    if revision.pk == sign_on.revision_id:
        raise SignOnError("This revision is the one already circulated.", field="revision")
    text_hash = revision_text_hash(revision)
    if text_hash == sign_on.text_hash:
        raise SignOnError(
            "This revision's text is the same as the circulated one.", field="revision"
        )
    return text_hash


@transaction.atomic
def recirculate_sign_on(
    *, sign_on: SignOn, revision: Revision, material: bool, note: str, actor: Actor
) -> SignOn:
    """Circulate a new approved revision; after a material change every signer must reconfirm."""
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise SignOnError(f"The note is too long: at most {NOTE_LIMIT} characters.", field="note")
    sign_on = lock_sign_on(sign_on)
    if sign_on.status != SignOn.Status.OPEN:
        raise TransitionNotAllowed(
            "Only an open sign-on can circulate a new revision; this one is "
            f"{sign_on.get_status_display().lower()}."
        )
    if sign_on.is_past_deadline():
        raise SignOnError(
            "The deadline has passed, so signers could not reconfirm; close the sign-on instead.",
            field="revision",
        )
    text_hash = _check_new_revision(sign_on, revision)
    previous_revision_id, previous_hash = sign_on.revision_id, sign_on.text_hash
    sign_on.previous_revision_id = previous_revision_id
    sign_on.revision = revision
    sign_on.text_hash = text_hash
    sign_on.save(update_fields=["previous_revision", "revision", "text_hash"])
    responses = list(
        Signature.objects.select_for_update(of=("self",))
        .filter(sign_on=sign_on, status__in=RECONFIRMABLE)
        .order_by("pk")
    )
    signed = [s for s in responses if s.response == Signature.Response.SIGNED]
    declined = [s for s in responses if s.response == Signature.Response.DECLINED]
    record_event(
        sign_on=sign_on,
        action="recirculated",
        actor=actor,
        detail={
            "previous_revision": previous_revision_id,
            "revision": revision.pk,
            "previous_text_hash": previous_hash,
            "text_hash": text_hash,
            "material": bool(material),
            "note": note,
            "signatures_to_reconfirm": len(signed) if material else 0,
        },
    )
    if not material:
        return sign_on
    for signature in signed:
        was = signature.status
        if was != Signature.Status.NEEDS_RECONFIRMATION:
            # A second material change leaves the status to restore as the first one found it.
            _change_status(signature, Signature.Status.NEEDS_RECONFIRMATION)
            signature.status_before_reconfirmation = was
            signature.save(update_fields=["status", "status_before_reconfirmation"])
        record_event(
            sign_on=sign_on,
            action="reconfirmation_requested",
            actor=actor,
            invitation=signature.invitation,
            signature=signature,
            detail={"was": was, "signed_text_hash": signature.text_hash},
        )
        transaction.on_commit(partial(tasks.send_text_changed.enqueue, signature.pk, note))
    for signature in declined:
        # A decline stands; its organization is told the text changed, in case that matters.
        transaction.on_commit(partial(tasks.send_text_changed.enqueue, signature.pk, note))
    return sign_on


@transaction.atomic
def reconfirm_signature(*, signature: Signature, text_hash: str, actor: Actor) -> Signature:
    """Reconfirm a signature against the recirculated text; it regains the status it had."""
    sign_on, signature = _lock_signature(signature)
    check_accepts_responses(sign_on)
    if signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        raise TransitionNotAllowed(
            f"This signature does not need reconfirming: it is "
            f"{signature.get_status_display().lower()}."
        )
    check_text_hash(sign_on, text_hash, then="read the changes again")
    target = signature.status_before_reconfirmation or Signature.Status.PENDING_REVIEW
    _change_status(signature, target)
    signature.status_before_reconfirmation = ""
    previous_hash = signature.text_hash
    signature.text_hash = text_hash
    signature.save(update_fields=["status", "status_before_reconfirmation", "text_hash"])
    record_event(
        sign_on=sign_on,
        action="reconfirmed",
        actor=actor,
        invitation=signature.invitation,
        signature=signature,
        text_hash=text_hash,
        detail={"status": target, "previous_text_hash": previous_hash},
    )
    transaction.on_commit(partial(tasks.send_signature_email.enqueue, signature.pk, "reconfirmed"))
    return signature


def signed_revision_id(*, sign_on: SignOn, text_hash: str) -> int | None:
    """The revision of the sign-on's letter whose text has this hash, from its circulation history."""
    if text_hash == sign_on.text_hash:
        return sign_on.revision_id
    events = Event.objects.filter(sign_on=sign_on, action__in=["created", "recirculated"])
    for event in events.order_by("-sequence"):
        detail = event.detail or {}
        if event.action == "recirculated" and detail.get("previous_text_hash") == text_hash:
            return detail.get("previous_revision")
        if event.text_hash == text_hash and detail.get("revision"):
            return detail["revision"]
    return sign_on.previous_revision_id
