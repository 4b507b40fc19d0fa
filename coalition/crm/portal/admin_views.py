"""Staff's side of the member portal, in the Wagtail admin: proposed profile changes to review."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from coalition.crm.models import ProfileProposal
from coalition.crm.views import acting_user

from . import services
from .forms import ReviewForm

PERMISSION = "coalition.change_organization"


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def proposals(request: HttpRequest) -> TemplateResponse:
    _require_permission(request)
    pending = (
        ProfileProposal.objects.filter(status=ProfileProposal.Status.PENDING)
        .select_related("organization")
        .order_by("created_at", "pk")
    )
    decided = (
        ProfileProposal.objects.exclude(status=ProfileProposal.Status.PENDING)
        .select_related("organization", "reviewed_by")
        .order_by("-reviewed_at", "-pk")[:20]
    )
    return TemplateResponse(
        request,
        "portal/admin/proposals.html",
        {
            "page_title": "Profile changes",
            "header_icon": "group",
            "pending": list(pending),
            "decided": list(decided),
        },
    )


def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One proposal beside the profile it would change; approve or reject it with a note."""
    _require_permission(request)
    proposal = get_object_or_404(
        ProfileProposal.objects.select_related("organization", "organization__logo", "contact"),
        pk=pk,
    )
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                services.approve_profile_proposal(
                    proposal=proposal, user=acting_user(request), note=note
                )
                messages.success(
                    request, f"Approved: the profile of {proposal.organization.name} is updated."
                )
            elif decision == "reject":
                services.reject_profile_proposal(
                    proposal=proposal, user=acting_user(request), note=note
                )
                messages.success(request, f"Rejected the change to {proposal.organization.name}.")
            else:
                raise services.ProposalError("Decision: choose Approve or Reject.")
        except services.ProposalError as error:
            messages.error(request, str(error))
            return redirect("portal_admin:review", pk=proposal.pk)
        return redirect("portal_admin:proposals")
    return TemplateResponse(
        request,
        "portal/admin/review.html",
        {
            "page_title": f"Profile change for {proposal.organization.name}",
            "header_icon": "group",
            "proposal": proposal,
            "form": form,
        },
    )
