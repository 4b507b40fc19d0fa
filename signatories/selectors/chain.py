"""The check of a sign-on's event chain: every break in its evidence."""

from collections.abc import Iterable
from typing import Any

from signatories import checkpoints
from signatories.models import Event, Signature, SignOn


def verify_event_chain(*, sign_on: SignOn) -> list[str]:
    """Every break in the sign-on's evidence; empty when it holds.

    Three checks: each event's keyed hash and its link to the one before (an edited, removed or
    reordered event, or a chain recomputed without the key); the head the sign-on keeps (events
    removed from the end); and each row against the state its latest event recorded (a signature,
    invitation or the sign-on itself changed outside the services).
    """
    problems: list[str] = []
    previous_hash = ""
    expected = 1
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    events = Event.objects.filter(sign_on=sign_on).order_by("sequence")
    for event in events:
        if event.sequence != expected:
            problems.append(f"event {expected} is missing (found event {event.sequence} next)")
        if event.previous_hash != previous_hash:
            problems.append(f"event {event.sequence} does not follow the event before it")
        if not event.hash_is_valid():
            problems.append(f"event {event.sequence} ({event.action}) was altered")
        for kind, state in (event.state or {}).items():
            pk = {
                "sign_on": event.sign_on_id,
                "invitation": event.invitation_id,
                "signature": event.signature_id,
            }.get(kind)
            if pk is not None:
                latest[(kind, pk)] = state
        previous_hash = event.hash
        expected = event.sequence + 1
    head = SignOn.objects.get(pk=sign_on.pk)
    if expected - 1 != head.event_count or previous_hash != head.last_event_hash:
        problems.append(
            f"the chain ends at event {expected - 1}, but the sign-on recorded "
            f"{head.event_count} events"
        )
    if expected == 1:
        problems.append("the sign-on has no events at all")
    elif latest:
        # Chains begun before events recorded state hold no state to compare rows with.
        problems += _rows_against_events(head, latest)
    return problems


def _rows_against_events(
    sign_on: SignOn, latest: dict[tuple[str, int], dict[str, Any]]
) -> list[str]:
    problems = []
    rows: list[tuple[str, Any]] = [("sign_on", sign_on)]
    rows += [("invitation", i) for i in sign_on.invitations.all()]
    rows += [("signature", s) for s in Signature.objects.filter(sign_on=sign_on)]
    for kind, row in rows:
        recorded = latest.get((kind, row.pk))
        described = {
            "sign_on": "the sign-on",
            "invitation": f"the invitation of {getattr(row, 'email', '')}",
            "signature": f"the signature “{getattr(row, 'display_name', '')}”",
        }[kind]
        if recorded is None:
            problems.append(f"{described} has no event that made it")
            continue
        current = row.chain_state()
        changed = sorted(name for name in recorded if recorded[name] != current.get(name))
        if changed:
            problems.append(
                f"{described} was changed outside the sign-on ({', '.join(changed)} differ "
                "from what the last event recorded)"
            )
    return problems


def chain_head(sign_on: SignOn) -> tuple[str, int]:
    head = SignOn.objects.filter(pk=sign_on.pk).values_list("last_event_hash", "event_count").get()
    return head[0], head[1]


def sign_ons_with_broken_chains(
    sign_ons: Iterable[SignOn] | None = None,
) -> dict[SignOn, list[str]]:
    """Sign-ons whose evidence no longer holds, with what is wrong: for the scheduled check."""
    found = {}
    kept, _unreadable = checkpoints.latest()
    for sign_on in sign_ons if sign_ons is not None else SignOn.objects.all():
        problems = verify_event_chain(sign_on=sign_on)
        if sign_on.pk in kept:
            problems += _against_checkpoint(sign_on, kept[sign_on.pk])
        if problems:
            found[sign_on] = problems
    return found


def _against_checkpoint(sign_on: SignOn, kept: checkpoints.Checkpoint) -> list[str]:
    """The record against the latest head kept of it outside the database."""
    at_sequence = (
        Event.objects.filter(sign_on=sign_on, sequence=kept.sequence)
        .values_list("hash", flat=True)
        .first()
    )
    count = Event.objects.filter(sign_on=sign_on).count()
    problem = checkpoints.disagreement(kept, count, at_sequence)
    return [problem] if problem else []


def checkpoint_log_problems() -> list[str]:
    """Lines of the checkpoint log that are not this site's."""
    return checkpoints.latest()[1]


def latest_events(sign_on: SignOn, *, count: int = 50) -> list[Event]:
    """The sign-on's latest events, the newest first, each with its organization."""
    return list(sign_on.events.select_related("organization").order_by("-sequence")[:count])


def events_up_to(head: str) -> list[Event]:
    """The events of the sign-on whose chain reached `head`, from its first up to that one."""
    last = Event.objects.filter(hash=head).only("sign_on_id", "sequence").first()
    if last is None:
        return []
    return list(
        Event.objects.filter(sign_on_id=last.sign_on_id, sequence__lte=last.sequence).order_by(
            "sequence"
        )
    )


def keyed_record_problems(chain: list[dict[str, Any]]) -> list[str]:
    """A record as a PDF carries it against this site's: each event is one of the site's, with
    the same hash, and that hash is the keyed digest of the event as the database holds it."""
    if not chain:
        return ["The record has no events."]
    kept = events_up_to(str(chain[-1].get("hash", "")))
    if not kept:
        return ["The record's head is not the head of any sign-on's record on this site."]
    problems = []
    if len(kept) != len(chain):
        problems.append(
            f"The site's record has {len(kept)} events up to this head, not {len(chain)}."
        )
    for carried, event in zip(chain, kept, strict=False):
        if carried.get("hash") != event.hash or carried.get("sequence") != event.sequence:
            problems.append(f"Event {event.sequence} is not the site's event {event.sequence}.")
        elif not event.hash_is_valid():
            problems.append(f"Event {event.sequence} on the site no longer matches its keyed hash.")
    return problems
