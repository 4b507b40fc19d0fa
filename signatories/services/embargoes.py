"""Publishing a letter under embargo: held until a moment in the coalition's time zone, read
meanwhile by the press through links of their own, then published by the worker exactly once.

The sign-on is closed and its list settled when the embargo is set; the letter stays unpublished
(not live: out of the archive, its search and the feed) until `until`. Then `release_embargo`,
run by the job queued for that moment and by the worker's chore that catches any job lost,
publishes it as staff's Publish would — page, PDF without the mark, feed, emails — under the
sign-on's lock, once: whichever run comes second finds it published. Staff may move the moment
or lift the embargo, which publishes the letter at once.
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from letters.models import Publication
from signatories import selectors, tasks, tokens
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Action, Embargo, PressPreview, PreviewAccess, SignOn

from .core import Notification, holding, queue, record
from .events import Actor
from .publications import publish_sign_on

logger = logging.getLogger(__name__)

# An embargo is hours or days; a date further out is a typo.
LONGEST_EMBARGO = datetime.timedelta(days=365)
EMBARGO_ACTOR = "embargo"


def _check_until(until: datetime.datetime) -> None:
    now = timezone.now()
    if until <= now:
        raise SignOnError("The embargo must end in the future.", field="until")
    if until > now + LONGEST_EMBARGO:
        raise SignOnError(
            "An embargo ends within a year; check the date.",
            field="until",
        )


def _release_at(embargo: Embargo) -> list[Notification]:
    """The job that publishes the letter at its moment (the worker's chore catches it too)."""
    if not release_embargo_job.get_backend().supports_defer:
        return []
    return [(release_embargo_job.using(run_after=embargo.until), (embargo.pk,))]


def embargo_sign_on(*, sign_on: SignOn, until: datetime.datetime, actor: Actor) -> Embargo:
    """Hold a closed sign-on's letter until `until`, when the worker publishes it."""
    _check_until(until)
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status != SignOn.Status.CLOSED:
            raise TransitionNotAllowed(
                "Only a closed sign-on's letter can be published under embargo: close it first."
            )
        waiting = selectors.waiting_for_review(current)
        if waiting:
            raise SignOnError(
                f"{waiting} signature(s) await review: approve or reject them before setting "
                "the embargo, so that the list the press reads is the one that prints.",
                field="until",
            )
        try:
            with transaction.atomic():
                embargo = Embargo.objects.create(
                    sign_on=current, until=until, created_by=actor.user
                )
        except IntegrityError:
            raise SignOnError("The letter is already under embargo.", field="until") from None
        record(
            current,
            action=Action.EMBARGOED,
            actor=actor,
            rows=[current],
            detail={"until": until.isoformat()},
        )
        queue(_release_at(embargo))
    return embargo


def move_embargo(*, embargo: Embargo, until: datetime.datetime, actor: Actor) -> Embargo:
    """Publish the letter at another moment; the job queued for the old one finds it not due."""
    _check_until(until)
    with holding(embargo.sign_on) as held:
        locked = Embargo.objects.select_for_update().get(pk=embargo.pk)
        if locked.published_at is not None:
            raise TransitionNotAllowed("The letter is already published.")
        previous = locked.until
        locked.until = until
        locked.save(update_fields=["until"])
        record(
            held.sign_on,
            action=Action.EMBARGO_MOVED,
            actor=actor,
            rows=[held.sign_on],
            detail={"previous_until": previous.isoformat(), "until": until.isoformat()},
        )
        queue(_release_at(locked))
    return locked


def release_embargo(*, embargo: Embargo, actor: Actor, early: bool = False) -> Publication | None:
    """Publish the embargoed letter: at its moment, or now if staff lift the embargo (`early`).
    None where there is nothing to do (published already, or not yet due)."""
    with holding(embargo.sign_on) as held:
        locked = Embargo.objects.select_for_update().get(pk=embargo.pk)
        now = timezone.now()
        if locked.published_at is not None or (not early and locked.until > now):
            return None
        if early:
            record(
                held.sign_on,
                action=Action.EMBARGO_LIFTED,
                actor=actor,
                rows=[held.sign_on],
                detail={"until": locked.until.isoformat()},
            )
        publication = publish_sign_on(sign_on=held.sign_on, actor=actor, releasing=True)
        locked.published_at = now
        locked.lifted_early = early
        locked.save(update_fields=["published_at", "lifted_early"])
    return publication


@task(backend="background")
def release_embargo_job(embargo_id: int) -> str:
    """Publish an embargoed letter at its moment (queued for it when the embargo was set)."""
    embargo = Embargo.objects.select_related("sign_on").filter(pk=embargo_id).first()
    if embargo is None:
        return "gone"
    published = release_embargo(embargo=embargo, actor=Actor.system(EMBARGO_ACTOR))
    return "published" if published is not None else "nothing due"


def release_due_embargoes() -> int:
    """Publish every embargoed letter whose moment has passed: the worker's chore, which catches
    a job the queue lost (or a queue that cannot defer one). Returns how many it published."""
    published = 0
    for embargo in selectors.due_embargoes():
        try:
            released = release_embargo(embargo=embargo, actor=Actor.system(EMBARGO_ACTOR))
        except SignOnError:
            # Its record no longer holds, say: the tracker shows why; the others still go out.
            logger.exception("The letter of embargo %s could not be published", embargo.pk)
            continue
        published += released is not None
    return published


def add_press_preview(
    *, embargo: Embargo, name: str, email: str, outlet: str, actor: Actor
) -> PressPreview:
    """A press contact's own link to the embargoed letter, emailed to them after commit."""
    with holding(embargo.sign_on):
        locked = Embargo.objects.select_for_update().get(pk=embargo.pk)
        if locked.published_at is not None:
            raise SignOnError("The letter is published: the press can read it on its page.")
        nonce = tokens.new_nonce()
        try:
            with transaction.atomic():
                preview = PressPreview.objects.create(
                    embargo=locked,
                    name=name,
                    email=email,
                    outlet=outlet,
                    token_nonce=nonce,
                    token_hash=tokens.digest(tokens.derive("press", nonce)),
                    created_by=actor.user,
                )
        except IntegrityError:
            raise SignOnError(f"{email} already has a preview link.", field="email") from None
        queue([(tasks.send_press_preview, (preview.pk,))])
    return preview


def revoke_press_preview(*, preview: PressPreview) -> PressPreview:
    """The link no longer opens (sent to the wrong person, say)."""
    PressPreview.objects.filter(pk=preview.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    preview.refresh_from_db()
    return preview


def record_preview_access(*, preview: PressPreview, what: str, actor: Actor) -> None:
    """Each opening of a preview, logged for staff to see."""
    PreviewAccess.objects.create(
        preview=preview,
        what=what,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent[:500],
    )
