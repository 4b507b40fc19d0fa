"""Where other apps plug into the member CRM without `coalition` knowing their models.

Dependencies point one way (signatories → letters → coalition), yet a merge must move another
app's rows and an organization's page shows its history there. The project's settings name what
each app contributes (`CRM_MERGE_PARTICIPANTS`, `CRM_TIMELINE_SOURCES`: dotted paths): a merge
participant that moves its own rows (and keeps its own records true while doing so), and a
timeline source that describes its own facts. The project composes the apps; no app registers
itself at run time.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Model
from django.utils.module_loading import import_string

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


def merge_participants() -> tuple[MergeParticipant, ...]:
    """Every merge participant the settings name, in their order.

    Each handles its models' rows in every merge (the generic merge leaves them alone):
    `move(survivor, duplicate, user)` runs inside the merge's transaction, after both
    organizations are locked; it may raise `coalition.crm.errors.MergeError` to refuse the merge.
    """
    return tuple(import_string(path) for path in getattr(settings, "CRM_MERGE_PARTICIPANTS", ()))


def timeline_sources() -> tuple[TimelineSource, ...]:
    """Every timeline source the settings name, in their order: each adds its entries to every
    organization's timeline."""
    return tuple(import_string(path) for path in getattr(settings, "CRM_TIMELINE_SOURCES", ()))
