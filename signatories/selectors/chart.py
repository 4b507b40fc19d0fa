"""The tracker's chart: the responses over time, replayed from the events.

A sign-on of a hundred thousand signatures has as many events: the replay is kept in the cache
by the last event it read (and that event's hash), so that each view replays only the events
since, and the changes it keeps are merged in time once there are more than a chart can show.
The chart draws at most two points a pixel column for each line.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from signatories.models import Event, Signature, SignOn

from .tally import COLUMN_OF_STATE


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: dict[str, str]  # name → SVG polyline points
    totals: dict[str, int]
    maximum: int
    start: datetime.datetime
    end: datetime.datetime


CHART_SERIES = {"signed": "Signed", "pending": "Pending", "declined": "Declined"}
# The chart draws every hold as one line, whoever it waits for.
CHART_SERIES_OF_COLUMN = {"review": "pending", "signer": "pending"}
PAD = 30
# Changes kept for each line: beyond, those closer in time than the quantum are merged (the
# quantum doubling each time); several times the pixels a chart has.
KEPT_STEPS = 2048
KEPT_FOR_SECONDS = 7 * 24 * 3600


@dataclass
class Replay:
    """The events of a sign-on replayed up to one of them: each line's changes over time."""

    start: datetime.datetime
    sequence: int = 0  # the last event read
    head: str = ""  # its hash
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHART_SERIES, 0))
    maximum: int = 0  # the highest any line reached
    last_change: datetime.datetime | None = None
    # (seconds since the start, the line's value from then), the latest of each quantum.
    steps: dict[str, list[tuple[float, int]]] = field(
        default_factory=lambda: {name: [] for name in CHART_SERIES}
    )
    quantum: float = 0.0  # seconds

    def change(self, name: str, delta: int, moment: datetime.datetime) -> None:
        self.totals[name] += delta
        self.maximum = max(self.maximum, self.totals[name])
        self.last_change = max(self.last_change or moment, moment)
        steps = self.steps[name]
        seconds = (moment - self.start).total_seconds()
        if (
            steps
            and self.quantum
            and int(steps[-1][0] // self.quantum) == int(seconds // self.quantum)
        ):
            steps[-1] = (seconds, self.totals[name])
        else:
            steps.append((seconds, self.totals[name]))
        if len(steps) > KEPT_STEPS:
            self.quantum = max(self.quantum * 2, 1.0)
            self.steps = {name: _merged(kept, self.quantum) for name, kept in self.steps.items()}


def _merged(steps: list[tuple[float, int]], quantum: float) -> list[tuple[float, int]]:
    """The latest step of each quantum of time."""
    merged: list[tuple[float, int]] = []
    for seconds, value in steps:
        if merged and int(merged[-1][0] // quantum) == int(seconds // quantum):
            merged[-1] = (seconds, value)
        else:
            merged.append((seconds, value))
    return merged


def _recorded_column(status: str, response: str | None) -> str:
    """The line a signature is on, from the state its event recorded."""
    column = COLUMN_OF_STATE[_recorded_state({"status": status, "response": response})]
    return CHART_SERIES_OF_COLUMN.get(column, column)


# Each event of a signature with the state it recorded: (sequence, hash, signature, status,
# response, moment); an event that recorded none has no status.
EventRow = tuple[int, str, int | None, str | None, str | None, datetime.datetime]


def _events(sign_on: SignOn) -> QuerySet[Event]:
    return Event.objects.filter(sign_on=sign_on).order_by("sequence")


def _values(events: QuerySet[Event]) -> QuerySet[Any, EventRow]:
    """Each event with the state it recorded of its signature, if any."""
    return events.annotate(
        recorded_status=KT("state__signature__status"),
        recorded_response=KT("state__signature__response"),
    ).values_list(
        "sequence", "hash", "signature_id", "recorded_status", "recorded_response", "created_at"
    )


def _rows(events: QuerySet[Event]) -> list[EventRow]:
    return list(_values(events))


def _lines_of(rows: list[EventRow]) -> dict[int, str]:
    """The line each signature of these events (in order) was left on."""
    found: dict[int, str] = {}
    for _sequence, _hash, signature_id, status, response, _moment in rows:
        if signature_id is not None and status:
            found[signature_id] = _recorded_column(status, response)
    return found


def _replay(replay: Replay, rows: list[EventRow], lines: dict[int, str]) -> None:
    """Replay these events (in order) onto `replay`; `lines` holds each signature's line before
    them, and is moved on."""
    for sequence, hash_, signature_id, status, response, moment in rows:
        replay.sequence, replay.head = sequence, hash_
        if signature_id is None or not status:
            continue
        column = _recorded_column(status, response)
        before = lines.get(signature_id)
        if before == column:
            continue
        for name, delta in ((before, -1), (column, +1)):
            if name in replay.totals:
                replay.change(name, delta, moment)
        lines[signature_id] = column


def replayed(sign_on: SignOn) -> Replay:
    """The sign-on's events replayed to its last: from the kept replay where it still holds
    (the event it stopped at has the hash it read), else from the first."""
    start = sign_on.opened_at or sign_on.created_at
    key = f"response-chart:{sign_on.pk}"
    kept = cache.get(key)
    if isinstance(kept, Replay) and kept.start == start and kept.sequence <= sign_on.event_count:
        if (kept.sequence, kept.head) == (sign_on.event_count, sign_on.last_event_hash):
            return kept
        # The events since the kept replay, from the one it stopped at, with the earlier events
        # of the signatures they change: where each was before.
        events = _events(sign_on).order_by()
        changed = Event.objects.filter(sign_on=sign_on, sequence__gt=kept.sequence).values(
            "signature_id"
        )
        rows = list(
            _values(events.filter(sequence__gte=kept.sequence))
            .union(_values(events.filter(sequence__lt=kept.sequence, signature_id__in=changed)))
            .order_by("sequence")
        )
        earlier = [row for row in rows if row[0] <= kept.sequence]
        newer = [row for row in rows if row[0] > kept.sequence]
        if kept.sequence == 0 or (earlier and earlier[-1][:2] == (kept.sequence, kept.head)):
            lines = _lines_of(earlier)
            _replay(kept, newer, lines)
            cache.set(key, kept, timeout=KEPT_FOR_SECONDS)
            return kept
    replay = Replay(start=start)
    _replay(replay, _rows(_events(sign_on)), {})
    cache.set(key, replay, timeout=KEPT_FOR_SECONDS)
    return replay


def response_chart(sign_on: SignOn, *, width: int = 640, height: int = 200) -> Chart:
    """Signatures that print, those pending and declines over time, replayed from the events.

    Each event records the state it left its signature in, so the chart ends where the tally
    stands: the same counts, from the same facts.
    """
    replay = replayed(sign_on)
    start = replay.start
    end = min(max(timezone.now(), start + datetime.timedelta(hours=1)), sign_on.deadline)
    if sign_on.closed_at:
        end = sign_on.closed_at
    if replay.last_change is not None:
        end = max(end, replay.last_change)
    span = max((end - start).total_seconds(), 1.0)
    maximum = max(1, replay.maximum)
    columns = max(1, width - 2 * PAD)

    def polyline(name: str) -> str:
        # The value each pixel column ends on, drawn as steps where it changes.
        steps: list[tuple[float, int]] = [(0.0, 0)]
        column, value = 0, 0
        for seconds, reached in replay.steps[name]:
            at = min(columns, int(max(0.0, seconds / span) * columns))
            if at != column and value != steps[-1][1]:
                x = column / columns
                steps += [(x, steps[-1][1]), (x, value)]
            column, value = at, reached
        if value != steps[-1][1]:
            x = column / columns
            steps += [(x, steps[-1][1]), (x, value)]
        steps.append((1.0, steps[-1][1]))
        return " ".join(
            f"{PAD + x * (width - 2 * PAD):.1f},{height - PAD - v * (height - 2 * PAD) / maximum:.1f}"
            for x, v in steps
        )

    return Chart(
        width=width,
        height=height,
        series={name: polyline(name) for name in CHART_SERIES},
        totals=dict(replay.totals),
        maximum=maximum,
        start=start,
        end=end,
    )


def _recorded_state(recorded: dict[str, Any]) -> str:
    status, response = recorded.get("status"), recorded.get("response")
    if status in ("withdrawn", "rejected"):
        return str(status)
    if response == Signature.Response.DECLINED:
        return "declined"
    if status == Signature.Status.APPROVED:
        return "signed"
    return str(status)
