"""Background jobs: invitation, reminder and signer emails, and closing a sign-on at its deadline.

Arguments are ids (JSON-serialisable); each job reads the current state and calls a service.
Link tokens are issued inside the job, so they never sit in the task queue in clear.
"""

import datetime

from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from . import emails
from .deadlines import describe_deadline, format_moment


@task(backend="background")
def send_invitation(invitation_id: int) -> int:
    """Email an invitation's link to its organization's contacts (not those who opted out)."""
    return _email_link(invitation_id, "invitation")


@task(backend="background")
def send_reminder(invitation_id: int) -> int:
    """Remind an organization that has not responded, with a fresh link, as the invitation went."""
    from .models import Invitation
    from .services.reminders import awaiting_response

    invitation = Invitation.objects.select_related("sign_on").filter(pk=invitation_id).first()
    # It may have answered between the reminder being queued and the worker running it.
    if (
        invitation is None
        or not awaiting_response(invitation.sign_on).filter(pk=invitation_id).exists()
    ):
        return 0
    return _email_link(invitation_id, "reminder")


def _email_link(invitation_id: int, email: str) -> int:
    """Issue the invitation a fresh link and email it to its contacts with the named template."""
    from . import services
    from .models import Invitation, SignOn

    invitation = (
        Invitation.objects.select_related("sign_on", "sign_on__letter", "organization")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.sign_on.status != SignOn.Status.OPEN:
        return 0
    token, recipients = services.issue_invitation_token(
        invitation=invitation, actor=services.Actor.system(f"{email} email")
    )
    sign_on = invitation.sign_on
    emails.send(
        email,
        to=recipients,
        context={
            "letter_title": sign_on.letter.title,
            "organization": invitation.organization.name,
            "deadline": describe_deadline(sign_on.deadline),
            "deadline_at": format_moment(sign_on.deadline),
            "message": sign_on.message,
            "link": emails.absolute_url(reverse("signatories:sign", args=[token])),
        },
    )
    return len(recipients)


@task(backend="background")
def send_signature_email(signature_id: int, kind: str) -> bool:
    """Tell the signer what became of their response: signed, declined, withdrawn, approved, rejected."""
    from . import services
    from .models import Signature

    signature = (
        Signature.objects.select_related("sign_on", "sign_on__letter", "organization")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or not signature.signer_email or signature.sign_on is None:
        return False
    sign_on = signature.sign_on
    context = {
        "kind": kind,
        "letter_title": sign_on.letter.title,
        "organization": signature.organization.name if signature.organization else "",
        "display_name": signature.display_name,
        "signer_name": signature.signer_name,
        "status": signature.get_status_display(),
        "pending_review": signature.status == Signature.Status.PENDING_REVIEW,
        "reason": signature.reason,
        "deadline": describe_deadline(sign_on.deadline),
        "deadline_at": format_moment(sign_on.deadline),
        "withdraw_link": "",
        # Open-link responses have no invitation; individuals have no organization.
        "individual": signature.organization_id is None,
        "invited": signature.invitation_id is not None,
    }
    if kind == "signed" and signature.is_active:
        token = services.issue_withdraw_token(
            signature=signature, actor=services.Actor.system("confirmation email")
        )
        context["withdraw_link"] = emails.absolute_url(
            reverse("signatories:withdraw_by_link", args=[token])
        )
    emails.send(f"signature-{kind}", to=[signature.signer_email], context=context)
    return True


@task(backend="background")
def send_text_changed(signature_id: int, note: str = "") -> int:
    """Tell an organization that responded that the text changed: a signer must reconfirm."""
    from . import services
    from .models import Signature, SignOn

    signature = (
        Signature.objects.select_related("sign_on", "sign_on__letter", "organization", "invitation")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.invitation is None or not signature.is_active:
        return 0
    signed = signature.response == Signature.Response.SIGNED
    if signed and signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        return 0  # reconfirmed or withdrawn before this job ran
    if signature.sign_on.status != SignOn.Status.OPEN:
        return 0
    # A fresh link, as for the invitation: the token exists in clear only in this email.
    token, recipients = services.issue_invitation_token(
        invitation=signature.invitation, actor=services.Actor.system("reconfirmation email")
    )
    to = [signature.signer_email] if signature.signer_email else []
    to += [r for r in recipients if r.casefold() not in {t.casefold() for t in to}]
    sign_on = signature.sign_on
    emails.send(
        "signature-reconfirm",
        to=to,
        context={
            "letter_title": sign_on.letter.title,
            "organization": signature.organization.name if signature.organization else "",
            "signer_name": signature.signer_name,
            "declined": not signed,
            "note": note,
            "deadline": describe_deadline(sign_on.deadline),
            "deadline_at": format_moment(sign_on.deadline),
            "link": emails.absolute_url(reverse("signatories:sign", args=[token])),
        },
    )
    return len(to)


@task(backend="background")
def close_sign_on_at_deadline(sign_on_id: int) -> str:
    """Close the sign-on if it is still open and its deadline has passed."""
    from . import services
    from .models import SignOn

    sign_on = SignOn.objects.filter(pk=sign_on_id).first()
    if sign_on is None or sign_on.status != SignOn.Status.OPEN:
        return "not open"
    if not sign_on.is_past_deadline():
        return "deadline not reached"  # the deadline moved; a later job closes it
    services.close_sign_on(sign_on=sign_on, actor=services.Actor.system("deadline"))
    return "closed"


def schedule_deadline_close(sign_on_id: int, deadline: datetime.datetime) -> None:
    """Queue the deadline close where the backend can defer; elsewhere `close_due_sign_ons` does it."""
    if close_sign_on_at_deadline.get_backend().supports_defer:
        close_sign_on_at_deadline.using(run_after=deadline).enqueue(sign_on_id)


@task(backend="background")
def send_scheduled_reminders(sign_on_id: int) -> int:
    """Send a sign-on's reminders that are due now; queued for each moment of its schedule."""
    from . import services
    from .models import SignOn

    sign_on = SignOn.objects.filter(pk=sign_on_id).first()
    if sign_on is None or not sign_on.accepts_responses:
        return 0
    try:
        reminded = services.send_reminders(
            sign_on=sign_on, actor=services.Actor.system("reminder schedule")
        )
    except services.SignOnError:
        return 0  # closed or cancelled meanwhile
    return len(reminded)


def schedule_reminders(sign_on_id: int, moments: list[datetime.datetime]) -> None:
    """Queue a reminder run at each moment to come where the backend can defer; else cron does it."""
    if send_scheduled_reminders.get_backend().supports_defer:
        now = timezone.now()
        for moment in moments:
            if moment > now:
                send_scheduled_reminders.using(run_after=moment).enqueue(sign_on_id)


@task(backend="background")
def render_publication_pdf(publication_id: int) -> str:
    """Render and store a published letter's PDF (in the worker: it takes seconds for long lists)."""
    from . import services
    from .models import Publication

    publication = Publication.objects.filter(pk=publication_id).first()
    if publication is None:
        return "gone"
    return services.attach_publication_pdf(publication=publication).pdf_sha256
