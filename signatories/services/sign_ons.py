"""Opening, inviting to, closing and cancelling a sign-on."""

import datetime
from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from wagtail.models import Revision

from coalition.crm.models import Coalition, Membership, Organization
from letters.models import CirculationApproval, LetterPage
from letters.versions import revision_text_hash
from signatories import selectors, tasks, tokens
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.inputs import NO_TEXT, StaffText
from signatories.models import (
    Action,
    Invitation,
    SignOn,
    default_reminder_days,
    validate_reminder_days,
)
from signatories.selectors import audience_organizations, planned_invitations

from .core import InvitationFields, Notification, holding, queue, transition, transition_each
from .events import Actor
from .holds import keep_hold
from .reminders import reminders_due, send_scheduled_reminders


def _as_created(
    sign_on: SignOn, coalitions: list[Coalition], organizations: list[Organization]
) -> dict[str, Any]:
    """What the event of a new sign-on records of its choices."""
    return {
        "revision": sign_on.revision_id,
        "deadline": sign_on.deadline.isoformat(),
        "coalitions": [c.pk for c in coalitions],
        "tiers": sign_on.tiers,
        "organizations": [o.pk for o in organizations],
        "recipients": sign_on.recipients,
        "reminder_days": sign_on.reminder_days,
        "goal": {
            "organizations": sign_on.goal_organizations,
            "individuals": sign_on.goal_individuals,
            "publish": sign_on.publish_at_goal,
        },
    }


@transaction.atomic
def create_sign_on(
    *,
    revision: Revision,
    deadline: datetime.datetime,
    actor: Actor,
    coalitions: Iterable[Coalition] = (),
    tiers: Iterable[str] = (),
    organizations: Iterable[Organization] = (),
    message: str = "",
    recipients: str = SignOn.Recipients.SIGNERS,
    auto_approve_authorized: bool = True,
    auto_approve_individuals: bool = False,
    show_signatories: bool = False,
    reminder_days: list[int] | None = None,
    goal_organizations: int | None = None,
    goal_individuals: int | None = None,
    publish_at_goal: bool = False,
) -> SignOn:
    """Create a draft sign-on that circulates an approved revision of a letter, frozen with its hash."""
    letter = _letter_to_circulate(revision)
    _check_goal(letter, goal_organizations, goal_individuals, publish_at_goal)
    if deadline <= timezone.now():
        raise SignOnError("The deadline must be in the future.", field="deadline")
    coalitions, tiers, organizations = list(coalitions), list(tiers), list(organizations)
    _check_choices(tiers=tiers, recipients=recipients)
    reminder_days = _checked_reminder_days(reminder_days)
    if not audience_organizations(
        coalitions=coalitions, tiers=tiers, organizations=organizations
    ).exists():
        raise SignOnError(
            "The audience is empty: choose coalitions (and tiers) or organizations.",
            field="coalitions",
        )
    sign_on = SignOn(
        letter=letter,
        revision=revision,
        text_hash=revision_text_hash(revision),
        deadline=deadline,
        tiers=tiers,
        message=message,
        recipients=recipients,
        auto_approve_authorized=auto_approve_authorized,
        auto_approve_individuals=auto_approve_individuals,
        show_signatories=show_signatories,
        reminder_days=sorted(reminder_days, reverse=True),
        goal_organizations=goal_organizations or None,
        goal_individuals=goal_individuals or None,
        publish_at_goal=publish_at_goal,
        created_by=actor.user,
    )
    _save_only_sign_on(sign_on, letter)
    sign_on.coalitions.set(coalitions)
    sign_on.organizations.set(organizations)
    # A publication scheduled in the editor would go live around the sign-on: it is cancelled.
    unscheduled = letter.revisions.filter(approved_go_live_at__isnull=False).update(
        approved_go_live_at=None
    )
    transition(
        sign_on,
        sign_on,
        action=Action.CREATED,
        actor=actor,
        detail={
            **_as_created(sign_on, coalitions, organizations),
            "scheduled_publication_cancelled": bool(unscheduled),
        },
    )
    # From now on the letter is published from the sign-on's tracker, not Wagtail's Publish.
    keep_hold(letter)
    return sign_on


def _letter_to_circulate(revision: Revision) -> LetterPage:
    """The letter of a revision approved for circulation."""
    if not CirculationApproval.objects.filter(revision=revision).exists():
        raise SignOnError("This revision has not been approved for circulation.", field="revision")
    letter = revision.content_object
    if not isinstance(letter, LetterPage):
        raise SignOnError("Only letter revisions can be circulated.", field="revision")
    return letter


def _check_choices(*, tiers: list[str], recipients: str) -> None:
    unknown = set(tiers) - set(Membership.Tier.values)
    if unknown:
        raise SignOnError(f"Unknown tier: {', '.join(sorted(unknown))}.", field="tiers")
    if recipients not in SignOn.Recipients.values:
        raise SignOnError(f"Unknown choice of recipients: {recipients}.", field="recipients")


def _checked_reminder_days(reminder_days: list[int] | None) -> list[int]:
    days = default_reminder_days() if reminder_days is None else list(reminder_days)
    try:
        validate_reminder_days(days)
    except ValidationError as error:
        raise SignOnError(error.messages[0], field="reminder_days") from None
    return days


def _save_only_sign_on(sign_on: SignOn, letter: LetterPage) -> None:
    """Save a new sign-on; the database allows one per letter that is not cancelled."""
    try:
        with transaction.atomic():
            sign_on.save()
    except IntegrityError:
        raise SignOnError(
            f"“{letter.title}” already has a sign-on; close or cancel it first.", field="revision"
        ) from None


def open_sign_on(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Open a draft sign-on and invite its audience; invitations are emailed after commit."""
    with holding(sign_on) as held:
        if held.sign_on.is_past_deadline():
            raise SignOnError("The deadline has passed; set a later one.", field="deadline")
        transition(
            held.sign_on,
            held.sign_on,
            action=Action.OPENED,
            actor=actor,
            status=SignOn.Status.OPEN,
            fields={"opened_at": timezone.now()},
            notify=timed_jobs(held.sign_on),
        )
        audience = audience_organizations(
            coalitions=held.sign_on.coalitions.all(),
            tiers=held.sign_on.tiers,
            organizations=held.sign_on.organizations.all(),
        )
        invite_people(held.sign_on, list(audience), actor=actor)
    return held.sign_on


#: A goal beyond this is a typo: no letter we know of gathered more.
LARGEST_GOAL = 10_000_000


def _check_goal(
    letter: LetterPage,
    organizations: int | None,
    individuals: int | None,
    publish: bool,
) -> None:
    for field, value in (("goal_organizations", organizations), ("goal_individuals", individuals)):
        if value is not None and not 0 <= value <= LARGEST_GOAL:
            raise SignOnError(
                f"A goal is a whole number from 1 to {LARGEST_GOAL:,}; empty for none.",
                field=field,
            )
    if individuals and not letter.accepts_individuals:
        raise SignOnError(
            "The letter does not accept individuals' signatures: set a goal of organizations, "
            "or let the letter accept individuals first.",
            field="goal_individuals",
        )
    if publish and not (organizations or individuals):
        raise SignOnError(
            "Set a goal of organizations or individuals to publish when it is reached.",
            field="publish_at_goal",
        )


def timed_jobs(sign_on: SignOn) -> list[Notification]:
    """The deadline close and each reminder run, queued for their moment.

    Where the queue cannot defer a job, `close_due_sign_ons` and `send_due_reminders` (cron) do it.
    """
    if not close_at_deadline.get_backend().supports_defer:
        return []
    now = timezone.now()
    return [
        (close_at_deadline.using(run_after=sign_on.deadline), (sign_on.pk,)),
        *(
            (send_scheduled_reminders.using(run_after=moment), (sign_on.pk,))
            for moment in sign_on.reminder_moments()
            if moment > now
        ),
    ]


def invite_organizations(
    *,
    sign_on: SignOn,
    organizations: Iterable[Organization],
    actor: Actor,
    contacts: Collection[int] | None = None,
) -> list[Invitation]:
    """Invite more organizations (or people added since) to an open sign-on; nobody twice.

    `contacts` limits the invitations to these people: those staff were shown before inviting.
    """
    with holding(sign_on) as held:
        if held.sign_on.status != SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "Only an open sign-on takes invitations; this one is "
                f"{held.sign_on.get_status_display().lower()}."
            )
        return invite_people(held.sign_on, list(organizations), actor=actor, contacts=contacts)


def invite_people(
    sign_on: SignOn,
    organizations: list[Organization],
    *,
    actor: Actor,
    contacts: Collection[int] | None = None,
) -> list[Invitation]:
    """Give each chosen person of these organizations a link and email it; the caller holds the lock."""
    new = planned_invitations(sign_on, organizations)
    if contacts is not None:
        new = [invitation for invitation in new if invitation.contact_id in contacts]
    return transition_each(
        sign_on,
        new,
        action=Action.INVITED,
        actor=actor,
        fields=new_link_fields,
        notify=lambda invitation: [(tasks.send_invitation, (invitation.pk, "invitation"))],
    )


def new_link_fields(invitation: Invitation) -> InvitationFields:
    """A new link for an invitation: the nonce the token derives from, and the token's hash."""
    nonce = tokens.new_nonce()
    return {
        "token_nonce": nonce,
        "token_hash": tokens.digest(tokens.derive("invitation", nonce)),
        "sent_at": invitation.sent_at or timezone.now(),
    }


def close_sign_on(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Close an open sign-on, at its deadline or early; responses are refused from now on."""
    with holding(sign_on) as held:
        now = timezone.now()
        transition(
            held.sign_on,
            held.sign_on,
            action=Action.CLOSED,
            actor=actor,
            status=SignOn.Status.CLOSED,
            fields={"closed_at": now},
            detail={"early": now < held.sign_on.deadline, "deadline": sign_on.deadline.isoformat()},
            # Who opened it hears, with the tally.
            notify=[(tasks.send_closed_email, (held.sign_on.pk,))],
        )
    return held.sign_on


def cancel_sign_on(*, sign_on: SignOn, actor: Actor, reason: StaffText = NO_TEXT) -> SignOn:
    """Cancel a draft or open sign-on: nothing of it will be published."""
    with holding(sign_on) as held:
        transition(
            held.sign_on,
            held.sign_on,
            action=Action.CANCELLED,
            actor=actor,
            status=SignOn.Status.CANCELLED,
            fields={"closed_at": timezone.now()},
            detail={"reason": reason},
        )
    return held.sign_on


# A sign-on runs for weeks: a date further out is a typo (and past the year 9999, no date at all).
LONGEST_MOVE = datetime.timedelta(days=730)


def change_deadline(*, sign_on: SignOn, deadline: datetime.datetime, actor: Actor) -> SignOn:
    """Extend an open sign-on's deadline or bring it forward; those who have not answered are
    emailed the new date, once."""
    if timezone.is_naive(deadline):
        raise SignOnError("Give the deadline with its time zone.", field="deadline")
    if deadline > timezone.now() + LONGEST_MOVE:
        raise SignOnError(
            f"The deadline must be within {LONGEST_MOVE.days} days from now.", field="deadline"
        )
    # As the database gives it back: the event's record of the sign-on must read the same.
    deadline = deadline.astimezone(datetime.UTC)
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status != SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "Only an open sign-on's deadline can move; this one is "
                f"{current.get_status_display().lower()}."
            )
        now = timezone.now()
        if current.is_past_deadline(now):
            raise TransitionNotAllowed(
                "The deadline has passed and responses are refused: the sign-on is closing, so "
                "its deadline no longer moves."
            )
        if deadline <= now:
            raise SignOnError("The deadline must be in the future.", field="deadline")
        if deadline == current.deadline:
            raise SignOnError("That is the deadline already: choose another.", field="deadline")
        previous = current.deadline
        waiting = list(
            Invitation.objects.select_for_update(of=("self",))
            .filter(pk__in=selectors.awaiting_response(current).values("pk"))
            .order_by("pk")
        )
        transition(
            current,
            current,
            action=Action.DEADLINE_CHANGED,
            actor=actor,
            fields={"deadline": deadline},
            detail={
                "previous_deadline": previous.isoformat(),
                "deadline": deadline.isoformat(),
                "extended": deadline > previous,
                "told": len(waiting),
            },
        )
        # Jobs queued for the old moments stay in the queue: each reads the deadline again when
        # it runs (close_at_deadline), or counts the reminders due then (send_scheduled_reminders).
        queue(timed_jobs(current))
        transition_each(
            current,
            waiting,
            action=Action.DEADLINE_NOTIFIED,
            actor=actor,
            # The email of the new date stands for the reminders whose moments the new deadline
            # has already passed, and a later deadline brings its own reminders: the count
            # restarts from the moments passed on the new schedule.
            fields=lambda invitation: {
                "reminders_sent": reminders_due(current, invited_at=invitation.created_at, now=now)
            },
            detail=lambda invitation: {
                "previous_deadline": previous.isoformat(),
                "deadline": deadline.isoformat(),
            },
            notify=lambda invitation: [
                (tasks.send_invitation, (invitation.pk, "deadline_changed"))
            ],
        )
    return current


def close_due_sign_ons(*, actor: Actor | None = None) -> list[SignOn]:
    """Close every open sign-on whose deadline has passed."""
    actor = actor or Actor.system("deadline")
    closed = []
    due = SignOn.objects.filter(status=SignOn.Status.OPEN, deadline__lte=timezone.now())
    for sign_on in due:
        try:
            closed.append(close_sign_on(sign_on=sign_on, actor=actor))
        except TransitionNotAllowed:
            continue  # closed or cancelled meanwhile
    return closed


@task(backend="background")
def close_at_deadline(sign_on_id: int) -> str:
    """Close the sign-on if it is still open and its deadline has passed."""
    sign_on = SignOn.objects.filter(pk=sign_on_id).first()
    if sign_on is None or sign_on.status != SignOn.Status.OPEN:
        return "not open"
    if not sign_on.is_past_deadline():
        return "deadline not reached"  # the deadline moved; a later job closes it
    try:
        close_sign_on(sign_on=sign_on, actor=Actor.system("deadline"))
    except TransitionNotAllowed:
        return "not open"  # closed by hand while this job waited
    return "closed"
