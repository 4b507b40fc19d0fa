"""Reminders to the invited organizations that have not responded, on the sign-on's schedule."""

import datetime
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from coalition.models import Contact
from signatories import tasks
from signatories.deadlines import format_moment
from signatories.models import Invitation, Signature, SignOn

from .errors import ResponsesClosed, SignOnError, TransitionNotAllowed
from .events import Actor, record_event
from .sign_ons import lock_sign_on


def reminders_due(sign_on: SignOn, *, invited_at: datetime.datetime, now: datetime.datetime) -> int:
    """How many of the sign-on's reminder moments have passed for an organization invited then."""
    # Moments before the invitation do not count: a late invitee is not reminded at once.
    return sum(1 for moment in sign_on.reminder_moments() if invited_at < moment <= now)


def awaiting_response(sign_on: SignOn) -> QuerySet[Invitation]:
    """The sign-on's invitations whose organization has no active response and can be emailed."""
    responded = Signature.objects.filter(
        sign_on=sign_on,
        organization_id=OuterRef("organization_id"),
        status__in=Signature.ACTIVE_STATUSES,
    )
    reachable = Contact.objects.filter(
        organization_id=OuterRef("organization_id"), email_opt_out=False
    )
    return sign_on.invitations.filter(~Exists(responded), Exists(reachable))


@transaction.atomic
def send_reminders(
    *,
    sign_on: SignOn,
    actor: Actor,
    now: datetime.datetime | None = None,
    force: bool = False,
) -> list[Invitation]:
    """Remind the organizations that have not responded and are due a reminder (all of them with force)."""
    now = now or timezone.now()
    sign_on = lock_sign_on(sign_on)
    if sign_on.status != SignOn.Status.OPEN:
        raise TransitionNotAllowed(
            f"Only an open sign-on sends reminders; this one is {sign_on.get_status_display().lower()}."
        )
    if sign_on.is_past_deadline(now):
        raise ResponsesClosed("The deadline has passed: no reminder is sent.")
    reminded = []
    for invitation in awaiting_response(sign_on).select_for_update(of=("self",)).order_by("pk"):
        due = reminders_due(sign_on, invited_at=invitation.created_at, now=now)
        if not force and invitation.reminders_sent >= due:
            continue
        # One email covers every moment passed (a cron that was down does not send a burst), and
        # a manual reminder counts toward the schedule, so nobody gets two within hours.
        invitation.reminders_sent = max(invitation.reminders_sent + 1, due)
        reminded.append(invitation)
    Invitation.objects.bulk_update(reminded, ["reminders_sent"])
    for invitation in reminded:
        record_event(
            sign_on=sign_on,
            action="reminder_sent",
            actor=actor,
            invitation=invitation,
            detail={"reminders_sent": invitation.reminders_sent, "manual": force},
        )
        transaction.on_commit(partial(tasks.send_reminder.enqueue, invitation.pk))
    return reminded


def send_due_reminders(
    *, actor: Actor | None = None, now: datetime.datetime | None = None
) -> list[Invitation]:
    """Send the reminders that are due in every open sign-on before its deadline."""
    actor = actor or Actor.system("reminder schedule")
    now = now or timezone.now()
    reminded: list[Invitation] = []
    for sign_on in SignOn.objects.filter(status=SignOn.Status.OPEN, deadline__gt=now):
        try:
            reminded += send_reminders(sign_on=sign_on, actor=actor, now=now)
        except SignOnError:
            continue  # closed, cancelled or past its deadline meanwhile
    return reminded


def describe_reminder_schedule(sign_on: SignOn) -> str:
    """“7 and 2 days before the deadline (7 March at 17:00 ET, 12 March at 17:00 ET)”."""
    days = sorted(set(sign_on.reminder_days or ()), reverse=True)
    if not days:
        return "no reminders scheduled"
    counts = [str(day) for day in days]
    spoken = counts[0] if len(counts) == 1 else f"{', '.join(counts[:-1])} and {counts[-1]}"
    unit = "day" if days == [1] else "days"
    moments = ", ".join(format_moment(moment) for moment in sign_on.reminder_moments())
    return f"{spoken} {unit} before the deadline ({moments})"
