"""The member portal's emails, sent by the task worker once the decision is committed."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from coalition.models import ProfileProposal


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
    context = {
        "name": contact.name,
        "organization": organization.name,
        "approved": proposal.status == ProfileProposal.Status.APPROVED,
        "changes": sorted(proposal.changes.items()),
        "logo": bool(proposal.logo),
        "note": proposal.review_note,
        "portal_url": settings.SITE_URL + reverse("portal:organization", args=[organization.slug]),
    }
    subject = " ".join(render_to_string("emails/profile-decision-subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/profile-decision-body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
    )
    email.attach_alternative(
        render_to_string("emails/profile-decision-body.html", context), "text/html"
    )
    try:
        email.send()
    except Exception:
        ProfileProposal.objects.filter(pk=proposal.pk).update(decision_emailed_at=None)
        raise
    return True
