"""How a finished Wagtail workflow ends: letters are approved for circulation, never published.

`WAGTAIL_FINISH_WORKFLOW_ACTION` points here. Wagtail imports this module while it defines its
own models, so the letters models are imported inside the function, not at the top.
"""

from typing import Any

from django.contrib.auth.models import User


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
