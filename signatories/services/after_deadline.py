"""Staff change a closed or published letter's list: add a signatory, retract a signature;
each prints from the next correction."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from coalition.crm.models import Organization
from letters.models import LetterPage
from signatories import selectors
from signatories.errors import AlreadyResponded, TransitionNotAllowed
from signatories.inputs import NO_LINE, StaffLine, StaffText
from signatories.models import Action, Signature, SignOn

from .core import hold, transition
from .events import Actor
from .signatures import record_response


def _sign_on_after_deadline(letter: LetterPage) -> SignOn | None:
    """The letter's sign-on, once closed or published; staff change its list only then."""
    sign_on = letter.sign_ons.exclude(status=SignOn.Status.CANCELLED).first()
    if sign_on is not None and sign_on.status not in (
        SignOn.Status.CLOSED,
        SignOn.Status.PUBLISHED,
    ):
        raise TransitionNotAllowed(
            "The sign-on is still open: signatories answer through their links until it closes."
        )
    return sign_on


def add_signatory(
    *,
    letter: LetterPage,
    display_name: StaffLine,
    reason: StaffText,
    actor: Actor,
    organization: Organization | None = None,
    signer_name: StaffLine = NO_LINE,
    signer_title: StaffLine = NO_LINE,
    group: StaffLine = NO_LINE,
) -> Signature:
    """Staff add a signatory after the sign-on closed (one who signed by email, say), approved;
    it prints from the next correction."""
    with transaction.atomic():
        sign_on = _sign_on_after_deadline(letter)
        now = timezone.now()
        signature = Signature(
            letter=letter,
            sign_on=sign_on,
            organization=organization,
            response=Signature.Response.SIGNED,
            status=Signature.Status.APPROVED,
            display_name=display_name,
            sort_key=organization.sort_name if organization else "",
            group=group,
            position=(
                Signature.objects.filter(letter=letter).aggregate(top=Max("position"))["top"] or 0
            )
            + 1,
            signer_name=signer_name,
            signer_title=signer_title,
            logo_id=organization.logo_id if organization else None,
            reason=reason,
            created_at=now,
            approved_at=now,
            reviewed_at=now,
            reviewed_by=actor.user,
        )
        if sign_on is None:
            return _save_without_chain(signature, organization)
        held = hold(sign_on)
        if organization is not None:
            existing = selectors.active_response(held.sign_on, organization.pk)
            if existing is not None and existing.status != Signature.Status.APPROVED:
                # Held when the sign-on closed: staff settle it in the review queue instead.
                raise AlreadyResponded(
                    f"The signature of {organization.name} waits in the review queue "
                    f"({existing.get_status_display().lower()}): approve it there, and it "
                    "prints from the next correction.",
                    signature=existing,
                )
            if existing is not None:
                raise AlreadyResponded(selectors.describe_response(existing), signature=existing)
        return record_response(
            held,
            signature,
            action=Action.ADDED_BY_STAFF,
            actor=actor,
            detail={"reason": reason},
            notify=[],
        )


def _save_without_chain(signature: Signature, organization: Organization | None) -> Signature:
    """A letter published without a sign-on keeps no event chain: the versions are its record."""
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError:
        name = organization.name if organization else signature.display_name
        raise AlreadyResponded(f"{name} is already on this letter.") from None
    return signature


def retract_signature(*, signature: Signature, reason: StaffText, actor: Actor) -> Signature:
    """Staff withdraw a signature after the deadline, at its signer's request; it stops printing
    from the next correction."""
    with transaction.atomic():
        sign_on = _sign_on_after_deadline(signature.letter)
        if signature.status != Signature.Status.APPROVED or (
            signature.response != Signature.Response.SIGNED
        ):
            raise TransitionNotAllowed("Only a signature that prints can be withdrawn.")
        if sign_on is None:
            Signature.objects.filter(pk=signature.pk).update(
                status=Signature.Status.WITHDRAWN, withdrawn_at=timezone.now(), reason=reason
            )
            signature.refresh_from_db()
            return signature
        held = hold(sign_on, signature=signature)
        assert held.signature is not None
        transition(
            held.sign_on,
            held.signature,
            action=Action.WITHDRAWN_BY_STAFF,
            actor=actor,
            status=Signature.Status.WITHDRAWN,
            fields={"withdrawn_at": timezone.now(), "reason": reason},
            detail={"reason": reason},
        )
        return held.signature
