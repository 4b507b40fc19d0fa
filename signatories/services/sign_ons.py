"""Opening, inviting to, closing and cancelling a sign-on."""

import datetime
import hashlib
import json
import secrets
from collections.abc import Iterable
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from wagtail.models import Revision

from coalition.models import Coalition, Contact, Membership, Organization
from letters.models import CirculationApproval, LetterPage
from signatories import tasks
from signatories.models import (
    Invitation,
    SignOn,
    default_reminder_days,
    token_digest,
    validate_reminder_days,
)

from .errors import SignOnError, TransitionNotAllowed
from .events import Actor, record_event


def revision_text_hash(revision: Revision) -> str:
    """SHA-256 of a revision's stored content: what the signers agree to."""
    # Read back as stored: a revision just returned by save_revision() holds Python values
    # (dates, rich text) that serialise differently from the JSON the database keeps.
    content = Revision.objects.filter(pk=revision.pk).values_list("content", flat=True).get()
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def audience_organizations(
    *,
    coalitions: Iterable[Coalition] = (),
    tiers: Iterable[str] = (),
    organizations: Iterable[Organization] = (),
) -> QuerySet[Organization]:
    """The active organizations in the chosen coalitions and tiers, plus those hand-picked."""
    coalitions, tiers = list(coalitions), list(tiers)
    wanted = Q(pk__in=[org.pk for org in organizations])
    if coalitions:
        members = Membership.objects.filter(coalition__in=coalitions, left_on__isnull=True)
        if tiers:
            members = members.filter(tier__in=tiers)
        wanted |= Q(pk__in=members.values("organization_id"))
    return Organization.objects.filter(wanted, status=Organization.Status.ACTIVE).order_by(
        "sort_name", "pk"
    )


def lock_sign_on(sign_on: SignOn) -> SignOn:
    """The sign-on's row, locked until the end of the transaction: every change takes it first."""
    return SignOn.objects.select_for_update(of=("self",)).get(pk=sign_on.pk)


def _change_status(sign_on: SignOn, target: str) -> None:
    if not SignOn.can_transition(sign_on.status, target):
        raise TransitionNotAllowed(
            f"A sign-on that is {sign_on.get_status_display().lower()} cannot become "
            f"{SignOn.Status(target).label.lower()}."
        )
    sign_on.status = target


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
    record_event(
        sign_on=sign_on,
        action="created",
        actor=actor,
        detail={
            "revision": revision.pk,
            "deadline": deadline.isoformat(),
            "coalitions": [c.pk for c in coalitions],
            "tiers": tiers,
            "organizations": [o.pk for o in organizations],
            "reminder_days": sign_on.reminder_days,
        },
    )
    return sign_on


@transaction.atomic
def open_sign_on(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Open a draft sign-on and invite its audience; invitations are emailed after commit."""
    sign_on = lock_sign_on(sign_on)
    _change_status(sign_on, SignOn.Status.OPEN)
    if sign_on.is_past_deadline():
        raise SignOnError("The deadline has passed; set a later one.", field="deadline")
    sign_on.opened_at = timezone.now()
    sign_on.save(update_fields=["status", "opened_at"])
    record_event(sign_on=sign_on, action="opened", actor=actor)
    audience = audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )
    _invite(sign_on, list(audience), actor)
    transaction.on_commit(partial(tasks.schedule_deadline_close, sign_on.pk, sign_on.deadline))
    transaction.on_commit(partial(tasks.schedule_reminders, sign_on.pk, sign_on.reminder_moments()))
    return sign_on


@transaction.atomic
def invite_organizations(
    *, sign_on: SignOn, organizations: Iterable[Organization], actor: Actor
) -> list[Invitation]:
    """Invite more organizations to an open sign-on; those already invited are left alone."""
    sign_on = lock_sign_on(sign_on)
    if sign_on.status != SignOn.Status.OPEN:
        raise TransitionNotAllowed(
            f"Only an open sign-on takes invitations; this one is {sign_on.get_status_display().lower()}."
        )
    return _invite(sign_on, list(organizations), actor)


def _invite(sign_on: SignOn, organizations: list[Organization], actor: Actor) -> list[Invitation]:
    already = set(sign_on.invitations.values_list("organization_id", flat=True))
    created = Invitation.objects.bulk_create(
        [
            Invitation(sign_on=sign_on, organization=org)
            for org in organizations
            if org.pk not in already
        ]
    )
    # bulk_create leaves pks unset on some backends; read them back in one query.
    invitations = list(
        sign_on.invitations.filter(organization__in=[i.organization_id for i in created])
    )
    for invitation in invitations:
        record_event(sign_on=sign_on, action="invited", actor=actor, invitation=invitation)
        transaction.on_commit(partial(tasks.send_invitation.enqueue, invitation.pk))
    return invitations


@transaction.atomic
def issue_invitation_token(*, invitation: Invitation, actor: Actor) -> tuple[str, list[str]]:
    """A new link token for an invitation and the contacts to email it to; replaces any earlier link."""
    sign_on = lock_sign_on(invitation.sign_on)
    invitation = Invitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
    if sign_on.status != SignOn.Status.OPEN:
        raise TransitionNotAllowed("The sign-on is not open: no invitation is sent.")
    recipients = list(
        Contact.objects.filter(organization_id=invitation.organization_id, email_opt_out=False)
        .order_by("-is_primary", "name")
        .values_list("email", flat=True)
    )
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_digest(token)
    # The first sending is when the organization was invited; later links are in the events.
    invitation.sent_at = invitation.sent_at or timezone.now()
    invitation.emailed_to = recipients
    invitation.save(update_fields=["token_hash", "sent_at", "emailed_to"])
    record_event(
        sign_on=sign_on,
        action="invitation_sent",
        actor=actor,
        invitation=invitation,
        detail={"recipients": recipients},
    )
    return token, recipients


def record_invitation_opened(*, invitation: Invitation, actor: Actor) -> None:
    """Note the first time an invitation's page was opened (by a person or a mail scanner)."""
    if invitation.opened_at is not None:
        return
    with transaction.atomic():
        sign_on = lock_sign_on(invitation.sign_on)
        locked = Invitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
        if locked.opened_at is not None:
            return
        locked.opened_at = invitation.opened_at = timezone.now()
        locked.save(update_fields=["opened_at"])
        record_event(sign_on=sign_on, action="invitation_opened", actor=actor, invitation=locked)


@transaction.atomic
def close_sign_on(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Close an open sign-on, at its deadline or early; responses are refused from now on."""
    sign_on = lock_sign_on(sign_on)
    _change_status(sign_on, SignOn.Status.CLOSED)
    now = timezone.now()
    sign_on.closed_at = now
    sign_on.save(update_fields=["status", "closed_at"])
    record_event(
        sign_on=sign_on,
        action="closed",
        actor=actor,
        detail={"early": now < sign_on.deadline, "deadline": sign_on.deadline.isoformat()},
    )
    return sign_on


@transaction.atomic
def cancel_sign_on(*, sign_on: SignOn, actor: Actor, reason: str = "") -> SignOn:
    """Cancel a draft or open sign-on: nothing of it will be published."""
    sign_on = lock_sign_on(sign_on)
    _change_status(sign_on, SignOn.Status.CANCELLED)
    sign_on.closed_at = timezone.now()
    sign_on.save(update_fields=["status", "closed_at"])
    record_event(sign_on=sign_on, action="cancelled", actor=actor, detail={"reason": reason})
    return sign_on


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
