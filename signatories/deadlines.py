"""Deadlines in the words a signer reads: “closes in 3 days, on 14 March at 17:00 ET”."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format

# US zones print as ET, CT… the way their readers say them, whether or not daylight saving applies.
ZONE_ABBREVIATIONS = {
    "America/New_York": "ET",
    "America/Chicago": "CT",
    "America/Denver": "MT",
    "America/Los_Angeles": "PT",
}


def zone_abbreviation(moment: datetime.datetime) -> str:
    key = getattr(moment.tzinfo, "key", "")
    return ZONE_ABBREVIATIONS.get(key) or moment.tzname() or ""


def format_moment(moment: datetime.datetime, *, now: datetime.datetime | None = None) -> str:
    """“14 March at 17:00 ET”, with the year when it is not this year."""
    local = timezone.localtime(moment)
    current = timezone.localtime(now or timezone.now())
    day = date_format(local, "j F" if local.year == current.year else "j F Y")
    return f"{day} at {local:%H:%M} {zone_abbreviation(local)}".strip()


def _span(delta: datetime.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        days, rest = divmod(seconds, 86400)
        return f"{days + (rest >= 43200)} days"
    if seconds >= 86400:
        return "1 day"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    if seconds >= 3600:
        return "1 hour"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def describe_deadline(deadline: datetime.datetime, *, now: datetime.datetime | None = None) -> str:
    """“closes in 3 days, on 14 March at 17:00 ET”, or “closed on …” once it has passed."""
    now = now or timezone.now()
    when = format_moment(deadline, now=now)
    if deadline <= now:
        return f"closed on {when}"
    return f"closes in {_span(deadline - now)}, on {when}"
