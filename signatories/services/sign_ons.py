"""Opening, inviting to, closing and cancelling a sign-on."""

import datetime
import hashlib
import json
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from wagtail.models import Revision

from coalition.models import Coalition, Membership, Organization
from letters.models import CirculationApproval, LetterPage
from signatories import tasks, tokens
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Invitation, SignOn, default_reminder_days, validate_reminder_days
from signatories.selectors import audience_organizations, people_to_invite

from .core import Notification, holding, transition, transition_each
from .events import Actor
from .reminders import send_scheduled_reminders


def revision_text_hash(revision: Revision) -> str:
    """SHA-256 of a revision's stored content: what the signers agree to."""
    # Read back as stored: a revision just returned by save_revision() holds Python values
    # (dates, rich text) that serialise differently from the JSON the database keeps.
    content = Revision.objects.filter(pk=revision.pk).values_list("content", flat=True).get()
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


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
    show_signatories: bool = False,
    reminder_days: list[int] | None = None,
) -> SignOn:
    """Create a draft sign-on that circulates an approved revision of a letter, frozen with its hash."""
    if not CirculationApproval.objects.filter(revision=revision).exists():
        raise SignOnError("This revision has not been approved for circulation.", field="revision")
    letter = revision.content_object
    if not isinstance(letter, LetterPage):
        raise SignOnError("Only letter revisions can be circulated.", field="revision")
    if deadline <= timezone.now():
        raise SignOnError("The deadline must be in the future.", field="deadline")
    coalitions, tiers, organizations = list(coalitions), list(tiers), list(organizations)
    unknown = set(tiers) - set(Membership.Tier.values)
    if unknown:
        raise SignOnError(f"Unknown tier: {', '.join(sorted(unknown))}.", field="tiers")
    if recipients not in SignOn.Recipients.values:
        raise SignOnError(f"Unknown choice of recipients: {recipients}.", field="recipients")
    reminder_days = default_reminder_days() if reminder_days is None else list(reminder_days)
    try:
        validate_reminder_days(reminder_days)
    except ValidationError as error:
        raise SignOnError(error.messages[0], field="reminder_days") from None
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
        show_signatories=show_signatories,
        reminder_days=sorted(reminder_days, reverse=True),
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            sign_on.save()
    except IntegrityError:
        raise SignOnError(
            f"“{letter.title}” already has a sign-on; close or cancel it first.", field="revision"
        ) from None
    sign_on.coalitions.set(coalitions)
    sign_on.organizations.set(organizations)
    # A publication scheduled in the editor would go live around the sign-on: it is cancelled.
    unscheduled = letter.revisions.filter(approved_go_live_at__isnull=False).update(
        approved_go_live_at=None
    )
    transition(
        sign_on,
        sign_on,
        action="created",
        actor=actor,
        detail={
            "revision": revision.pk,
            "deadline": deadline.isoformat(),
            "coalitions": [c.pk for c in coalitions],
            "tiers": tiers,
            "organizations": [o.pk for o in organizations],
            "recipients": recipients,
            "reminder_days": sign_on.reminder_days,
            "scheduled_publication_cancelled": bool(unscheduled),
        },
    )
    return sign_on


def open_sign_on(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Open a draft sign-on and invite its audience; invitations are emailed after commit."""
    with holding(sign_on) as held:
        if held.sign_on.is_past_deadline():
            raise SignOnError("The deadline has passed; set a later one.", field="deadline")
        transition(
            held.sign_on,
            held.sign_on,
            action="opened",
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
    *, sign_on: SignOn, organizations: Iterable[Organization], actor: Actor
) -> list[Invitation]:
    """Invite more organizations (or people added since) to an open sign-on; nobody twice."""
    with holding(sign_on) as held:
        if held.sign_on.status != SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "Only an open sign-on takes invitations; this one is "
                f"{held.sign_on.get_status_display().lower()}."
            )
        return invite_people(held.sign_on, list(organizations), actor=actor)


def invite_people(
    sign_on: SignOn, organizations: list[Organization], *, actor: Actor
) -> list[Invitation]:
    """Give each chosen person of these organizations a link and email it; the caller holds the lock."""
    already = set(sign_on.invitations.values_list("contact_id", flat=True))
    addresses = {e.casefold() for e in sign_on.invitations.values_list("email", flat=True)}
    people = people_to_invite(organizations, recipients=sign_on.recipients)
    new = []
    for organization in organizations:
        for contact in people.get(organization.pk, []):
            if contact.pk in already or contact.email.casefold() in addresses:
                continue
            addresses.add(contact.email.casefold())
            new.append(
                Invitation(
                    sign_on=sign_on,
                    organization=organization,
                    contact=contact,
                    name=contact.name,
                    email=contact.email,
                )
            )
    return transition_each(
        sign_on,
        new,
        action="invited",
        actor=actor,
        fields=new_link_fields,
        notify=lambda invitation: [(tasks.send_invitation, (invitation.pk, "invitation"))],
    )


def new_link_fields(invitation: Invitation) -> dict[str, object]:
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
            action="closed",
            actor=actor,
            status=SignOn.Status.CLOSED,
            fields={"closed_at": now},
            detail={"early": now < held.sign_on.deadline, "deadline": sign_on.deadline.isoformat()},
        )
    return held.sign_on


def cancel_sign_on(*, sign_on: SignOn, actor: Actor, reason: str = "") -> SignOn:
    """Cancel a draft or open sign-on: nothing of it will be published."""
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise SignOnError("The reason is too long: at most 2000 characters.", field="reason")
    with holding(sign_on) as held:
        transition(
            held.sign_on,
            held.sign_on,
            action="cancelled",
            actor=actor,
            status=SignOn.Status.CANCELLED,
            fields={"closed_at": timezone.now()},
            detail={"reason": reason},
        )
    return held.sign_on


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
