"""Staff review by exception: approve or reject every signature of the review queue that a
filter matches ("every individual waiting in this sign-on"), in the background.

Staff see the count and the filter first (`preview_bulk_review`), then start the run
(`start_bulk_review`), which answers at once: the job `run_bulk_review` works through the
signatures in batches, each batch its own transaction through the same `approve_signatures` and
`reject_signatures` as a click on one row (each signature held under the sign-on's lock, moved by
`transition`, one event each in the sign-on's chain, one email per signer queued after commit).

A run acts on the signatures that matched when staff confirmed, never on later ones: it stops at
the newest of them (`up_to`). Each batch reads its rows again, so a signature that a signer
withdrew or another member of staff settled meanwhile is skipped, not acted on twice.

The run's progress (how many done, how many skipped and why) is a BulkReview row, which the
queue page reads: only a display, since the record of what was done is the events.
"""

import datetime
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, QuerySet
from django.tasks import task
from django.utils import timezone

from signatories.errors import SignOnError
from signatories.inputs import NO_TEXT, StaffText
from signatories.models import BulkReview, Signature, SignOn
from signatories.selectors.review import ReviewFilter, filtered_review_queue

from .core import queue
from .events import Actor
from .review import approve_signatures, reject_signatures

# Signatures per transaction: each holds the sign-on's lock while it runs, so signers of the
# same sign-on wait at most one batch (a second or so), never the whole run.
BATCH = 100
# How long the queue page shows a run after it was last touched.
KEPT_FOR = datetime.timedelta(days=2)
KEPT_RUNS = 20

VERBS = {"approve": "Approve", "reject": "Reject"}
# Why a signature matching the filter is left alone, in words for staff.
SKIPPED_NEEDS_NOTE = (
    "not reconfirmed after the text changed: each needs a note of how its signer agreed, so "
    "approve them one by one"
)
SKIPPED_SETTLED = (
    "no longer waiting for staff when its turn came (withdrawn, or settled by someone)"
)


def _waiting_for_a_note(signatures: QuerySet[Signature]) -> QuerySet[Signature]:
    return signatures.filter(status=Signature.Status.NEEDS_RECONFIRMATION)


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk action on a filter would do: how many match, act and are skipped, and why."""

    verb: str
    chosen: ReviewFilter
    description: str
    matching: int
    skipped: dict[str, int]

    @property
    def acting_on(self) -> int:
        return self.matching - sum(self.skipped.values())


def preview_bulk_review(*, verb: str, chosen: ReviewFilter) -> BulkPreview:
    """What approving (or rejecting) every signature the filter matches would do; refused,
    naming the filter's fields, when it matches nothing or nothing it matches can be acted on."""
    if verb not in VERBS:
        raise SignOnError("Choose to approve or to reject.", field="verb")
    sign_on = _sign_on_of(chosen)
    description = chosen.describe(sign_on)
    signatures = filtered_review_queue(chosen)
    matching = signatures.count()
    if not matching:
        raise SignOnError(
            f"Nothing waits for review that matches the filter ({description}): change the "
            "sign-on, kind or reason.",
            field="kind",
        )
    skipped = {}
    if verb == "approve":
        needs_note = _waiting_for_a_note(signatures).count()
        if needs_note:
            skipped[SKIPPED_NEEDS_NOTE] = needs_note
        if needs_note == matching:
            raise SignOnError(
                f"Every signature matching the filter ({description}) was not reconfirmed after "
                "the text changed: each needs a note of how its signer agreed. Approve them one "
                "by one, or choose the reason “Not reconfirmed before the close” to reject them.",
                field="reason",
            )
    return BulkPreview(
        verb=verb,
        chosen=chosen,
        description=description,
        matching=matching,
        skipped=skipped,
    )


def _sign_on_of(chosen: ReviewFilter) -> SignOn | None:
    if chosen.sign_on_id is None:
        return None
    sign_on = SignOn.objects.select_related("letter").filter(pk=chosen.sign_on_id).first()
    if sign_on is None:
        raise SignOnError("That sign-on does not exist: choose another.", field="sign_on")
    return sign_on


def bulk_run(run_id: uuid.UUID | str) -> BulkReview | None:
    return BulkReview.objects.filter(pk=run_id).first()


def recent_bulk_runs() -> list[BulkReview]:
    """The latest bulk actions, the newest first, those still shown."""
    shown_since = timezone.now() - KEPT_FOR
    return list(BulkReview.objects.filter(started_at__gte=shown_since)[:KEPT_RUNS])


def start_bulk_review(
    *,
    verb: str,
    chosen: ReviewFilter,
    actor: Actor,
    reason: StaffText = NO_TEXT,
    expected: int | None = None,
) -> BulkReview:
    """Queue the job that approves (or rejects, with `reason`) every signature the filter
    matches now; the run to follow on the queue page.

    `expected` is the count staff confirmed: if more or fewer match now, nothing starts and they
    are shown the new count first.
    """
    if verb == "reject" and not reason:
        raise SignOnError(
            "Reason: give the reason for rejecting: it is emailed to each signer.", field="reason"
        )
    preview = preview_bulk_review(verb=verb, chosen=chosen)
    if expected is not None and expected != preview.matching:
        raise SignOnError(
            f"{preview.matching} signatures match the filter now, not {expected}: check the "
            "count again before confirming.",
            field="expected",
        )
    up_to = filtered_review_queue(chosen).aggregate(last=Max("pk"))["last"] or 0
    run = BulkReview.objects.create(
        verb=verb,
        query=chosen.as_query(),
        description=preview.description,
        total=preview.matching,
        started_by=actor.label,
    )
    queue(
        [
            (
                run_bulk_review,
                (
                    str(run.id),
                    verb,
                    run.query,
                    up_to,
                    str(reason),
                    actor.user.pk if actor.user else None,
                    actor.label,
                    actor.ip_address,
                    actor.user_agent,
                ),
            )
        ]
    )
    return run


@task(backend="background")
def run_bulk_review(
    run_id: str,
    verb: str,
    query: dict[str, str],
    up_to: int,
    reason: str,
    user_id: int | None,
    label: str,
    ip_address: str | None,
    user_agent: str,
) -> dict[str, Any]:
    """Work through a bulk action, a batch per transaction; returns what it did."""
    run = bulk_run(run_id)
    if run is None:
        return {"done": 0, "skipped": {}}
    actor = Actor(
        user=User.objects.filter(pk=user_id).first() if user_id else None,
        label=label,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    chosen = ReviewFilter.from_query(query)
    skipped: Counter[str] = Counter(run.skipped)
    after = 0
    try:
        while True:
            batch, after = _next_batch(chosen, verb=verb, after=after, up_to=up_to, skipped=skipped)
            if not batch:
                break
            done, refused = _settle_batch(batch, verb=verb, actor=actor, reason=StaffText(reason))
            run.done += done
            if refused:
                skipped[SKIPPED_SETTLED] += refused
            run.skipped = dict(skipped)
            run.save(update_fields=["done", "skipped"])
    except Exception as error:
        run.failed = f"Stopped after {run.done}: {error}"
        raise
    finally:
        run.skipped = dict(skipped)
        run.finished_at = timezone.now()
        run.save(update_fields=["done", "skipped", "finished_at", "failed"])
    return {"done": run.done, "skipped": run.skipped}


def _next_batch(
    chosen: ReviewFilter, *, verb: str, after: int, up_to: int, skipped: Counter[str]
) -> tuple[list[Signature], int]:
    """The next batch of signatures the run acts on, after the pk `after`; and the pk to go on
    from. Those a bulk approval may not take are counted as skipped on the way."""
    while True:
        candidates = list(
            filtered_review_queue(chosen).filter(pk__gt=after, pk__lte=up_to).order_by("pk")[:BATCH]
        )
        if not candidates:
            return [], after
        after = candidates[-1].pk
        if verb == "approve":
            needing_note = {
                s.pk for s in candidates if s.status == Signature.Status.NEEDS_RECONFIRMATION
            }
            if needing_note:
                skipped[SKIPPED_NEEDS_NOTE] += len(needing_note)
            candidates = [s for s in candidates if s.pk not in needing_note]
        if candidates:
            return candidates, after


def _settle_batch(
    batch: list[Signature], *, verb: str, actor: Actor, reason: StaffText
) -> tuple[int, int]:
    """Approve or reject a batch in one transaction; if any of it was settled meanwhile (the
    services refuse it, all or none), each of the batch on its own. Returns (done, refused)."""
    try:
        return len(_settle(batch, verb=verb, actor=actor, reason=reason)), 0
    except SignOnError:
        pass
    done = refused = 0
    for signature in batch:
        try:
            done += len(_settle([signature], verb=verb, actor=actor, reason=reason))
        except SignOnError:
            refused += 1
    return done, refused


def _settle(
    signatures: list[Signature], *, verb: str, actor: Actor, reason: StaffText
) -> list[Signature]:
    if verb == "approve":
        return approve_signatures(signatures=signatures, actor=actor)
    return reject_signatures(signatures=signatures, actor=actor, reason=reason)
