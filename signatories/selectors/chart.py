"""The tracker's chart: the responses over time, replayed from the events."""

import datetime
from dataclasses import dataclass
from typing import Any

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


def response_chart(sign_on: SignOn, *, width: int = 640, height: int = 200) -> Chart:
    """Signatures that print, those pending and declines over time, replayed from the events.

    Each event records the state it left its signature in, so the chart ends where the tally
    stands: the same counts, from the same facts.
    """
    rows = (
        Event.objects.filter(sign_on=sign_on, signature__isnull=False)
        .order_by("sequence")
        .values_list("signature_id", "state", "created_at")
    )
    start = sign_on.opened_at or sign_on.created_at
    end = min(max(timezone.now(), start + datetime.timedelta(hours=1)), sign_on.deadline)
    if sign_on.closed_at:
        end = sign_on.closed_at
    column_of: dict[int, str] = {}
    totals = dict.fromkeys(CHART_SERIES, 0)
    points: dict[str, list[tuple[datetime.datetime, int]]] = {name: [] for name in CHART_SERIES}
    for signature_id, state, moment in rows:
        recorded = (state or {}).get("signature")
        if not recorded:
            continue
        column = COLUMN_OF_STATE[_recorded_state(recorded)]
        column = CHART_SERIES_OF_COLUMN.get(column, column)
        before = column_of.get(signature_id)
        if before == column:
            continue
        for name, delta in ((before, -1), (column, +1)):
            if name in totals:
                totals[name] += delta
                points[name].append((moment, totals[name]))
        column_of[signature_id] = column
        end = max(end, moment)
    span = max((end - start).total_seconds(), 1.0)
    maximum = max(1, *(value for series in points.values() for _, value in series), 0)
    pad = 30

    def polyline(name: str) -> str:
        steps: list[tuple[float, int]] = [(0.0, 0)]
        for moment, value in points[name]:
            x = max(0.0, (moment - start).total_seconds() / span)
            steps += [(x, steps[-1][1]), (x, value)]
        steps.append((1.0, steps[-1][1]))
        return " ".join(
            f"{pad + x * (width - 2 * pad):.1f},{height - pad - v * (height - 2 * pad) / maximum:.1f}"
            for x, v in steps
        )

    return Chart(
        width=width,
        height=height,
        series={name: polyline(name) for name in CHART_SERIES},
        totals=totals,
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
