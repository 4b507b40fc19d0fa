"""A sign-on's goal: "publish when 25 organizations have signed" (and/or so many individuals).

Each approval that may reach the goal queues `reach_goal` (core.transition does); the job counts
with the tally every count comes from and, under the sign-on's lock, records the goal reached
once, tells whoever opened the sign-on, and, where staff chose so, closes the sign-on and
publishes the letter. Staff who did not choose so close and publish from the tracker.
"""

import logging

from django.tasks import task
from django.utils import timezone

from signatories import selectors, tasks
from signatories.errors import SignOnError
from signatories.models import Action, SignOn

from .core import holding, transition
from .events import Actor
from .publications import publish_sign_on
from .sign_ons import close_sign_on

logger = logging.getLogger(__name__)

GOAL_ACTOR = "goal"


@task(backend="background")
def reach_goal(sign_on_id: int) -> str:
    """Record the goal reached (once, whichever of several workers runs first), then close and
    publish where staff chose so."""
    sign_on = SignOn.objects.filter(pk=sign_on_id).first()
    if sign_on is None or not sign_on.has_goal or sign_on.goal_reached_at is not None:
        return "no goal to reach"
    actor = Actor.system(GOAL_ACTOR)
    with holding(sign_on) as held:
        current = held.sign_on
        if current.goal_reached_at is not None or current.status != SignOn.Status.OPEN:
            return "no goal to reach"
        goal = selectors.goal_of(current, selectors.tally(current))
        if goal is None or not goal.reached:
            return "not yet"
        transition(
            current,
            current,
            action=Action.GOAL_REACHED,
            actor=actor,
            fields={"goal_reached_at": timezone.now()},
            detail={part.label: part.signed for part in goal.parts},
            # Where the sign-on closes and publishes by itself, the email tells how that went.
            notify=[] if current.publish_at_goal else [(tasks.send_goal_email, (current.pk,))],
        )
    if not current.publish_at_goal:
        return "reached"
    outcome = "published"
    try:
        close_sign_on(sign_on=current, actor=actor)
        publish_sign_on(sign_on=current, actor=actor)
    except SignOnError as error:
        # Signatures waiting for review, say: the sign-on stays closed, and the email tells
        # staff what waits.
        logger.info("Sign-on %s reached its goal but was not published: %s", current.pk, error)
        outcome = f"closed: {error}"
    tasks.send_goal_email.enqueue(current.pk)
    return outcome
