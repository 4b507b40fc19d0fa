"""The list of sign-ons, opening one, and its open link."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from coalition.core import emails
from signatories import selectors, services
from signatories.forms import OpenLinkForm, OpenSignOnForm

from .common import require_perm, showing_refusal


@require_perm("view_signon")
def index(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "signatories/admin/index.html",
        {
            "page_title": "Sign-ons",
            "header_icon": "doc-full-inverse",
            "sign_ons": selectors.sign_ons_newest_first(),
            "pending_count": selectors.review_queue_length(),
        },
    )


APPROVALS_LISTED = 20


def _numbers(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isascii() and value.isdigit()]


def _picked_from_query(request: HttpRequest) -> dict[str, Any]:
    """What the address picks in advance: a letter's approved revision (`?approval=5`) and
    organizations (`?organizations=3&organizations=7`).

    The Word import links here with the members its signatory block names; a letter picked
    without organizations brings those its Word import recognized, however long ago. Ids that
    are not numbers, not approvals open to a sign-on or not active organizations are left out,
    as the form would refuse them.
    """
    if request.method != "GET":
        return {}
    picked: dict[str, Any] = {}
    ids = _numbers(request.GET.getlist("organizations"))
    approval = selectors.approval_to_circulate(
        next(iter(_numbers([request.GET.get("approval", "")])), 0)
    )
    if approval is not None:
        picked["approval"] = approval
        if not ids:
            ids = selectors.recognized_members(approval.letter_id)
    if ids:
        picked["organizations"] = selectors.active_organizations_among(ids)
    return picked


@require_perm("add_signon")
def open_sign_on(request: HttpRequest) -> HttpResponse:
    form = OpenSignOnForm(request.POST or None, initial=_picked_from_query(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = services.Actor.from_request(request)
        with showing_refusal(request, form=form):
            sign_on = services.create_sign_on(
                revision=data["approval"].revision,
                deadline=data["deadline"],
                coalitions=data["coalitions"],
                tiers=data["tiers"],
                organizations=data["organizations"],
                message=data["message"],
                recipients=data["recipients"],
                auto_approve_authorized=data["auto_approve_authorized"],
                auto_approve_individuals=data["auto_approve_individuals"],
                show_signatories=data["show_signatories"],
                reminder_days=data["reminder_days"],
                goal_organizations=data["goal_organizations"],
                goal_individuals=data["goal_individuals"],
                publish_at_goal=data["publish_at_goal"],
                actor=actor,
            )
            sign_on = services.open_sign_on(sign_on=sign_on, actor=actor)
            token = (
                services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
                if data["accepts_requests"]
                else ""
            )
            people, organizations = selectors.invitation_counts(sign_on)
            messages.success(
                request,
                f"The sign-on is open: {people} people at {organizations} organizations are "
                "being invited.",
            )
            if token:
                _announce_open_link(request, token)
            return redirect("signatories_admin:tracker", sign_on.pk)
    return TemplateResponse(
        request,
        "signatories/admin/open.html",
        {
            "page_title": "Open a sign-on",
            "header_icon": "doc-full-inverse",
            "form": form,
            # Each letter's link picks it, with the members its Word import recognized.
            "approvals": selectors.approvals_to_circulate()[:APPROVALS_LISTED],
        },
        status=400 if form.errors else 200,
    )


def _announce_open_link(request: HttpRequest, token: str) -> None:
    url = emails.absolute_url(reverse("signatories:open_link", args=[token]))
    messages.success(
        request,
        f"The open link is {url} — copy it now: it is shown only this once. "
        "Anyone with it may ask to sign; every such signature waits for your review.",
    )


@require_POST
@require_perm("change_signon")
def issue_open_link(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    form = OpenLinkForm(request.POST)
    form.is_valid()  # a single optional checkbox: always valid
    with showing_refusal(request):
        token = services.issue_open_link(
            sign_on=sign_on,
            accepts_requests=form.cleaned_data.get("accepts_requests", False),
            actor=services.Actor.from_request(request),
        )
        _announce_open_link(request, token)
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def close_open_link(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    with showing_refusal(request):
        services.close_open_link(sign_on=sign_on, actor=services.Actor.from_request(request))
        messages.success(request, "The open link is turned off; it no longer opens anything.")
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def approval_rules(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff choose whether people who confirm their address are listed at once."""
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    approve = request.POST.get("auto_approve_individuals") == "on"
    with showing_refusal(request):
        services.approve_individuals_by_rule(
            sign_on=sign_on, approve=approve, actor=services.Actor.from_request(request)
        )
        messages.success(
            request,
            "People who confirm their address are now listed at once; staff review only the "
            "exceptions."
            if approve
            else "Staff now review each person who confirms their address.",
        )
    return redirect("signatories_admin:tracker", pk)
