"""The secretariat's desk: the panels of the Wagtail admin's home page.

What needs doing, first: each open sign-on with how far it has got and what waits for review,
the review queue, and the letters waiting for internal review. Each panel runs the same few
queries however many sign-ons and letters there are.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component
from wagtail.models import WorkflowState

from letters.models import LetterPage

from . import selectors
from .models import SignOn


class SignOnsPanel(Component):
    """Open sign-ons, soonest deadline first, what waits for review, and what waits to be published.

    Every count is the tracker's (selectors.progress_of): the holds waiting for staff are counted
    apart from those waiting for signers, and the total is the sum of the rows listed.
    """

    name = "sign_ons"
    order = 50
    template_name = "signatories/admin/dashboard_sign_ons.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        user = self.request.user
        if not user.has_perm("signatories.view_signon"):
            return {"shown": False}
        # Open and closed sign-ons, and published ones with late signatures still to settle.
        sign_ons = list(
            SignOn.objects.filter(
                Q(status__in=[SignOn.Status.OPEN, SignOn.Status.CLOSED])
                | Q(
                    status=SignOn.Status.PUBLISHED,
                    pk__in=selectors.review_queue().values("sign_on_id"),
                )
            )
            .select_related("letter")
            .order_by("deadline", "pk")
        )
        progress = selectors.progress_of(sign_ons)
        return {
            "shown": True,
            "open": [p for p in progress if p.sign_on.status == SignOn.Status.OPEN],
            "to_publish": [p for p in progress if p.sign_on.status == SignOn.Status.CLOSED],
            "published": [p for p in progress if p.sign_on.status == SignOn.Status.PUBLISHED],
            "review_total": sum(p.waiting_for_review for p in progress),
            # Once a sign-on takes no responses, its signers can do nothing more.
            "signer_total": sum(
                p.waiting_for_signer for p in progress if p.sign_on.status == SignOn.Status.OPEN
            ),
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
