"""Where other apps plug into the member CRM without `coalition` knowing their models.

Dependencies point one way (signatories → letters → coalition), yet a merge must move another
app's rows and an organization's page shows its history there. Each app registers what it
contributes from its `AppConfig.ready()`: a merge participant that moves its own rows (and
keeps its own records true while doing so), and a timeline source that describes its own facts.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Model

from coalition.crm.models import Organization


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an organization's timeline."""

    when: datetime.datetime
    kind: str  # interaction, invitation, signature, decline, withdrawal, history, …
    label: str
    summary: str
    detail: str = ""


# (survivor, duplicate, user) → {"invitations": 3, …}: what it moved, by plural name.
MergeMove = Callable[[Organization, Organization, User | None], dict[str, int]]
# (the organization and the records merged into it, limit) → entries, any order.
TimelineSource = Callable[[list[Organization], int], Iterable[TimelineEntry]]


@dataclass(frozen=True)
class MergeParticipant:
    """Models whose rows an app moves itself in a merge, and the function that moves them."""

    models: tuple[type[Model], ...]
    move: MergeMove


_merge_participants: list[MergeParticipant] = []
_timeline_sources: list[TimelineSource] = []


def register_merge_participant(models: tuple[type[Model], ...], move: MergeMove) -> None:
    """Let `move` handle these models' rows in every merge; the generic merge leaves them alone.

    `move(survivor, duplicate, user)` runs inside the merge's transaction, after both
    organizations are locked; it may raise `coalition.crm.errors.MergeError` to refuse the merge.
    """
    participant = MergeParticipant(models=tuple(models), move=move)
    # ready() may run more than once (test runners, reloaders): register each participant once.
    if participant not in _merge_participants:
        _merge_participants.append(participant)


def merge_participants() -> tuple[MergeParticipant, ...]:
    """Every registered merge participant, in the order they registered."""
    return tuple(_merge_participants)


def register_timeline_source(source: TimelineSource) -> None:
    """Add `source`'s entries to every organization's timeline."""
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def timeline_sources() -> tuple[TimelineSource, ...]:
    """Every registered timeline source, in the order they registered."""
    return tuple(_timeline_sources)
