"""Circulating a new revision of an open sign-on's letter, and signers reconfirming after it.

After a material change everyone affected hears of it: each signer (invited, through the open
link, waiting for review or for their address to be confirmed) gets the difference and a link to
reconfirm; organizations that declined and those that have not answered get the new text.
"""

from django.utils import timezone
from wagtail.models import Revision

from letters.models import CirculationApproval
from letters.versions import revision_text_hash
from signatories import selectors, tasks
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.inputs import StaffText
from signatories.models import Action, Signature, SignOn

from .core import Notification, holding, sign_on_of, transition
from .events import Actor
from .signatures import check_accepts_responses, check_first_confirmed, check_text_hash

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


def recirculate_sign_on(
    *, sign_on: SignOn, revision: Revision, material: bool, note: StaffText, actor: Actor
) -> SignOn:
    """Circulate a new approved revision; after a material change every signer must reconfirm."""
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status != SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "Only an open sign-on can circulate a new revision; this one is "
                f"{current.get_status_display().lower()}."
            )
        if current.is_past_deadline():
            raise SignOnError(
                "The deadline has passed, so signers could not reconfirm; close the sign-on "
                "instead.",
                field="revision",
            )
        text_hash = _check_new_revision(current, revision)
        previous_revision_id, previous_hash = current.revision_id, current.text_hash
        responses = list(
            Signature.objects.select_for_update(of=("self",))
            .filter(sign_on=current, status__in=RECONFIRMABLE)
            .order_by("pk")
        )
        signed = [s for s in responses if s.response == Signature.Response.SIGNED]
        declined = [s for s in responses if s.response == Signature.Response.DECLINED]
        waiting = list(selectors.awaiting_response(current).order_by("pk"))
        notify: list[Notification] = []
        if material:
            notify += [(tasks.send_text_changed, (s.pk, "signed", note)) for s in signed]
            notify += [(tasks.send_text_changed, (s.pk, "declined", note)) for s in declined]
            notify += [(tasks.send_invitation, (i.pk, "text_changed", note)) for i in waiting]
        transition(
            current,
            current,
            action=Action.RECIRCULATED,
            actor=actor,
            fields={
                "previous_revision_id": previous_revision_id,
                "revision": revision,
                "text_hash": text_hash,
            },
            text_hash=text_hash,
            detail={
                "previous_revision": previous_revision_id,
                "revision": revision.pk,
                "previous_text_hash": previous_hash,
                "text_hash": text_hash,
                "material": bool(material),
                "note": note,
                "signatures_to_reconfirm": len(signed) if material else 0,
                "told_of_new_text": len(declined) + len(waiting) if material else 0,
            },
            notify=notify,
        )
        if not material:
            return current
        for signature in signed:
            was = signature.status
            # A second material change leaves the status to restore as the first one found it.
            again = was == Signature.Status.NEEDS_RECONFIRMATION
            transition(
                current,
                signature,
                action=Action.RECONFIRMATION_REQUESTED,
                actor=actor,
                status=None if again else Signature.Status.NEEDS_RECONFIRMATION,
                fields={} if again else {"status_before_reconfirmation": was},
                detail={"was": was, "signed_text_hash": signature.text_hash},
            )
    return current


def reconfirm_signature(*, signature: Signature, text_hash: str, actor: Actor) -> Signature:
    """Reconfirm a signature against the recirculated text; it regains the status it had.

    Reconfirming from the emailed link proves the address too: a request that was never
    confirmed goes to review.
    """
    with holding(sign_on_of(signature), signature=signature) as held:
        check_accepts_responses(held.sign_on)
        locked = held.signature
        assert locked is not None
        if locked.status != Signature.Status.NEEDS_RECONFIRMATION:
            raise TransitionNotAllowed(
                "This signature does not need reconfirming: it is "
                f"{locked.get_status_display().lower()}."
            )
        check_text_hash(held.sign_on, text_hash, then="read the changes again")
        target = locked.status_before_reconfirmation or Signature.Status.PENDING_REVIEW
        if target == Signature.Status.UNCONFIRMED:
            target = Signature.Status.PENDING_REVIEW
            check_first_confirmed(held.sign_on, locked)
        previous_hash = locked.text_hash
        transition(
            held.sign_on,
            locked,
            action=Action.RECONFIRMED,
            actor=actor,
            status=target,
            fields={
                "status_before_reconfirmation": "",
                "text_hash": text_hash,
                "confirmed_at": locked.confirmed_at or timezone.now(),
            },
            text_hash=text_hash,
            detail={"status": target, "previous_text_hash": previous_hash},
            notify=[(tasks.send_signature_email, (locked.pk, "reconfirmed"))],
        )
    return locked
