"""The secretariat's desk: the panels of the Wagtail admin's home page.

What needs doing, first: each open sign-on with how far it has got and what waits for review,
the review queue, and the letters waiting for internal review. Each panel runs the same few
queries however many sign-ons and letters there are.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component
from wagtail.models import WorkflowState

from letters.models import LetterPage

from . import selectors
from .models import SignOn


class SignOnsPanel(Component):
    """Open sign-ons, soonest deadline first, the review queue, and what waits to be published."""

    name = "sign_ons"
    order = 50
    template_name = "signatories/admin/dashboard_sign_ons.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        user = self.request.user
        if not user.has_perm("signatories.view_signon"):
            return {"shown": False}
        sign_ons = list(
            SignOn.objects.filter(status__in=[SignOn.Status.OPEN, SignOn.Status.CLOSED])
            .select_related("letter")
            .order_by("deadline", "pk")
        )
        waiting = selectors.waiting_for_review()
        return {
            "shown": True,
            "open": selectors.progress_of(
                [s for s in sign_ons if s.status == SignOn.Status.OPEN], waiting=waiting
            ),
            "to_publish": [s for s in sign_ons if s.status == SignOn.Status.CLOSED],
            "review_total": sum(waiting.values()),
            "may_review": user.has_perm("signatories.change_signon"),
            "may_open": user.has_perm("signatories.add_signon"),
            "now": timezone.now(),
        }


@dataclass(frozen=True)
class InReview:
    letter: LetterPage
    state: WorkflowState

    @property
    def task_name(self) -> str:
        task_state = self.state.current_task_state
        return str(task_state.task.name) if task_state else ""

    @property
    def since(self) -> Any:
        task_state = self.state.current_task_state
        return task_state.started_at if task_state else self.state.created_at


def letters_in_review() -> list[InReview]:
    """Letters whose internal review (a Wagtail workflow, letters/workflows.py) is under way,
    waiting longest first."""
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


class LettersInReviewPanel(Component):
    name = "letters_in_review"
    order = 60
    template_name = "signatories/admin/dashboard_letters_in_review.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"letters": letters_in_review(), "listing_url": reverse("letter_listing:index")}
