"""Reminders to the invited people whose organization has not answered, on the sign-on's schedule."""

import datetime

from django.tasks import task
from django.utils import timezone

from signatories import selectors, tasks
from signatories.deadlines import format_moment
from signatories.errors import ResponsesClosed, SignOnError, TransitionNotAllowed
from signatories.models import Action, Invitation, SignOn

from .core import holding, transition_each
from .events import Actor


def reminders_due(sign_on: SignOn, *, invited_at: datetime.datetime, now: datetime.datetime) -> int:
    """How many of the sign-on's reminder moments have passed for a person invited then."""
    # Moments before the invitation do not count: a late invitee is not reminded at once.
    return sum(1 for moment in sign_on.reminder_moments() if invited_at < moment <= now)


def reminder_recipients(
    sign_on: SignOn, *, now: datetime.datetime | None = None, force: bool = False
) -> list[Invitation]:
    """Who a reminder would reach now: everyone waiting with `force`, else those due one."""
    now = now or timezone.now()
    waiting = selectors.awaiting_response(sign_on).select_related("organization")
    return [
        invitation
        for invitation in waiting.order_by("organization__sort_name", "name", "pk")
        if force
        or invitation.reminders_sent
        < reminders_due(sign_on, invited_at=invitation.created_at, now=now)
    ]


def send_reminders(
    *,
    sign_on: SignOn,
    actor: Actor,
    now: datetime.datetime | None = None,
    force: bool = False,
) -> list[Invitation]:
    """Remind the people whose organization has not answered and who are due (all of them with force)."""
    now = now or timezone.now()
    with holding(sign_on) as held:
        if held.sign_on.status != SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "Only an open sign-on sends reminders; this one is "
                f"{held.sign_on.get_status_display().lower()}."
            )
        if held.sign_on.is_past_deadline(now):
            raise ResponsesClosed("The deadline has passed: no reminder is sent.")
        due = reminder_recipients(held.sign_on, now=now, force=force)
        locked = list(
            Invitation.objects.select_for_update(of=("self",))
            .filter(pk__in=[i.pk for i in due])
            .order_by("pk")
        )
        return transition_each(
            held.sign_on,
            locked,
            action=Action.REMINDER_SENT,
            actor=actor,
            # One email covers every moment passed (a cron that was down does not send a
            # burst), and a manual reminder counts toward the schedule, so nobody gets two
            # within hours.
            fields=lambda invitation: {
                "reminders_sent": max(
                    invitation.reminders_sent + 1,
                    reminders_due(held.sign_on, invited_at=invitation.created_at, now=now),
                )
            },
            detail=lambda invitation: {"manual": force},
            notify=lambda invitation: [(tasks.send_invitation, (invitation.pk, "reminder"))],
        )


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


@task(backend="background")
def send_scheduled_reminders(sign_on_id: int) -> int:
    """Send a sign-on's reminders that are due now; queued for each moment of its schedule."""
    sign_on = SignOn.objects.filter(pk=sign_on_id).first()
    if sign_on is None or not sign_on.accepts_responses:
        return 0
    try:
        reminded = send_reminders(sign_on=sign_on, actor=Actor.system("reminder schedule"))
    except SignOnError:
        return 0  # closed or cancelled meanwhile
    return len(reminded)


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
