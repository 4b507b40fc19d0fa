"""The one path every change of a sign-on, an invitation or a signature takes.

A service decides what should change; `transition` makes the change the same way every time:
under the sign-on's row lock, checked against the status table of the model, saved, recorded in
the keyed event chain with the state it produced, and with its emails queued with it. Shaped
like Wagtail's actions layer and pretix's order services, so that the admin, the signer's pages,
the jobs and the commands all behave alike.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypedDict, overload

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, models, router, transaction
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from wagtail.models import Revision

from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Action, Invitation, Signature, SignOn

from .events import Actor, EventSpec, append_events
from .holds import keep_hold

Subject = SignOn | Invitation | Signature


# What a transition may set on each kind of row beside its status: every field a service
# changes, typed, and checked again when the change is applied.
class SignOnFields(TypedDict, total=False):
    opened_at: datetime.datetime
    closed_at: datetime.datetime
    deadline: datetime.datetime
    accepts_requests: bool
    auto_approve_individuals: bool
    open_link_token_hash: str
    revision: Revision
    previous_revision_id: int | None
    text_hash: str
    goal_reached_at: datetime.datetime


class InvitationFields(TypedDict, total=False):
    token_nonce: str
    token_hash: str
    sent_at: datetime.datetime
    opened_at: datetime.datetime
    responded_at: datetime.datetime
    reminders_sent: int


class SignatureFields(TypedDict, total=False):
    token_nonce: str
    token_hash: str
    confirmed_at: datetime.datetime
    approved_at: datetime.datetime
    reviewed_at: datetime.datetime
    reviewed_by: User | None
    withdrawn_at: datetime.datetime
    reason: str
    display_name: str
    sort_key: str
    logo_id: int | None
    text_hash: str
    status_before_reconfirmation: str


Fields = SignOnFields | InvitationFields | SignatureFields
FIELDS_OF: dict[type[Subject], type[Fields]] = {
    SignOn: SignOnFields,
    Invitation: InvitationFields,
    Signature: SignatureFields,
}
# A job and its JSON arguments, enqueued once the change is committed.
Notification = tuple[Task[Any, Any], tuple[Any, ...]]


@dataclass
class Held:
    """The rows a change works on, locked until the end of the transaction."""

    sign_on: SignOn
    invitation: Invitation | None = None
    signature: Signature | None = None

    @property
    def locked_invitation(self) -> Invitation:
        """The invitation `hold` was given, locked."""
        if self.invitation is None:
            raise RuntimeError("hold() was given no invitation to lock.")
        return self.invitation

    @property
    def locked_signature(self) -> Signature:
        """The signature `hold` was given, locked."""
        if self.signature is None:
            raise RuntimeError("hold() was given no signature to lock.")
        return self.signature


def sign_on_of(signature: Signature) -> SignOn:
    """The sign-on a signature answers; a signature imported with a finished letter has none."""
    if signature.sign_on is None:
        raise SignOnError("This signature came with an imported letter; it has no sign-on.")
    return signature.sign_on


def hold(
    sign_on: SignOn,
    *,
    invitation: Invitation | None = None,
    signature: Signature | None = None,
) -> Held:
    """Lock the sign-on, then the invitation, then the signature: always in this order."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hold() locks rows until the end of a transaction: open one first.")
    held = Held(sign_on=SignOn.objects.select_for_update(of=("self",)).get(pk=sign_on.pk))
    if invitation is not None:
        locked = Invitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
        held.invitation = with_rows_read(locked, invitation, ("organization", "contact"))
    if signature is not None:
        if signature.sign_on_id != sign_on.pk:
            raise SignOnError("This signature came with an imported letter; it has no sign-on.")
        held.signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("organization", "invitation")
            .get(pk=signature.pk)
        )
    return held


def with_rows_read[Row: models.Model](locked: Row, read: Row, names: Iterable[str]) -> Row:
    """The locked row, given the related rows the caller read with it where it still points to
    them: those are not locked either way, and reading them again under the lock would only
    make every answer wait longer. One that changed meanwhile (a merge) is read when used."""
    for name in names:
        relation = locked._meta.get_field(name)
        assert isinstance(relation, models.ForeignKey)
        if relation.is_cached(read) and getattr(locked, relation.attname) == getattr(
            read, relation.attname
        ):
            relation.set_cached_value(locked, relation.get_cached_value(read))
    return locked


@contextmanager
def holding(
    sign_on: SignOn,
    *,
    invitation: Invitation | None = None,
    signature: Signature | None = None,
) -> Iterator[Held]:
    """A transaction holding the locks of `hold`."""
    with transaction.atomic():
        yield hold(sign_on, invitation=invitation, signature=signature)


def _kind(subject: Subject) -> str:
    return {SignOn: "sign_on", Invitation: "invitation", Signature: "signature"}[type(subject)]


def check_status(subject: SignOn | Signature, target: str) -> None:
    """Refuse a move the subject's transition table does not allow, in words for the one acting."""
    if subject.can_transition(subject.status, target):
        return
    kind = "sign-on" if isinstance(subject, SignOn) else "signature"
    current = subject.get_status_display().lower()
    wanted = type(subject).Status(target).label.lower()
    raise TransitionNotAllowed(f"A {kind} that is {current} cannot become {wanted}.")


def check_fields(subject: Subject, fields: Fields) -> None:
    """Refuse a field the row's typed fields do not name (a caller that bypassed the types)."""
    unknown = sorted(set(fields) - set(FIELDS_OF[type(subject)].__annotations__))
    if unknown:
        kind = type(subject).__name__
        raise TypeError(f"A transition does not set {', '.join(unknown)} on a {kind}.")


@dataclass
class Change:
    """One row's part in a transition: the status it moves to and the fields set with it."""

    subject: Subject
    status: str | None = None
    fields: Fields = field(default_factory=SignOnFields)
    # False where the caller read, under the lock, what the row's constraints would refuse.
    savepoint: bool = True

    def apply(self) -> None:
        check_fields(self.subject, self.fields)
        if self.status is not None:
            if isinstance(self.subject, Invitation):
                raise TypeError("An invitation has no status to move; change its fields.")
            check_status(self.subject, self.status)
            self.subject.status = self.status
        for name, value in self.fields.items():
            setattr(self.subject, name, value)

    def save(self) -> None:
        if self.subject.pk is None:
            if not self.savepoint or not may_meet_a_response_first(self.subject):
                # Two statements fewer under the lock every signer of the open link waits for.
                self.subject.save()
                return
            # A savepoint: a constraint that refuses the row leaves the transaction usable, so
            # the caller can say which response was there first.
            with transaction.atomic():
                self.subject.save()
            return
        names = [*self.fields, *(["status"] if self.status is not None else [])]
        if names:
            self.subject.save(update_fields=_columns(self.subject, names))


def may_meet_a_response_first(row: Subject) -> bool:
    """Whether inserting the row may meet the constraint of one confirmed response per
    organization or mailbox: a signature nobody confirmed yet is held by none."""
    return not (isinstance(row, Signature) and row.status == Signature.Status.UNCONFIRMED)


def _columns(subject: models.Model, names: Iterable[str]) -> list[str]:
    """update_fields takes field names: `logo_id` is saved as `logo`."""
    fields = {f.attname: f.name for f in subject._meta.concrete_fields}
    return sorted({fields.get(name, name) for name in names})


@overload
def transition(
    sign_on: SignOn,
    subject: SignOn,
    *,
    action: Action,
    actor: Actor,
    status: str | None = None,
    fields: SignOnFields | None = None,
    also: Sequence[Change] = (),
    detail: Mapping[str, Any] | None = None,
    notify: Iterable[Notification] = (),
    text_hash: str | None = None,
    constraints_checked: bool = False,
) -> SignOn: ...


@overload
def transition(
    sign_on: SignOn,
    subject: Invitation,
    *,
    action: Action,
    actor: Actor,
    status: None = None,
    fields: InvitationFields | None = None,
    also: Sequence[Change] = (),
    detail: Mapping[str, Any] | None = None,
    notify: Iterable[Notification] = (),
    text_hash: str | None = None,
    constraints_checked: bool = False,
) -> Invitation: ...


@overload
def transition(
    sign_on: SignOn,
    subject: Signature,
    *,
    action: Action,
    actor: Actor,
    status: str | None = None,
    fields: SignatureFields | None = None,
    also: Sequence[Change] = (),
    detail: Mapping[str, Any] | None = None,
    notify: Iterable[Notification] = (),
    text_hash: str | None = None,
    constraints_checked: bool = False,
) -> Signature: ...


def transition(
    sign_on: SignOn,
    subject: Subject,
    *,
    action: Action,
    actor: Actor,
    status: str | None = None,
    fields: Fields | None = None,
    also: Sequence[Change] = (),
    detail: Mapping[str, Any] | None = None,
    notify: Iterable[Notification] = (),
    text_hash: str | None = None,
    constraints_checked: bool = False,
) -> Subject:
    """Move `subject` (and the rows in `also`) as asked, record the event, queue the emails.

    The caller holds `sign_on`'s lock (see `hold`); a new subject (no pk yet) is inserted, in a
    savepoint unless the caller read under the lock what its constraints would refuse
    (`constraints_checked`): two statements fewer while every other signer waits.
    """
    changes = [
        Change(
            subject,
            status,
            fields or FIELDS_OF[type(subject)](),
            savepoint=not constraints_checked,
        ),
        *also,
    ]
    for change in changes:
        change.apply()
    for change in changes:
        change.save()
    record(
        sign_on,
        action=action,
        actor=actor,
        rows=[change.subject for change in changes],
        detail=detail,
        text_hash=text_hash,
    )
    if any(isinstance(change.subject, SignOn) and change.status for change in changes):
        # The letter's hold says the sign-on's status (letters.publishing reads it).
        keep_hold(sign_on.letter)
    queue(notify)
    if _may_reach_goal(sign_on, changes):
        # Imported here: the goal's job closes and publishes through the services built on this.
        from .goals import reach_goal

        queue([(reach_goal, (sign_on.pk,))])
    return subject


def _may_reach_goal(sign_on: SignOn, changes: Sequence["Change"]) -> bool:
    """A signature approved in a sign-on whose goal is not reached yet (read from the locked
    row: no query)."""
    if not sign_on.has_goal or sign_on.goal_reached_at is not None:
        return False
    return any(
        isinstance(change.subject, Signature) and change.subject.status == Signature.Status.APPROVED
        for change in changes
    )


def record(
    sign_on: SignOn,
    *,
    action: Action,
    actor: Actor,
    rows: Sequence[Subject] = (),
    detail: Mapping[str, Any] | None = None,
    text_hash: str | None = None,
) -> None:
    """Append one event for a change already saved, with the state of the rows it touched."""
    invitation = next((r for r in rows if isinstance(r, Invitation)), None)
    signature = next((r for r in rows if isinstance(r, Signature)), None)
    if invitation is None and signature is not None:
        invitation = signature.invitation
    append_events(
        sign_on=sign_on,
        actor=actor,
        specs=[
            EventSpec(
                action=action,
                invitation=invitation,
                signature=signature,
                detail=dict(detail or {}),
                state={_kind(row): row.chain_state() for row in rows},
                text_hash=text_hash,
            )
        ],
    )


def transition_each(
    sign_on: SignOn,
    subjects: Sequence[Invitation],
    *,
    action: Action,
    actor: Actor,
    fields: Callable[[Invitation], InvitationFields],
    detail: Callable[[Invitation], Mapping[str, Any]] = lambda subject: {},
    notify: Callable[[Invitation], Iterable[Notification]] = lambda subject: (),
) -> list[Invitation]:
    """The same change to many invitations, one event each, written in a few queries.

    For opening a sign-on to a thousand people, or reminding them: a row and an event at a time
    would cost two writes per person inside the request.
    """
    planned = [(subject, fields(subject)) for subject in subjects]
    for subject, values in planned:
        check_fields(subject, values)
    new = [subject for subject in subjects if subject.pk is None]
    old = [subject for subject in subjects if subject.pk is not None]
    for subject, values in planned:
        for name, value in values.items():
            setattr(subject, name, value)
    names = sorted(
        {name for subject, values in planned if subject.pk is not None for name in values}
    )
    if new:
        Invitation.objects.bulk_create(new)
    if old and names:
        Invitation.objects.bulk_update(old, _columns(old[0], names))
    append_events(
        sign_on=sign_on,
        actor=actor,
        specs=[
            EventSpec(
                action=action,
                invitation=subject,
                detail=dict(detail(subject)),
                state={"invitation": subject.chain_state()},
            )
            for subject in subjects
        ],
    )
    for subject in subjects:
        queue(notify(subject))
    return list(subjects)


def queue(notifications: Iterable[Notification]) -> None:
    """Enqueue each job with the change, never for a change that rolled back.

    Where the queue is a table of this database (production's), the job is written in the
    change's own transaction: the worker sees it only if the change is kept, and the request
    spends no second commit on it while signers wait. Any other queue is handed the job once the
    transaction commits. A row among the arguments stands for its pk, read now: a row inserted
    by this change has one.
    """
    connection = transaction.get_connection()
    for job, args in notifications:
        values = [arg.pk if isinstance(arg, models.Model) else arg for arg in args]
        if connection.in_atomic_block and queued_in_database(job, connection.alias):
            job.enqueue(*values)
        else:
            transaction.on_commit(partial(job.enqueue, *values))


def queued_in_database(job: Task[Any, Any], alias: str) -> bool:
    """Whether the job's queue keeps its jobs as rows of the database behind `alias`."""
    return (
        isinstance(job.get_backend(), DatabaseBackend)
        and (router.db_for_write(DBTaskResult) or DEFAULT_DB_ALIAS) == alias
    )
