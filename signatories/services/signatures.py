"""Answering an invitation (sign, decline, pass it on), confirming and withdrawing an answer."""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from coalition.crm.models import Contact
from signatories import ratelimits, selectors, tasks, tokens
from signatories.addresses import email_key, same_mailbox
from signatories.errors import AlreadyResponded, ResponsesClosed, SignOnError, TransitionNotAllowed
from signatories.inputs import (
    Declining,
    Forwarding,
    Signing,
    Withdrawing,
)
from signatories.models import Action, Invitation, Signature, SignOn

from .core import (
    Change,
    Held,
    Notification,
    SignatureFields,
    hold,
    holding,
    sign_on_of,
    transition,
)
from .events import Actor
from .sign_ons import new_link_fields

FORWARDS_PER_INVITATION = 5


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


def signature_link_fields() -> SignatureFields:
    """A new link of the signer's own: the nonce it derives from and its hash."""
    nonce = tokens.new_nonce()
    return {"token_nonce": nonce, "token_hash": tokens.digest(tokens.derive("signature", nonce))}


def record_response(
    held: Held,
    signature: Signature,
    *,
    action: Action,
    actor: Actor,
    detail: dict[str, Any],
    notify: list[Notification],
    also: Iterable[Change] = (),
    constraints_checked: bool = False,
) -> Signature:
    """Insert a new response; a response that got there first is named, not overwritten.

    `constraints_checked`: the caller read under the lock the response that stands, which the
    constraints of one confirmed response per organization or mailbox would refuse to double.
    """
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
            constraints_checked=constraints_checked,
        )
    except IntegrityError:
        # The row locks make this unreachable in practice; the constraints are the last guard.
        if constraints_checked:
            # Inserted without a savepoint: the transaction is spent, and reads nothing more.
            raise AlreadyResponded("This response has already been recorded.") from None
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
        read_in=signing.read_in,
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
                action=Action.DECLINE_REPLACED,
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
            action=Action.SIGNED,
            actor=actor,
            detail={"reasons": reasons, "comment": signing.comment},
            also=_answered(held),
            notify=[(tasks.send_signature_email, (signature, "signed"))],
            # The letter's standing response was read above, under the lock of its one live
            # sign-on, which every response to the letter is recorded under.
            constraints_checked=True,
        )


def decline_letter(*, invitation: Invitation, declining: Declining, actor: Actor) -> Signature:
    """Record that the invited organization declines to sign."""
    with transaction.atomic():
        held = _hold_for_answer(invitation)
        invitation = held.locked_invitation
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
            action=Action.DECLINED,
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
        invitation = held.locked_invitation
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
            action=Action.FORWARDED,
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
            action=Action.INVITATION_OPENED,
            actor=actor,
            fields={"opened_at": timezone.now()},
        )
        invitation.opened_at = held.invitation.opened_at


def hold_signature(signature: Signature) -> Held:
    held = hold(sign_on_of(signature), signature=signature)
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
        held = hold_signature(signature)
        check_accepts_responses(held.sign_on)
        signature = held.locked_signature
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
            action=Action.WITHDRAWN,
            actor=actor,
            status=Signature.Status.WITHDRAWN,
            fields={"withdrawn_at": timezone.now()},
            detail={"reason": withdrawing.reason},
            notify=[(tasks.send_signature_email, (signature.pk, "withdrawn"))],
        )
    return signature


def check_first_confirmed(sign_on: SignOn, signature: Signature) -> None:
    """Refuse to confirm a request where another's is confirmed: several requests nobody
    confirmed may wait for one organization (or one person), and the first one confirmed goes
    to review; the others stay as they are, cancelled by nobody."""
    if signature.organization_id is None:
        existing = selectors.active_individual(sign_on, signature.signer_email_key)
        if existing is not None and existing.pk != signature.pk:
            raise AlreadyResponded(
                selectors.describe_individual_response(existing), signature=existing
            )
        return
    existing = selectors.active_response(sign_on, signature.organization_id)
    if existing is not None and existing.pk != signature.pk:
        raise AlreadyResponded(
            f"{selectors.describe_response(existing)} Your request stays on file, unconfirmed: "
            "if it should stand instead, write to the coalition's staff.",
            signature=existing,
        )


def confirm_signature(*, signature: Signature, actor: Actor) -> Signature:
    """The signer confirmed their address by following the emailed link: the request goes to
    review, unless another request for the same organization was confirmed first.

    Where the sign-on approves individuals by rule, a person is approved here and listed, save
    the exceptions staff review (selectors.held_by_rule); the event records which, and why.
    """
    # The exceptions are read before the sign-on's lock, which every signer waits for: read
    # again under it only where the rule was turned on meanwhile.
    by_rule = (
        signature.organization_id is None
        and signature.sign_on is not None
        and signature.sign_on.auto_approve_individuals
    )
    exceptions = selectors.held_by_rule(signature) if by_rule else None
    # Another request confirmed first is named before the lock too. Two confirmed in the same
    # moment meet under it the constraint of one confirmed response per organization or mailbox:
    # the second is refused with the same words, once the first is committed.
    check_first_confirmed(sign_on_of(signature), signature)
    try:
        return _confirm(signature, actor=actor, exceptions=exceptions)
    except IntegrityError:
        check_first_confirmed(sign_on_of(signature), signature)
        raise


def _confirm(signature: Signature, *, actor: Actor, exceptions: list[str] | None) -> Signature:
    with transaction.atomic():
        held = hold_signature(signature)
        check_accepts_responses(held.sign_on)
        signature = held.locked_signature
        if signature.status != Signature.Status.UNCONFIRMED:
            raise TransitionNotAllowed("This request is already confirmed.")
        now = timezone.now()
        fields: SignatureFields = {"confirmed_at": now}
        status: str = Signature.Status.PENDING_REVIEW
        email, detail = "signed", dict[str, Any]()
        if signature.organization_id is None and held.sign_on.auto_approve_individuals:
            if exceptions is None:
                exceptions = selectors.held_by_rule(signature)
            detail = {"approved_by_rule": not exceptions, "held_by_rule": exceptions}
            if not exceptions:
                status, email = Signature.Status.APPROVED, "approved"
                fields["approved_at"] = fields["reviewed_at"] = now
        transition(
            held.sign_on,
            signature,
            action=Action.CONFIRMED,
            actor=actor.with_label(signature.signer_email),
            status=status,
            fields=fields,
            detail=detail,
            notify=[(tasks.send_signature_email, (signature.pk, email))],
        )
    return signature


def set_publication_emails(*, signature: Signature, wanted: bool) -> Signature:
    """Whether the signer is emailed when the letter is published or corrected: a preference of
    theirs, not part of the record (no event)."""
    Signature.objects.filter(pk=signature.pk).update(publication_emails=wanted)
    signature.publication_emails = wanted
    return signature
