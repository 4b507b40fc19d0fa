"""Answering an invitation (sign, decline, pass it on), withdrawing, and staff review."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from coalition.crm.models import Contact, Organization, sort_name_for
from coalition.crm.services import admit_organization
from letters.models import LetterPage
from signatories import ratelimits, selectors, tasks, tokens
from signatories.addresses import email_key, same_mailbox
from signatories.errors import AlreadyResponded, ResponsesClosed, SignOnError, TransitionNotAllowed
from signatories.inputs import (
    Declining,
    Forwarding,
    InvalidInput,
    PrintedLine,
    Signing,
    Withdrawing,
)
from signatories.models import Invitation, Signature, SignOn

from .core import Change, Held, Notification, hold, holding, queue, transition
from .events import Actor
from .sign_ons import new_link_fields

FORWARDS_PER_INVITATION = 5
NOTE_LIMIT = 2000


def check_accepts_responses(sign_on: SignOn) -> None:
    """Raise ResponsesClosed, with a message for the signer, unless the sign-on takes responses now."""
    message = selectors.closed_message(sign_on)
    if message:
        raise ResponsesClosed(message)


def check_text_hash(sign_on: SignOn, text_hash: str, *, then: str = "read it again") -> None:
    """Refuse a response given to another text than the one circulated now."""
    if text_hash != sign_on.text_hash:
        raise SignOnError(
            f"The letter's text has changed since this page was opened, or the page was "
            f"incomplete; reload it and {then}.",
            field="text_hash",
        )


def next_position(sign_on: SignOn) -> int:
    """The position after the last signature of the sign-on's letter, for "as entered" order."""
    top = Signature.objects.filter(letter_id=sign_on.letter_id).aggregate(top=Max("position"))
    return (top["top"] or 0) + 1


def signature_link_fields() -> dict[str, Any]:
    """A new link of the signer's own: the nonce it derives from and its hash."""
    nonce = tokens.new_nonce()
    return {"token_nonce": nonce, "token_hash": tokens.digest(tokens.derive("signature", nonce))}


def record_response(
    held: Held,
    signature: Signature,
    *,
    action: str,
    actor: Actor,
    detail: dict[str, Any],
    notify: list[Notification],
    also: Iterable[Change] = (),
) -> Signature:
    """Insert a new response; a response that got there first is named, not overwritten."""
    try:
        transition(
            held.sign_on,
            signature,
            action=action,
            actor=actor,
            fields=signature_link_fields(),
            also=list(also),
            detail=detail,
            notify=notify,
            text_hash=signature.text_hash,
        )
    except IntegrityError:
        # The row locks make this unreachable in practice; the constraints are the last guard.
        if signature.organization_id is None:
            existing = selectors.active_individual(held.sign_on, signature.signer_email_key)
            message = selectors.describe_individual_response(existing) if existing else ""
        else:
            existing = selectors.active_response(held.sign_on, signature.organization_id)
            message = selectors.describe_response(existing) if existing else ""
        raise AlreadyResponded(
            message or "This response has already been recorded.", signature=existing
        ) from None
    return signature


def _hold_for_answer(invitation: Invitation) -> Held:
    held = hold(invitation.sign_on, invitation=invitation)
    check_accepts_responses(held.sign_on)
    return held


def _answered(held: Held) -> list[Change]:
    """The invitation that answered, stamped; its colleagues' links then lead to the answer."""
    assert held.invitation is not None
    return [Change(held.invitation, fields={"responded_at": timezone.now()})]


def _signature_of(
    sign_on: SignOn, invitation: Invitation, signing: Signing, text_hash: str
) -> Signature:
    """The signature an invited person gives for their organization, not yet saved."""
    organization = invitation.organization
    return Signature(
        letter_id=sign_on.letter_id,
        sign_on=sign_on,
        invitation=invitation,
        organization=organization,
        response=Signature.Response.SIGNED,
        display_name=signing.display_name,
        sort_key=organization.sort_name,
        signer_name=signing.signer_name,
        signer_title=signing.signer_title,
        signer_email=invitation.email,
        signer_email_key=email_key(invitation.email),
        logo_id=organization.logo_id,
        website=organization.website,
        country=organization.country,
        text_hash=text_hash,
        comment=signing.comment,
        authorized=True,
        created_at=timezone.now(),
    )


def sign_letter(
    *, invitation: Invitation, signing: Signing, text_hash: str, actor: Actor
) -> Signature:
    """Sign the circulated letter for the invited organization: the first answer stands."""
    # Every answer to the sign-on waits for its lock, so what needs no lock happens before it: a
    # repeat is refused, and the reasons for review are found, without holding up the others.
    check_accepts_responses(invitation.sign_on)
    check_text_hash(invitation.sign_on, text_hash)
    standing = (
        selectors.active_response(invitation.sign_on, invitation.organization_id)
        if selectors.may_have_answered(invitation)
        else None
    )
    if standing is not None and standing.response == Signature.Response.SIGNED:
        raise AlreadyResponded(selectors.describe_response(standing), signature=standing)
    signature = _signature_of(invitation.sign_on, invitation, signing, text_hash)
    reasons = selectors.review_reasons(signature)
    with transaction.atomic():
        held = _hold_for_answer(invitation)
        check_text_hash(held.sign_on, text_hash)
        answering = held.invitation
        assert answering is not None
        actor = actor.with_label(answering.email)
        standing_pk, last_position = selectors.standing_response_and_last_position(
            held.sign_on, answering.organization_id
        )
        if standing_pk is not None:
            standing = selectors.active_response(held.sign_on, answering.organization_id)
            assert standing is not None
            if standing.response == Signature.Response.SIGNED:
                raise AlreadyResponded(selectors.describe_response(standing), signature=standing)
            # A decline gives way to a later signature from the same organization.
            transition(
                held.sign_on,
                standing,
                action="decline_replaced",
                actor=actor,
                status=Signature.Status.WITHDRAWN,
                fields={"withdrawn_at": timezone.now()},
            )
        seen = (invitation.organization_id, invitation.contact_id)
        if seen != (answering.organization_id, answering.contact_id) or (
            invitation.sign_on.auto_approve_authorized != held.sign_on.auto_approve_authorized
        ):
            # The organization was merged, or staff changed the invitation or the review, while
            # the signer was on the page: the signature is what the rows say now.
            signature = _signature_of(held.sign_on, answering, signing, text_hash)
            reasons = selectors.review_reasons(signature)
        signature.sign_on, signature.invitation = held.sign_on, answering
        signature.position = last_position + 1
        signature.status = Signature.Status.PENDING_REVIEW if reasons else Signature.Status.APPROVED
        signature.approved_at = None if reasons else signature.created_at
        return record_response(
            held,
            signature,
            action="signed",
            actor=actor,
            detail={"reasons": reasons, "comment": signing.comment},
            also=_answered(held),
            notify=[(tasks.send_signature_email, (signature, "signed"))],
        )


def decline_letter(*, invitation: Invitation, declining: Declining, actor: Actor) -> Signature:
    """Record that the invited organization declines to sign."""
    with transaction.atomic():
        held = _hold_for_answer(invitation)
        invitation = held.invitation  # type: ignore[assignment]
        organization = invitation.organization
        existing = selectors.active_response(held.sign_on, organization.pk)
        if existing is not None:
            message = selectors.describe_response(existing)
            if existing.response == Signature.Response.SIGNED:
                message += " To decline instead, withdraw the signature first."
            raise AlreadyResponded(message, signature=existing)
        signature = Signature(
            letter_id=held.sign_on.letter_id,
            sign_on=held.sign_on,
            invitation=invitation,
            organization=organization,
            response=Signature.Response.DECLINED,
            # A decline needs nobody's approval and never prints.
            status=Signature.Status.APPROVED,
            display_name=organization.printed_name,
            sort_key=organization.sort_name,
            signer_name=declining.signer_name,
            signer_email=invitation.email,
            signer_email_key=email_key(invitation.email),
            text_hash=held.sign_on.text_hash,
            reason=declining.reason,
            created_at=timezone.now(),
        )
        return record_response(
            held,
            signature,
            action="declined",
            actor=actor.with_label(invitation.email),
            detail={"reason": declining.reason},
            also=_answered(held),
            notify=[(tasks.send_signature_email, (signature, "declined"))],
        )


def forward_invitation(
    *, invitation: Invitation, forwarding: Forwarding, actor: Actor
) -> Invitation:
    """Pass the request to a colleague, who gets a link of their own; the first answer still wins."""
    ratelimits.consume("forward", ip=actor.ip_address, invitation=str(invitation.pk))
    with transaction.atomic():
        held = _hold_for_answer(invitation)
        invitation = held.invitation  # type: ignore[assignment]
        organization = invitation.organization
        existing = selectors.active_response(held.sign_on, organization.pk)
        if existing is not None:
            raise AlreadyResponded(selectors.describe_response(existing), signature=existing)
        if same_mailbox(forwarding.email, invitation.email):
            raise SignOnError("This is your own address: give your colleague's.", field="email")
        if invitation.forwards.count() >= FORWARDS_PER_INVITATION:
            raise SignOnError(
                f"This link has been passed on {FORWARDS_PER_INVITATION} times; ask the "
                "coalition's staff to invite anyone else."
            )
        contact = next(
            (
                c
                for c in Contact.objects.filter(organization=organization)
                if same_mailbox(c.email, forwarding.email)
            ),
            None,
        )
        colleague = (
            held.sign_on.invitations.filter(contact=contact).first()
            if contact is not None
            else held.sign_on.invitations.filter(email__iexact=forwarding.email).first()
        )
        if colleague is not None:
            # Their link stands; a second email with it (a double click, a second try) would be
            # the same email twice. Reminders reach them until the organization answers.
            sent = colleague.sent_at or colleague.created_at
            raise SignOnError(
                f"{colleague.name} already has a link of their own to this letter, emailed on "
                f"{date_format(timezone.localtime(sent), 'j F Y')}: ask them to look for it.",
                field="email",
            )
        detail = {"to": forwarding.email, "note": forwarding.note, "known_contact": bool(contact)}
        colleague = Invitation(
            sign_on=held.sign_on,
            organization=organization,
            contact=contact,
            name=contact.name if contact else forwarding.name,
            email=contact.email if contact else forwarding.email,
            forwarded_by=invitation,
        )
        fields = new_link_fields(colleague)
        transition(
            held.sign_on,
            colleague,
            action="forwarded",
            actor=actor.with_label(invitation.email),
            fields=fields,
            detail={**detail, "from": invitation.email},
            notify=[(tasks.send_invitation, (colleague, "forwarded"))],
        )
        return colleague


def record_invitation_opened(*, invitation: Invitation, actor: Actor) -> None:
    """Note the first time an invitation's page was opened (by a person or a mail scanner)."""
    if invitation.opened_at is not None or invitation.sign_on.status != SignOn.Status.OPEN:
        return
    with holding(invitation.sign_on, invitation=invitation) as held:
        assert held.invitation is not None
        if held.invitation.opened_at is not None:
            return
        transition(
            held.sign_on,
            held.invitation,
            action="invitation_opened",
            actor=actor,
            fields={"opened_at": timezone.now()},
        )
        invitation.opened_at = held.invitation.opened_at


def _hold_signature(signature: Signature) -> Held:
    if signature.sign_on_id is None:
        raise SignOnError("This signature came with an imported letter; it has no sign-on.")
    held = hold(signature.sign_on, signature=signature)  # type: ignore[arg-type]
    assert held.signature is not None
    return held


def withdraw_signature(
    *,
    signature: Signature,
    withdrawing: Withdrawing,
    actor: Actor,
    by: Invitation | None = None,
) -> Signature:
    """Withdraw a signature before the deadline; it no longer prints.

    Through an invitation (`by`), only the person who signed or an authorized signer of the
    organization may: a colleague who was merely invited cannot undo the director's signature.
    """
    with transaction.atomic():
        held = _hold_signature(signature)
        check_accepts_responses(held.sign_on)
        signature = held.signature  # type: ignore[assignment]
        if signature.response != Signature.Response.SIGNED:
            raise TransitionNotAllowed("Only a signature can be withdrawn, not a decline.")
        if (
            by is not None
            and signature.invitation_id != by.pk
            and not (by.contact is not None and by.contact.is_authorized_signer)
        ):
            raise SignOnError(
                f"{signature.signer_name} signed for {by.organization.name}: only they, or an "
                "authorized signer of the organization, can withdraw the signature."
            )
        transition(
            held.sign_on,
            signature,
            action="withdrawn",
            actor=actor,
            status=Signature.Status.WITHDRAWN,
            fields={"withdrawn_at": timezone.now()},
            detail={"reason": withdrawing.reason},
            notify=[(tasks.send_signature_email, (signature.pk, "withdrawn"))],
        )
    return signature


def check_first_confirmed(held: Held, signature: Signature) -> None:
    """Refuse to confirm a request where another's is confirmed: several requests nobody
    confirmed may wait for one organization (or one person), and the first one confirmed goes
    to review; the others stay as they are, cancelled by nobody."""
    if signature.organization_id is None:
        existing = selectors.active_individual(held.sign_on, signature.signer_email_key)
        if existing is not None and existing.pk != signature.pk:
            raise AlreadyResponded(
                selectors.describe_individual_response(existing), signature=existing
            )
        return
    existing = selectors.active_response(held.sign_on, signature.organization_id)
    if existing is not None and existing.pk != signature.pk:
        raise AlreadyResponded(
            f"{selectors.describe_response(existing)} Your request stays on file, unconfirmed: "
            "if it should stand instead, write to the coalition's staff.",
            signature=existing,
        )


def confirm_signature(*, signature: Signature, actor: Actor) -> Signature:
    """The signer confirmed their address by following the emailed link: the request goes to
    review, unless another request for the same organization was confirmed first."""
    with transaction.atomic():
        held = _hold_signature(signature)
        check_accepts_responses(held.sign_on)
        signature = held.signature  # type: ignore[assignment]
        if signature.status != Signature.Status.UNCONFIRMED:
            raise TransitionNotAllowed("This request is already confirmed.")
        check_first_confirmed(held, signature)
        transition(
            held.sign_on,
            signature,
            action="confirmed",
            actor=actor.with_label(signature.signer_email),
            status=Signature.Status.PENDING_REVIEW,
            fields={"confirmed_at": timezone.now()},
            notify=[(tasks.send_signature_email, (signature.pk, "signed"))],
        )
    return signature


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
    fields: dict[str, Any] = {"display_name": display_name}
    if signature.organization_id is None:
        # A person's line sorts by itself; an organization's by the organization's name.
        fields["sort_key"] = sort_name_for(display_name)
    change = {"old": old, "new": display_name}
    transition(
        held.sign_on,
        signature,
        action="display_name_corrected",
        actor=actor,
        fields=fields,
        detail={"display_name": change},
    )
    return change


def correct_display_name(*, signature: Signature, display_name: str, actor: Actor) -> Signature:
    """Correct how a signature waiting for staff prints; the signer is told the old and the new."""
    display_name = clean_display_name(display_name)
    with transaction.atomic():
        held = _hold_signature(signature)
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
    note: str = "",
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
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise SignOnError(f"The note is too long: at most {NOTE_LIMIT} characters.", field="note")
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
            held = _hold_signature(signature)
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
                action="approved",
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
    *, signature: Signature, actor: Actor, display_name: str | None = None, note: str = ""
) -> Signature:
    """Approve a signature waiting for staff, perhaps correcting how it prints; its logo is frozen
    as it prints, a pending organization joins the CRM."""
    names = {signature.pk: display_name} if display_name is not None else None
    [approved] = approve_signatures(
        signatures=[signature], actor=actor, display_names=names, note=note
    )
    return approved


def reject_signatures(
    *, signatures: Iterable[Signature], actor: Actor, reason: str
) -> list[Signature]:
    """Reject signatures held for review (or never confirmed), all or none, telling each
    confirmed signer why; a request whose address was never confirmed is discarded silently."""
    reason = (reason or "").strip()
    if not reason:
        raise SignOnError(
            "Give the reason for rejecting: it is emailed to the signer.", field="reason"
        )
    if len(reason) > 2000:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    rejected = []
    by_sign_on: dict[int, list[Signature]] = {}
    for signature in signatures:
        if signature.sign_on_id is None:
            raise SignOnError("An imported signature has no sign-on to be rejected from.")
        by_sign_on.setdefault(signature.sign_on_id, []).append(signature)
    with transaction.atomic():
        for sign_on_id in sorted(by_sign_on):
            for signature in sorted(by_sign_on[sign_on_id], key=lambda s: s.pk):
                held = _hold_signature(signature)
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
                    action="rejected",
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


def reject_signature(*, signature: Signature, actor: Actor, reason: str) -> Signature:
    """Reject one signature held for review, telling the signer why."""
    return reject_signatures(signatures=[signature], actor=actor, reason=reason)[0]


def _staff_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SignOnError("Say why: it is kept in the letter's record.", field="reason")
    if len(reason) > 2000:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    return reason


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
    display_name: str,
    reason: str,
    actor: Actor,
    organization: Organization | None = None,
    signer_name: str = "",
    signer_title: str = "",
    group: str = "",
) -> Signature:
    """Staff add a signatory after the sign-on closed (one who signed by email, say), approved;
    it prints from the next correction."""
    reason = _staff_reason(reason)
    display_name = " ".join((display_name or "").split())
    if not display_name or len(display_name) > 300:
        raise SignOnError(
            "Give the line as it prints, at most 300 characters.", field="display_name"
        )
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
            action="added_by_staff",
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


def retract_signature(*, signature: Signature, reason: str, actor: Actor) -> Signature:
    """Staff withdraw a signature after the deadline, at its signer's request; it stops printing
    from the next correction."""
    reason = _staff_reason(reason)
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
            action="withdrawn_by_staff",
            actor=actor,
            status=Signature.Status.WITHDRAWN,
            fields={"withdrawn_at": timezone.now(), "reason": reason},
            detail={"reason": reason},
        )
        return held.signature
