"""Email jobs: invitations, reminders, forwards, the text changing, and what became of a response.

Arguments are ids (JSON-serialisable). Each job reads the current state, checks the email still
applies (someone may have answered while it waited in the queue), derives the link from the
row's nonce and sends. Jobs change nothing and import no service: the services queue them.
"""

from django.tasks import task
from django.urls import reverse

from . import emails, selectors, text_diff
from .deadlines import describe_deadline, format_moment
from .models import Invitation, Signature, SignOn

INVITATION_EMAILS = {"invitation", "reminder", "forwarded", "text_changed"}
SIGNATURE_EMAILS = {
    "signed",
    "declined",
    "confirm",
    "withdrawn",
    "approved",
    "rejected",
    "reconfirmed",
}


def _deadline_context(sign_on: SignOn) -> dict[str, str]:
    return {
        "letter_title": sign_on.letter.title,
        "deadline": describe_deadline(sign_on.deadline),
        "deadline_at": format_moment(sign_on.deadline),
    }


@task(backend="background", queue_name="email")
def send_invitation(invitation_id: int, kind: str, note: str = "") -> int:
    """Email one invited person their link: the invitation, a reminder, a colleague's forward,
    or the new text after a material change."""
    if kind not in INVITATION_EMAILS:
        raise ValueError(f"unknown invitation email {kind!r}")
    invitation = (
        Invitation.objects.select_related(
            "sign_on", "sign_on__letter", "organization", "contact", "forwarded_by"
        )
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.sign_on.status != SignOn.Status.OPEN:
        return 0
    if invitation.contact is not None and invitation.contact.email_opt_out:
        return 0
    # The organization may have answered while a reminder or the new text waited in the queue.
    waiting = selectors.awaiting_response(invitation.sign_on).filter(pk=invitation.pk)
    if kind in {"reminder", "text_changed"} and not waiting.exists():
        return 0
    sign_on = invitation.sign_on
    token = selectors.invitation_link_token(invitation)
    emails.send(
        kind if kind != "text_changed" else "invitation-text-changed",
        to=[invitation.email],
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
        },
    )
    return 1


def _forward_note(invitation: Invitation) -> str:
    event = invitation.sign_on.events.filter(action="forwarded", invitation=invitation).last()
    return (event.detail or {}).get("note", "") if event else ""


@task(backend="background", queue_name="email")
def send_signature_email(signature_id: int, kind: str) -> bool:
    """Tell the signer what became of their response: confirm the address, signed, withdrawn,
    approved, rejected, reconfirmed."""
    if kind not in SIGNATURE_EMAILS:
        raise ValueError(f"unknown signature email {kind!r}")
    signature = (
        Signature.objects.select_related("sign_on", "sign_on__letter", "organization")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or not signature.signer_email or signature.sign_on is None:
        return False
    if kind == "confirm" and signature.status != Signature.Status.UNCONFIRMED:
        return False
    sign_on = signature.sign_on
    link = ""
    if signature.token_nonce and (signature.is_active or kind == "confirm"):
        token = selectors.signature_link_token(signature)
        link = emails.absolute_url(reverse("signatories:signature", args=[token]))
    emails.send(
        f"signature-{kind}",
        to=[signature.signer_email],
        context={
            **_deadline_context(sign_on),
            "kind": kind,
            "organization": signature.organization.name if signature.organization else "",
            "display_name": signature.display_name,
            "signer_name": signature.signer_name,
            "status": signature.get_status_display(),
            "pending_review": signature.status == Signature.Status.PENDING_REVIEW,
            "reason": signature.reason,
            "link": link,
            # Open-link responses have no invitation; individuals have no organization.
            "individual": signature.organization_id is None,
            "invited": signature.invitation_id is not None,
            "why": _why(signature),
        },
    )
    return True


def _why(signature: Signature) -> str:
    if signature.invitation_id is not None and signature.organization is not None:
        return f"{signature.organization.name} was invited to sign this letter"
    return "you asked to sign this letter through its open link"


@task(backend="background", queue_name="email")
def send_text_changed(signature_id: int, kind: str, note: str = "") -> int:
    """After a material change: a signer gets what changed and a link to reconfirm; an
    organization that declined gets the new text, in case it changes its mind."""
    signature = (
        Signature.objects.select_related(
            "sign_on", "sign_on__letter", "sign_on__revision", "organization", "invitation"
        )
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or not signature.is_active or signature.sign_on is None:
        return 0
    sign_on = signature.sign_on
    if sign_on.status != SignOn.Status.OPEN or not signature.signer_email:
        return 0
    signed = kind == "signed"
    if signed and signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        return 0  # reconfirmed or withdrawn before this job ran
    if signed:
        token = selectors.signature_link_token(signature)
        link = reverse("signatories:signature", args=[token])
    elif signature.invitation is not None:
        link = reverse(
            "signatories:sign", args=[selectors.invitation_link_token(signature.invitation)]
        )
    else:
        return 0
    before = selectors.signed_revision(signature) if signed else sign_on.previous_revision
    changes = text_diff.diff_revisions(before, sign_on.revision) if before else []
    emails.send(
        "signature-reconfirm",
        to=[signature.signer_email],
        context={
            **_deadline_context(sign_on),
            "organization": signature.organization.name if signature.organization else "",
            "signer_name": signature.signer_name,
            "individual": signature.organization_id is None,
            "declined": not signed,
            "note": note,
            "changes": changes,
            "link": emails.absolute_url(link),
            "why": _why(signature),
        },
    )
    return 1
