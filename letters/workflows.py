"""A letter's internal review, a Wagtail workflow: how it ends (letters are approved for
circulation, never published) and which letters are in it.

`WAGTAIL_FINISH_WORKFLOW_ACTION` points here. Wagtail imports this module while it defines its
own models, so models are imported inside the functions, not at the top.
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User

if TYPE_CHECKING:
    from wagtail.models import WorkflowState

    from .models import LetterPage


def finish_workflow(workflow_state: Any, user: User | None = None) -> None:
    """The final approval of a workflow: a letter's reviewed revision is approved for circulation
    (publishing nothing); any other page or snippet is published, as Wagtail does by default."""
    from wagtail.workflows import publish_workflow_state

    from .models import LetterPage
    from .services import approve_for_circulation

    obj = workflow_state.content_object
    if not isinstance(obj, LetterPage) and hasattr(obj, "specific"):
        obj = obj.specific
    if not isinstance(obj, LetterPage):
        publish_workflow_state(workflow_state, user=user)
        return
    task_state = workflow_state.current_task_state
    revision = task_state.revision if task_state and task_state.revision_id else None
    approve_for_circulation(revision=revision or obj.get_latest_revision(), user=user)


@dataclass(frozen=True)
class InReview:
    letter: "LetterPage"
    state: "WorkflowState"

    @property
    def task_name(self) -> str:
        task_state = self.state.current_task_state
        return str(task_state.task.name) if task_state else ""

    @property
    def since(self) -> datetime.datetime:
        task_state = self.state.current_task_state
        return task_state.started_at if task_state else self.state.created_at


def letters_in_review() -> list[InReview]:
    """Letters whose internal review is under way,
    waiting longest first."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import WorkflowState

    from .models import LetterPage

    states = list(
        WorkflowState.objects.filter(
            status=WorkflowState.STATUS_IN_PROGRESS,
            content_type=ContentType.objects.get_for_model(LetterPage),
        )
        .select_related("current_task_state__task", "requested_by")
        .order_by("current_task_state__started_at", "pk")
    )
    letters = LetterPage.objects.in_bulk([int(state.object_id) for state in states])
    return [
        InReview(letter=letters[int(state.object_id)], state=state)
        for state in states
        if int(state.object_id) in letters
    ]
