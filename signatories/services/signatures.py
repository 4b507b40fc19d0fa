"""Signing, declining, withdrawing, and staff review of signatures."""

import re
import secrets
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from coalition.models import Contact, Organization, name_key
from coalition.selectors import best_named, organizations_named
from signatories import tasks
from signatories.models import Invitation, Signature, SignOn, token_digest

from .errors import (
    AlreadyResponded,
    InvalidToken,
    ResponsesClosed,
    SignOnError,
    TransitionNotAllowed,
)
from .events import Actor, record_event
from .sign_ons import lock_sign_on

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
FIELD_LIMITS = {
    "display_name": 300,
    "signer_name": 200,
    "signer_title": 200,
    "signer_email": 254,
    "comment": 2000,
    "reason": 2000,
    "organization_name": 255,
    "acronym": 50,
    "website": 200,
    "affiliation": 300,
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def find_invitation(token: str) -> Invitation:
    """The invitation a link token belongs to; InvalidToken for anything forged, truncated or stale."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    invitation = (
        Invitation.objects.select_related(
            "sign_on", "sign_on__letter", "sign_on__revision", "organization"
        )
        .filter(token_hash=token_digest(token))
        .first()
    )
    if invitation is None:
        raise InvalidToken(
            "This link is not valid or has been replaced by a newer one. "
            "Use the link in the latest invitation email."
        )
    return invitation


def find_signature_by_withdraw_token(token: str) -> Signature:
    """The signature a withdrawal link belongs to."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise InvalidToken("This withdrawal link is not valid. Check that you copied all of it.")
    signature = (
        Signature.objects.select_related("sign_on", "sign_on__letter", "organization")
        .filter(withdraw_token_hash=token_digest(token), sign_on__isnull=False)
        .first()
    )
    if signature is None:
        raise InvalidToken("This withdrawal link is not valid or has been replaced by a newer one.")
    return signature


def check_accepts_responses(sign_on: SignOn) -> None:
    """Raise ResponsesClosed, with a message for the signer, unless the sign-on takes responses now."""
    status = sign_on.status
    if status == SignOn.Status.DRAFT:
        raise ResponsesClosed("This sign-on has not opened yet.")
    if status == SignOn.Status.CANCELLED:
        raise ResponsesClosed("This sign-on was cancelled; no responses are being collected.")
    if status in (SignOn.Status.CLOSED, SignOn.Status.PUBLISHED) or sign_on.is_past_deadline():
        closed_at = timezone.localtime(sign_on.deadline)
        raise ResponsesClosed(
            "This sign-on closed on "
            f"{date_format(closed_at, 'j F Y')} at {closed_at:%H:%M}; "
            "responses are no longer accepted."
        )


def _clean(field: str, value: str, *, required: bool) -> str:
    value = CONTROL_CHARACTERS.sub("", (value or "").replace("\r", " ").replace("\n", " ")).strip()
    label = field.replace("_", " ")
    if required and not value:
        raise SignOnError(f"The {label} is required.", field=field)
    if len(value) > FIELD_LIMITS[field]:
        raise SignOnError(
            f"The {label} is too long: at most {FIELD_LIMITS[field]} characters.", field=field
        )
    return value


def _active_response(sign_on: SignOn, organization_id: int) -> Signature | None:
    return (
        Signature.objects.select_for_update(of=("self",))
        .filter(
            letter_id=sign_on.letter_id,
            organization_id=organization_id,
            status__in=Signature.ACTIVE_STATUSES,
        )
        .first()
    )


def describe_response(signature: Signature) -> str:
    """“Jane Doe (Director) signed for ACME on 3 March 2026”, for the one who comes second."""
    who = signature.signer_name or "someone"
    if signature.signer_title:
        who += f" ({signature.signer_title})"
    verb = "signed" if signature.response == Signature.Response.SIGNED else "declined"
    when = date_format(timezone.localtime(signature.created_at), "j F Y")
    organization = signature.organization.printed_name if signature.organization else ""
    return f"{who} already {verb} for {organization} on {when}."


PRINTED_WITH_ACRONYM = re.compile(r"^(?P<name>.*?)\s*\((?P<acronym>[^()]+)\)\s*$")


def _organization_named(display_name: str, *, excluding: Organization) -> Organization | None:
    """Another organization that this display name names, by name, "Name (ACRONYM)" or acronym."""
    names, acronyms = [display_name], [display_name]
    match = PRINTED_WITH_ACRONYM.match(display_name)
    if match:
        names.append(match["name"])
        acronyms.append(match["acronym"])
    candidates = organizations_named(names=names, acronyms=acronyms).exclude(pk=excluding.pk)
    return best_named(candidates, names=names, acronyms=acronyms)


def review_reasons(
    *, organization: Organization, display_name: str, signer_email: str, sign_on: SignOn
) -> list[str]:
    """Why a signature needs a person to look at it; empty when it may be approved at once."""
    reasons = []
    own = {
        name_key(organization.name),
        name_key(organization.printed_name),
        name_key(f"{organization.name} {organization.acronym}"),
    }
    if organization.display:
        own.add(name_key(organization.display))
    key = name_key(display_name)
    if key not in own:
        lookalike = _organization_named(display_name, excluding=organization)
        if lookalike is not None:
            reasons.append(
                f"The display name “{display_name}” is the name of another organization, "
                f"{lookalike.printed_name}."
            )
        else:
            reasons.append(
                f"The display name “{display_name}” differs from the organization's name, "
                f"{organization.printed_name}."
            )
    if not Contact.objects.filter(
        organization=organization, email__iexact=signer_email, is_authorized_signer=True
    ).exists():
        reasons.append(f"{signer_email} is not a known authorized signer of {organization.name}.")
    if not sign_on.auto_approve_authorized:
        reasons.append("This sign-on has every signature reviewed by staff.")
    return reasons


def check_text_hash(sign_on: SignOn, text_hash: str, *, then: str = "read it again") -> None:
    """Refuse a response given to another text than the one circulated now."""
    if text_hash != sign_on.text_hash:
        raise SignOnError(
            f"The letter's text has changed since this page was opened; reload it and {then}.",
            field="text_hash",
        )


def _lock_for_response(invitation: Invitation) -> tuple[SignOn, Invitation]:
    """The sign-on and the invitation, locked, once the sign-on is known to take responses."""
    sign_on = lock_sign_on(invitation.sign_on)
    check_accepts_responses(sign_on)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=invitation.pk)
    )
    return sign_on, invitation


def _active_individual(sign_on: SignOn, signer_email: str) -> Signature | None:
    return (
        Signature.objects.select_for_update(of=("self",))
        .filter(
            letter_id=sign_on.letter_id,
            organization__isnull=True,
            signer_email__iexact=signer_email,
            status__in=Signature.ACTIVE_STATUSES,
        )
        .first()
    )


def describe_individual_response(signature: Signature) -> str:
    """“jane@example.org already signed this letter in a personal capacity on 3 March 2026.”"""
    when = date_format(timezone.localtime(signature.created_at), "j F Y")
    return (
        f"{signature.signer_email} already signed this letter in a personal capacity on {when}; "
        "each person signs once."
    )


def _save_response(
    signature: Signature, *, action: str, actor: Actor, detail: dict, email: str = ""
) -> Signature:
    """Save a new signature or decline, mark its invitation answered, log it and email the signer."""
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError:
        # The row locks make this unreachable in practice; the constraint is the last guard.
        if signature.organization_id is None:
            existing = _active_individual(signature.sign_on, signature.signer_email)
            message = describe_individual_response(existing) if existing else ""
        else:
            existing = _active_response(signature.sign_on, signature.organization_id)
            message = describe_response(existing) if existing else ""
        raise AlreadyResponded(
            message or "This response has already been recorded.", signature=existing
        ) from None
    invitation = signature.invitation
    if invitation is not None:
        invitation.responded_at = signature.created_at
        invitation.save(update_fields=["responded_at"])
    record_event(
        sign_on=signature.sign_on,
        action=action,
        actor=actor,
        invitation=invitation,
        signature=signature,
        text_hash=signature.text_hash,
        detail=detail,
    )
    transaction.on_commit(
        partial(tasks.send_signature_email.enqueue, signature.pk, email or action)
    )
    return signature


def next_position(sign_on: SignOn) -> int:
    """The position after the last signature of the sign-on's letter, for "as entered" order."""
    top = Signature.objects.filter(letter_id=sign_on.letter_id).aggregate(top=Max("position"))
    return (top["top"] or 0) + 1


@transaction.atomic
def sign_letter(
    *,
    invitation: Invitation,
    display_name: str,
    signer_name: str,
    signer_title: str,
    signer_email: str,
    authorized: bool,
    text_hash: str,
    actor: Actor,
    comment: str = "",
) -> Signature:
    """Sign the circulated letter for the invited organization; one active signature results."""
    sign_on, invitation = _lock_for_response(invitation)
    check_text_hash(sign_on, text_hash)
    display_name = _clean("display_name", display_name, required=True)
    signer_name = _clean("signer_name", signer_name, required=True)
    signer_title = _clean("signer_title", signer_title, required=False)
    signer_email = _clean("signer_email", signer_email, required=True)
    comment = (comment or "").strip()
    if len(comment) > FIELD_LIMITS["comment"]:
        raise SignOnError("The comment is too long: at most 2000 characters.", field="comment")
    if not authorized:
        raise SignOnError(
            f"Confirm that you are authorized to sign on behalf of {invitation.organization.name}.",
            field="authorized",
        )
    organization = invitation.organization
    existing = _active_response(sign_on, organization.pk)
    if existing is not None and existing.response == Signature.Response.SIGNED:
        raise AlreadyResponded(describe_response(existing), signature=existing)
    if existing is not None:
        # A decline gives way to a later signature from the same organization.
        existing.status = Signature.Status.WITHDRAWN
        existing.withdrawn_at = timezone.now()
        existing.save(update_fields=["status", "withdrawn_at"])
        record_event(
            sign_on=sign_on,
            action="decline_replaced",
            actor=actor.with_label(signer_email),
            invitation=invitation,
            signature=existing,
        )
    reasons = review_reasons(
        organization=organization,
        display_name=display_name,
        signer_email=signer_email,
        sign_on=sign_on,
    )
    now = timezone.now()
    position = next_position(sign_on)
    signature = Signature(
        letter_id=sign_on.letter_id,
        sign_on=sign_on,
        invitation=invitation,
        organization=organization,
        response=Signature.Response.SIGNED,
        status=Signature.Status.PENDING_REVIEW if reasons else Signature.Status.APPROVED,
        display_name=display_name,
        sort_key=organization.sort_name,
        position=position,
        signer_name=signer_name,
        signer_title=signer_title,
        signer_email=signer_email,
        logo_id=organization.logo_id,
        website=organization.website,
        country=organization.country,
        text_hash=text_hash,
        comment=comment,
        authorized=True,
        review_reasons=reasons,
        created_at=now,
        approved_at=None if reasons else now,
    )
    return _save_response(
        signature,
        action="signed",
        actor=actor.with_label(signer_email),
        detail={"status": signature.status, "display_name": display_name, "reasons": reasons},
    )


@transaction.atomic
def decline_letter(
    *,
    invitation: Invitation,
    signer_name: str,
    signer_email: str,
    actor: Actor,
    reason: str = "",
) -> Signature:
    """Record that the invited organization declines to sign."""
    sign_on, invitation = _lock_for_response(invitation)
    signer_name = _clean("signer_name", signer_name, required=True)
    signer_email = _clean("signer_email", signer_email, required=True)
    reason = (reason or "").strip()
    if len(reason) > FIELD_LIMITS["reason"]:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    organization = invitation.organization
    existing = _active_response(sign_on, organization.pk)
    if existing is not None:
        message = describe_response(existing)
        if existing.response == Signature.Response.SIGNED:
            message += " To decline instead, withdraw the signature first."
        raise AlreadyResponded(message, signature=existing)
    now = timezone.now()
    signature = Signature(
        letter_id=sign_on.letter_id,
        sign_on=sign_on,
        invitation=invitation,
        organization=organization,
        response=Signature.Response.DECLINED,
        # A decline needs nobody's approval and never prints.
        status=Signature.Status.APPROVED,
        display_name=organization.printed_name,
        sort_key=organization.sort_name,
        signer_name=signer_name,
        signer_email=signer_email,
        text_hash=sign_on.text_hash,
        reason=reason,
        created_at=now,
    )
    return _save_response(
        signature,
        action="declined",
        actor=actor.with_label(signer_email),
        detail={"reason": reason},
    )


def _lock_signature(signature: Signature) -> tuple[SignOn, Signature]:
    if signature.sign_on_id is None:
        raise SignOnError("This signature came with an imported letter; it has no sign-on.")
    sign_on = lock_sign_on(signature.sign_on)
    locked = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=signature.pk)
    )
    return sign_on, locked


def _change_status(signature: Signature, target: str) -> None:
    if not Signature.can_transition(signature.status, target):
        raise TransitionNotAllowed(
            f"A signature that is {signature.get_status_display().lower()} cannot be "
            f"{Signature.Status(target).label.lower()}."
        )
    signature.status = target


@transaction.atomic
def withdraw_signature(*, signature: Signature, actor: Actor, reason: str = "") -> Signature:
    """Withdraw a signature before the deadline; it no longer prints."""
    sign_on, signature = _lock_signature(signature)
    check_accepts_responses(sign_on)
    if signature.response != Signature.Response.SIGNED:
        raise TransitionNotAllowed("Only a signature can be withdrawn, not a decline.")
    _change_status(signature, Signature.Status.WITHDRAWN)
    signature.withdrawn_at = timezone.now()
    signature.save(update_fields=["status", "withdrawn_at"])
    record_event(
        sign_on=sign_on,
        action="withdrawn",
        actor=actor,
        invitation=signature.invitation,
        signature=signature,
        detail={"reason": reason[:2000]},
    )
    transaction.on_commit(partial(tasks.send_signature_email.enqueue, signature.pk, "withdrawn"))
    return signature


@transaction.atomic
def approve_signature(*, signature: Signature, actor: Actor) -> Signature:
    """Approve a signature held for review; its display name and logo are frozen as they print."""
    sign_on, signature = _lock_signature(signature)
    if sign_on.status not in (SignOn.Status.OPEN, SignOn.Status.CLOSED):
        raise TransitionNotAllowed(
            f"The sign-on is {sign_on.get_status_display().lower()}; its signatures cannot change."
        )
    if signature.status == Signature.Status.NEEDS_RECONFIRMATION:
        raise TransitionNotAllowed(
            "This signature waits for its signer to reconfirm it against the changed text."
        )
    _change_status(signature, Signature.Status.APPROVED)
    now = timezone.now()
    signature.approved_at = signature.reviewed_at = now
    signature.reviewed_by = actor.user
    if signature.organization is not None:
        signature.logo_id = signature.organization.logo_id
    signature.save(update_fields=["status", "approved_at", "reviewed_at", "reviewed_by", "logo"])
    record_event(
        sign_on=sign_on,
        action="approved",
        actor=actor,
        invitation=signature.invitation,
        signature=signature,
        detail={"display_name": signature.display_name},
    )
    transaction.on_commit(partial(tasks.send_signature_email.enqueue, signature.pk, "approved"))
    return signature


@transaction.atomic
def reject_signature(*, signature: Signature, actor: Actor, reason: str) -> Signature:
    """Reject a signature held for review, telling the signer why."""
    reason = (reason or "").strip()
    if not reason:
        raise SignOnError(
            "Give the reason for rejecting: it is emailed to the signer.", field="reason"
        )
    if len(reason) > FIELD_LIMITS["reason"]:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    sign_on, signature = _lock_signature(signature)
    if sign_on.status not in (SignOn.Status.OPEN, SignOn.Status.CLOSED):
        raise TransitionNotAllowed(
            f"The sign-on is {sign_on.get_status_display().lower()}; its signatures cannot change."
        )
    _change_status(signature, Signature.Status.REJECTED)
    signature.reason = reason
    signature.reviewed_at = timezone.now()
    signature.reviewed_by = actor.user
    signature.save(update_fields=["status", "reason", "reviewed_at", "reviewed_by"])
    record_event(
        sign_on=sign_on,
        action="rejected",
        actor=actor,
        invitation=signature.invitation,
        signature=signature,
        detail={"reason": reason},
    )
    transaction.on_commit(partial(tasks.send_signature_email.enqueue, signature.pk, "rejected"))
    return signature


@transaction.atomic
def issue_withdraw_token(*, signature: Signature, actor: Actor) -> str:
    """A new withdrawal link token for an active signature; replaces any earlier one."""
    sign_on, signature = _lock_signature(signature)
    if not signature.is_active or signature.response != Signature.Response.SIGNED:
        raise TransitionNotAllowed("Only an active signature can be given a withdrawal link.")
    token = secrets.token_urlsafe(32)
    signature.withdraw_token_hash = token_digest(token)
    signature.save(update_fields=["withdraw_token_hash"])
    record_event(
        sign_on=sign_on,
        action="withdraw_link_sent",
        actor=actor,
        invitation=signature.invitation,
        signature=signature,
    )
    return token
