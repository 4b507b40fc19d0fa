"""The secretariat's desk: the panels of the Wagtail admin's home page.

What needs doing, first: each open sign-on with how far it has got and what waits for review,
the review queue, and the letters waiting for internal review. Each panel runs the same few
queries however many sign-ons and letters there are.
"""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component

from letters.workflows import letters_in_review

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
        progress = selectors.progress_of(selectors.desk_sign_ons())
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


class LettersInReviewPanel(Component):
    name = "letters_in_review"
    order = 60
    template_name = "signatories/admin/dashboard_letters_in_review.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "letters": letters_in_review(),
            "listing_url": reverse("letter_listing:index"),
            "may_share": self.request.user.has_perm("signatories.change_signon"),
        }
