"""The check of a sign-on's event chain, kept for the tracker where the chain is long.

The tracker checks the chain each time it opens, so that a rewrite shows before anyone acts on
it. A chain of a few thousand events is checked in the request; a longer one (a sign-on of a
hundred thousand signatures has as many events, and checking them takes longer than a request may)
is checked by the worker. Under a busy sign-on the head moves every second, so the tracker shows
the latest check the worker finished ("the record held for its first N events"), as long as
those events are still the ones it checked, and has the events since checked: by one job at a
time, however many views ask. Publication checks the chain itself whatever the tracker shows.
"""

import datetime
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from signatories import selectors
from signatories.models import Event, SignOn

from .core import queue

# Events checked in the tracker's own request; beyond, the worker checks.
CHECKED_IN_REQUEST = 5_000
KEPT_FOR_SECONDS = 7 * 24 * 3600
# A check queued and not finished in this time is taken for lost: the next view queues another.
PENDING_FOR_SECONDS = 15 * 60


@dataclass(frozen=True)
class ChainCheck:
    """A check of a sign-on's chain up to one head: its first `events` events."""

    events: int
    head: str
    problems: list[str]
    checked_at: datetime.datetime


@dataclass(frozen=True)
class TrackerCheck:
    """What the tracker says of the chain: the latest check that holds for the events it
    checked (None before the first is done), and how many events came since."""

    latest: ChainCheck | None
    since: int
    problems: list[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "problems", list(self.latest.problems) if self.latest else [])


def _latest_key(sign_on_id: int) -> str:
    return f"event-chain-check:{sign_on_id}:latest"


def _pending_key(sign_on_id: int) -> str:
    return f"event-chain-check:{sign_on_id}:pending"


def chain_check_for_tracker(sign_on: SignOn) -> TrackerCheck:
    """The chain checked now where it is short; where long, the worker's latest check, and one
    queued for the head if none is (at most one at a time)."""
    if sign_on.event_count <= CHECKED_IN_REQUEST:
        checked = ChainCheck(
            events=sign_on.event_count,
            head=sign_on.last_event_hash,
            problems=selectors.verify_event_chain(sign_on=sign_on),
            checked_at=timezone.now(),
        )
        return TrackerCheck(latest=checked, since=0)
    latest = _latest_that_holds(sign_on)
    stale = latest is None or latest.head != sign_on.last_event_hash
    # add() keeps the first: of several views before the check runs, one queues it.
    if stale and cache.add(_pending_key(sign_on.pk), sign_on.event_count, PENDING_FOR_SECONDS):
        queue([(check_event_chain, (sign_on.pk,))])
    return TrackerCheck(latest=latest, since=sign_on.event_count - (latest.events if latest else 0))


def _latest_that_holds(sign_on: SignOn) -> ChainCheck | None:
    """The latest check kept, if the events it checked are still those: its head is still the
    hash of the event it ended at."""
    latest = cache.get(_latest_key(sign_on.pk))
    if not isinstance(latest, ChainCheck) or latest.events > sign_on.event_count:
        return None
    if latest.events == sign_on.event_count:
        return latest if latest.head == sign_on.last_event_hash else None
    at = (
        Event.objects.filter(sign_on=sign_on, sequence=latest.events)
        .values_list("hash", flat=True)
        .first()
    )
    return latest if at == latest.head else None


@task(backend="background")
def check_event_chain(sign_on_id: int) -> int:
    """Check a sign-on's chain up to its head and keep the result for the tracker; how many
    problems were found."""
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                # One snapshot for the whole check: events appended while it reads are neither
                # half seen nor taken for a head that does not match.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            sign_on = SignOn.objects.filter(pk=sign_on_id).first()
            if sign_on is None:
                return 0
            problems = selectors.verify_event_chain(sign_on=sign_on)
            checked = ChainCheck(
                events=sign_on.event_count,
                head=sign_on.last_event_hash,
                problems=problems,
                checked_at=timezone.now(),
            )
        cache.set(_latest_key(sign_on_id), checked, timeout=KEPT_FOR_SECONDS)
        return len(problems)
    finally:
        cache.delete(_pending_key(sign_on_id))
