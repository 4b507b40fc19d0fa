"""Staff review of the answers held for it: approve, reject, correct the printed line."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from coalition.crm.models import Organization, sort_name_for
from coalition.crm.services import admit_organization
from signatories import tasks
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.inputs import NO_TEXT, InvalidInput, PrintedLine, StaffText
from signatories.models import Action, Signature, SignOn

from .core import Held, SignatureFields, queue, transition
from .events import Actor
from .signatures import hold_signature


def _check_reviewable(held: Held) -> Signature:
    signature = held.signature
    assert signature is not None
    # After publication too: a late approval prints from the next correction.
    if held.sign_on.status not in (
        SignOn.Status.OPEN,
        SignOn.Status.CLOSED,
        SignOn.Status.PUBLISHED,
    ):
        raise TransitionNotAllowed(
            f"The sign-on is {held.sign_on.get_status_display().lower()}; its signatures "
            "cannot change."
        )
    return signature


def clean_display_name(value: str, *, of: str = "") -> str:
    """A line as it prints, as staff give it: cleaned and bounded as the signer's own is."""
    try:
        return PrintedLine.clean({"display_name": value}).display_name
    except InvalidInput as error:
        message = f"{of}: {error.message}" if of else error.message
        raise SignOnError(message, field="display_name") from None


def _refusal_to_settle(signature: Signature, *, responses_open: bool, verb: str) -> str:
    """Why staff may not approve (or correct) the signature now, in words for them; empty if
    they may (Signature.staff_may_approve)."""
    if signature.staff_may_approve(responses_open=responses_open):
        return ""
    if signature.never_confirmed:
        return f"This request's email address was never confirmed: it cannot be {verb}."
    if signature.status == Signature.Status.NEEDS_RECONFIRMATION:
        return (
            "This signature waits for its signer to reconfirm it against the changed text; "
            "once the sign-on has closed, you may approve or reject it."
        )
    return (
        f"The signature of {signature.display_name} is "
        f"{signature.get_status_display().lower()}: only one waiting for review can be {verb}."
    )


def _check_may_settle(held: Held, *, verb: str) -> Signature:
    """The held signature, if staff may approve (or correct) it now; else TransitionNotAllowed."""
    signature = _check_reviewable(held)
    refusal = _refusal_to_settle(
        signature, responses_open=held.sign_on.accepts_responses, verb=verb
    )
    if refusal:
        raise TransitionNotAllowed(refusal)
    return signature


def _changed_display_name(
    held: Held, signature: Signature, display_name: str, actor: Actor
) -> dict[str, str]:
    """Print the signature as `display_name`, recorded with the old and the new; no email."""
    old = signature.display_name
    fields: SignatureFields = {"display_name": display_name}
    if signature.organization_id is None:
        # A person's line sorts by itself; an organization's by the organization's name.
        fields["sort_key"] = sort_name_for(display_name)
    change = {"old": old, "new": display_name}
    transition(
        held.sign_on,
        signature,
        action=Action.DISPLAY_NAME_CORRECTED,
        actor=actor,
        fields=fields,
        detail={"display_name": change},
    )
    return change


def correct_display_name(*, signature: Signature, display_name: str, actor: Actor) -> Signature:
    """Correct how a signature waiting for staff prints; the signer is told the old and the new."""
    display_name = clean_display_name(display_name)
    with transaction.atomic():
        held = hold_signature(signature)
        signature = _check_may_settle(held, verb="corrected")
        if display_name == signature.display_name:
            raise SignOnError(
                f"It prints as “{display_name}” already: type the corrected line.",
                field="display_name",
            )
        _changed_display_name(held, signature, display_name, actor)
        queue([(tasks.send_signature_email, (signature.pk, "display_name_corrected"))])
    return signature


def _admit_organization(organization: Organization, signature: Signature) -> str:
    """A pending organization whose request staff approve joins the CRM with what that request
    said of it (the name as typed, its acronym and website, where the CRM has none); its name."""
    if signature.invitation_id is not None:
        return admit_organization(organization).name
    return admit_organization(
        organization,
        name=signature.organization_name,
        acronym=signature.acronym,
        website=signature.website,
    ).name


def approve_signatures(
    *,
    signatures: Iterable[Signature],
    actor: Actor,
    display_names: Mapping[int, str] | None = None,
    note: StaffText = NO_TEXT,
) -> list[Signature]:
    """Approve signatures waiting for staff, all or none; each signer is told.

    `display_names` corrects how some print (by signature pk), recorded with the old and the
    new. A signature whose signer did not reconfirm a changed text before the sign-on closed is
    approved only with a `note` of how they agreed to it. After publication, an approval prints
    from the next correction.
    """
    chosen = sorted(signatures, key=lambda s: (s.sign_on_id or 0, s.pk))
    if not chosen:
        raise SignOnError("Tick the signatures to approve.", field="signature")
    if any(signature.sign_on_id is None for signature in chosen):
        raise SignOnError("An imported signature has no sign-on to be approved in.")
    names = {
        signature.pk: clean_display_name(
            (display_names or {})[signature.pk], of=f"The line for {signature.display_name}"
        )
        for signature in chosen
        if signature.pk in (display_names or {})
    }
    approved = []
    with transaction.atomic():
        # The organizations' rows first, as a merge takes them before the sign-on's: the same
        # order everywhere, so the two never wait on each other.
        list(
            Organization.objects.select_for_update()
            .filter(pk__in={s.organization_id for s in chosen if s.organization_id})
            .order_by("pk")
        )
        for signature in chosen:
            held = hold_signature(signature)
            signature = _check_may_settle(held, verb="approved")
            detail: dict[str, Any] = {}
            if signature.status == Signature.Status.NEEDS_RECONFIRMATION:
                if not note:
                    raise SignOnError(
                        f"{signature.display_name} was not reconfirmed after the text changed: "
                        "say how its signer agreed to the text as it stands (it is kept in the "
                        "record and emailed to them).",
                        field="note",
                    )
                detail["not_reconfirmed"] = {"signed_text_hash": signature.text_hash, "note": note}
            new_name = names.get(signature.pk)
            if new_name and new_name != signature.display_name:
                detail["display_name"] = _changed_display_name(held, signature, new_name, actor)
            organization = signature.organization
            if organization is not None and organization.status == Organization.Status.PENDING:
                detail["organization_approved"] = _admit_organization(organization, signature)
            if held.sign_on.status == SignOn.Status.PUBLISHED:
                detail["after_publication"] = True
            now = timezone.now()
            transition(
                held.sign_on,
                signature,
                action=Action.APPROVED,
                actor=actor,
                status=Signature.Status.APPROVED,
                fields={
                    "approved_at": now,
                    "reviewed_at": now,
                    "reviewed_by": actor.user,
                    "logo_id": organization.logo_id if organization else None,
                    "status_before_reconfirmation": "",
                },
                detail=detail,
                notify=[(tasks.send_signature_email, (signature.pk, "approved"))],
            )
            approved.append(signature)
    return approved


def approve_signature(
    *,
    signature: Signature,
    actor: Actor,
    display_name: str | None = None,
    note: StaffText = NO_TEXT,
) -> Signature:
    """Approve a signature waiting for staff, perhaps correcting how it prints; its logo is frozen
    as it prints, a pending organization joins the CRM."""
    names = {signature.pk: display_name} if display_name is not None else None
    [approved] = approve_signatures(
        signatures=[signature], actor=actor, display_names=names, note=note
    )
    return approved


def reject_signatures(
    *, signatures: Iterable[Signature], actor: Actor, reason: StaffText
) -> list[Signature]:
    """Reject signatures held for review (or never confirmed), all or none, telling each
    confirmed signer why; a request whose address was never confirmed is discarded silently."""
    rejected = []
    by_sign_on: dict[int, list[Signature]] = {}
    for signature in signatures:
        if signature.sign_on_id is None:
            raise SignOnError("An imported signature has no sign-on to be rejected from.")
        by_sign_on.setdefault(signature.sign_on_id, []).append(signature)
    with transaction.atomic():
        for sign_on_id in sorted(by_sign_on):
            for signature in sorted(by_sign_on[sign_on_id], key=lambda s: s.pk):
                held = hold_signature(signature)
                signature = _check_reviewable(held)
                if not signature.staff_may_reject(responses_open=held.sign_on.accepts_responses):
                    raise TransitionNotAllowed(
                        f"The signature of {signature.display_name} is "
                        f"{signature.get_status_display().lower()}: only one waiting for review "
                        "can be rejected."
                    )
                # Only an address its owner confirmed (or that staff invited) hears of it.
                confirmed = (
                    signature.invitation_id is not None or signature.confirmed_at is not None
                )
                transition(
                    held.sign_on,
                    signature,
                    action=Action.REJECTED,
                    actor=actor,
                    status=Signature.Status.REJECTED,
                    fields={
                        "reason": reason,
                        "reviewed_at": timezone.now(),
                        "reviewed_by": actor.user,
                    },
                    detail={"reason": reason, "emailed": confirmed},
                    notify=[(tasks.send_signature_email, (signature.pk, "rejected"))]
                    if confirmed
                    else [],
                )
                rejected.append(signature)
    return rejected


def reject_signature(*, signature: Signature, actor: Actor, reason: StaffText) -> Signature:
    """Reject one signature held for review, telling the signer why."""
    return reject_signatures(signatures=[signature], actor=actor, reason=reason)[0]
