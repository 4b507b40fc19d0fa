"""The member portal's emails, sent by the task worker through the outbox
(coalition.core.deliveries), which sends each at most once however often its job runs."""

from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from coalition.core import deliveries, emails
from coalition.core.deliveries import Outgoing
from coalition.crm.models import ProfileProposal


@task(backend="background", queue_name="email")
def email_proposal_decision(proposal_id: int, retrying: int | None = None) -> bool:
    """Tell the contact who proposed a profile change what staff decided, and why.

    At most once: a second run of the job (a duplicate, or one picked up again after its worker
    died) finds the email sent; while the mail server is away, the outbox queues it again.
    """
    sent = deliveries.deliver(
        _decision_email(proposal_id),
        job=email_proposal_decision,
        args=(proposal_id,),
        retrying=retrying,
    )
    if sent:
        ProfileProposal.objects.filter(pk=proposal_id).update(decision_emailed_at=timezone.now())
    return sent


def _decision_email(proposal_id: int) -> Outgoing | None:
    proposal = (
        ProfileProposal.objects.select_related("organization", "contact")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or proposal.status == ProfileProposal.Status.PENDING:
        return None
    if proposal.decision_emailed_at is not None:
        return None  # told already (before the outbox kept a record of it)
    contact = proposal.contact
    if contact is None or not contact.email or contact.email_opt_out:
        return None
    organization = proposal.organization
    return Outgoing(
        name="profile-decision",
        to=contact.email,
        job="profile:decision",
        regarding=f"proposal {proposal.pk}",
        occasion=proposal.status,
        topic=f"Profile change for {organization.name}",
        context={
            "name": contact.name,
            "organization": organization.name,
            "approved": proposal.status == ProfileProposal.Status.APPROVED,
            "changes": sorted(proposal.changes.items()),
            "logo": bool(proposal.logo),
            "note": proposal.review_note,
            "portal_url": emails.absolute_url(
                reverse("portal:organization", args=[organization.slug])
            ),
        },
    )
