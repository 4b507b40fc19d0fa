"""Each sign-on's record, anchored outside the database.

The event chain's head is kept in the database, which an attacker who can write to it can set
back: delete the last event, point the head at the one before, restore the row it changed, and
the chain still verifies. So the worker also appends the head, after each change, to a log the
database cannot reach (the file `EVENT_CHECKPOINTS` names: on another volume, or one that ships
its lines elsewhere), each line keyed with the chain's key. `manage.py verify_event_chains`
compares every sign-on with the latest line kept of it: a record that now ends before that
event, or holds another event there, is reported.
"""

import fcntl
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import chain


@dataclass(frozen=True)
class Checkpoint:
    sign_on: int
    sequence: int
    head: str


def log_path() -> Path | None:
    configured = getattr(settings, "EVENT_CHECKPOINTS", "")
    return Path(configured) if configured else None


def append(checkpoint: Checkpoint) -> bool:
    """Add a keyed line for this head to the log; nothing when no log is configured."""
    path = log_path()
    if path is None:
        return False
    payload = {
        "sign_on": checkpoint.sign_on,
        "sequence": checkpoint.sequence,
        "head": checkpoint.head,
        "at": timezone.now().isoformat(),
    }
    line = json.dumps({**payload, "mac": chain.digest(payload)}, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        # Several workers append to one file: one whole line at a time.
        fcntl.flock(log, fcntl.LOCK_EX)
        try:
            log.write(line)
        finally:
            fcntl.flock(log, fcntl.LOCK_UN)
    return True


def latest() -> tuple[dict[int, Checkpoint], list[str]]:
    """The furthest head kept of each sign-on, and the lines that are not ours (unreadable, or
    keyed with another key: the log itself was written to)."""
    path = log_path()
    found: dict[int, Checkpoint] = {}
    problems: list[str] = []
    if path is None or not path.exists():
        return found, problems
    with path.open(encoding="utf-8") as log:
        for number, line in enumerate(log, start=1):
            try:
                entry = json.loads(line)
                payload = {key: entry[key] for key in ("sign_on", "sequence", "head", "at")}
                mac = entry["mac"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"line {number} of the checkpoint log cannot be read")
                continue
            if not chain.matches(payload, mac):
                problems.append(f"line {number} of the checkpoint log was not written by this site")
                continue
            kept = Checkpoint(int(entry["sign_on"]), int(entry["sequence"]), str(entry["head"]))
            if kept.sign_on not in found or kept.sequence > found[kept.sign_on].sequence:
                found[kept.sign_on] = kept
    return found, problems


def disagreement(kept: Checkpoint, event_count: int, hash_at_sequence: str | None) -> str:
    """What is wrong with a record against the head kept outside the database, or ""."""
    if event_count < kept.sequence:
        return (
            f"the record ends at event {event_count}, but event {kept.sequence} was kept outside "
            "the database: events were removed"
        )
    if hash_at_sequence != kept.head:
        return (
            f"event {kept.sequence} is not the one kept outside the database: the record was "
            "rewritten"
        )
    return ""
