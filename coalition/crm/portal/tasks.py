"""Emails sent by the task worker: the member portal's, and the sign-in pages' (rendered in the
request, so that no request waits on the mail server)."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import ProfileProposal


def queue_email(message: EmailMessage) -> None:
    """Hand an email rendered in a request to the task worker, which sends it.

    Queued at once rather than after commit: the database queue holds the job in the request's
    transaction, so the worker sees it only if the request's writes were kept.
    """
    send_email.enqueue(
        subject=str(message.subject),
        body=str(message.body),
        subtype=message.content_subtype,
        alternatives=[
            [str(content), mimetype]
            for content, mimetype in getattr(message, "alternatives", [])
            if mimetype
        ],
        from_email=message.from_email,
        to=list(message.to),
        headers={name: str(value) for name, value in message.extra_headers.items()},
    )


@task(backend="background", queue_name="email")
def send_email(
    *,
    subject: str,
    body: str,
    to: list[str],
    from_email: str | None = None,
    subtype: str = "plain",
    alternatives: list[list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send an email rendered in a request; one addressed to nobody sends nothing.

    A sign-in code asked for an address on file for nobody is queued like any other, to nobody,
    so that the request that asked for it did the same work (coalition/crm/accounts.py).
    """
    if not to:
        return 0
    email = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email, to=to, headers=headers or {}
    )
    email.content_subtype = subtype
    for content, mimetype in alternatives or []:
        email.attach_alternative(content, mimetype)
    return email.send()


@task(backend="background", queue_name="email")
def email_proposal_decision(proposal_id: int) -> bool:
    """Tell the contact who proposed a profile change what staff decided, and why.

    At most once: the proposal is marked before the mail server is called, so a second run of
    the job (a duplicate, or one picked up again after its worker died) sends nothing. A send
    that fails unmarks it and fails the job, which says why.
    """
    proposal = (
        ProfileProposal.objects.select_related("organization", "contact")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or proposal.status == ProfileProposal.Status.PENDING:
        return False
    contact = proposal.contact
    if contact is None or not contact.email or contact.email_opt_out:
        return False
    unsent = ProfileProposal.objects.filter(pk=proposal.pk, decision_emailed_at__isnull=True)
    if not unsent.update(decision_emailed_at=timezone.now()):
        return False
    organization = proposal.organization
    context: dict[str, Any] = {
        "name": contact.name,
        "organization": organization.name,
        "approved": proposal.status == ProfileProposal.Status.APPROVED,
        "changes": sorted(proposal.changes.items()),
        "logo": bool(proposal.logo),
        "note": proposal.review_note,
        "portal_url": settings.SITE_URL + reverse("portal:organization", args=[organization.slug]),
    }
    try:
        send_email.call(
            subject=" ".join(
                render_to_string("emails/profile-decision-subject.txt", context).split()
            ),
            body=render_to_string("emails/profile-decision-body.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[contact.email],
            alternatives=[
                [render_to_string("emails/profile-decision-body.html", context), "text/html"]
            ],
        )
    except Exception:
        ProfileProposal.objects.filter(pk=proposal.pk).update(decision_emailed_at=None)
        raise
    return True
