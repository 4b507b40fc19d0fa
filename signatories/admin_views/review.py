"""The review queue: the signatures waiting for staff, approved, corrected or rejected there.

The queue lists a page at a time, narrowed by a filter (sign-on, kind, reason); staff act on the
ticked rows, or on every signature the filter matches, through a confirmation page that states
the count and a background job that works through them (services.bulk_review).
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from signatories import selectors, services
from signatories.forms import ApproveForm, RejectForm
from signatories.inputs import NO_TEXT
from signatories.models import Signature, SignOn
from signatories.selectors.review import (
    REVIEW_KINDS,
    REVIEW_REASONS,
    ByKeys,
    ReviewFilter,
    filtered_review_queue,
    sign_ons_in_review,
    unconfirmed_groups,
    unconfirmed_organizations,
    unconfirmed_people,
)
from signatories.services import bulk_review

from .common import Pager, paged, require_perm, showing_refusal

# Rows of the queue on a page: each is a panel with its reasons and its line to correct.
REVIEW_PER_PAGE = 50
# Rows of each list below the queue on a page: those waiting for their signers, the people and
# the organizations whose requests nobody confirmed.
SECTION_PER_PAGE = 50
# Each list below the queue pages by a parameter of its own, the others' pages kept.
SECTION_PAGES = ("signers_page", "people_page", "requests_page")


@dataclass(frozen=True)
class SectionPager(Pager):
    """A pager of one of several listings on a page: its own parameter, and a link to its
    heading."""

    parameter: str = "page"
    anchor: str = ""

    def _link(self, number: int) -> str:
        query = urlencode({**self.query, self.parameter: str(number)})
        return f"?{query}#{self.anchor}" if self.anchor else f"?{query}"


def _section(
    request: HttpRequest,
    items: QuerySet[Any, Any] | ByKeys,
    *,
    parameter: str,
    anchor: str,
    query: dict[str, str],
) -> SectionPager:
    """The page of a list below the queue that the request asks for, by `parameter`."""
    paginator: Paginator[Any] = Paginator(items, SECTION_PER_PAGE)
    page = paginator.get_page(request.GET.get(parameter, "1"))
    return SectionPager(page, query, parameter=parameter, anchor=anchor)


@require_perm("change_signon")
def review(request: HttpRequest) -> TemplateResponse:
    """Signatures waiting for staff, a page at a time and filtered; those waiting for their
    signers, and requests never confirmed; and the bulk actions under way."""
    chosen = ReviewFilter.from_query(request.GET)
    sections = {
        name: request.GET[name]
        for name in SECTION_PAGES
        if request.GET.get(name, "").isascii() and request.GET.get(name, "").isdigit()
    }
    pager = paged(
        request,
        ByKeys(filtered_review_queue(chosen)),
        query={**chosen.as_query(), **sections},
        per_page=REVIEW_PER_PAGE,
    )
    kept = {**chosen.as_query(), **sections, "page": str(pager.page.number)}
    signers = _section(
        request,
        ByKeys(selectors.awaiting_reconfirmation()),
        parameter="signers_page",
        anchor="with-signers-heading",
        query=kept,
    )
    people = _section(
        request,
        ByKeys(unconfirmed_people()),
        parameter="people_page",
        anchor="unconfirmed-heading",
        query=kept,
    )
    organizations = _section(
        request,
        unconfirmed_organizations(),
        parameter="requests_page",
        anchor="unconfirmed-heading",
        query=kept,
    )
    return TemplateResponse(
        request,
        "signatories/admin/review.html",
        {
            "page_title": "Signatures to review",
            "header_icon": "doc-full-inverse",
            "pending": selectors.review_items(pager.page.object_list),
            "pager": pager,
            "review_filter": chosen,
            "filter_sign_ons": sign_ons_in_review(),
            "kinds": REVIEW_KINDS,
            "reasons": REVIEW_REASONS,
            "bulk_runs": bulk_review.recent_bulk_runs(),
            "bulk_verbs": [("approve", "Approve"), ("reject", "Reject")],
            "with_signers": [
                (signature, signature.staff_may_reject(responses_open=True))
                for signature in signers.page.object_list
            ],
            "signers_pager": signers,
            "unconfirmed_groups": unconfirmed_groups(organizations.page.object_list),
            "unconfirmed_groups_pager": organizations,
            "unconfirmed_people": list(people.page.object_list),
            "unconfirmed_people_pager": people,
            "reject_form": RejectForm(),
            "approve_form": ApproveForm(),
        },
    )


def _ticked(request: HttpRequest) -> list[int]:
    """The signature ids ticked in the review queue; anything else posted is ignored."""
    return [
        int(value)
        for value in request.POST.getlist("signature")
        if value.isascii() and value.isdigit() and len(value) < 19
    ]


def _display_names(request: HttpRequest, signatures: list[Signature]) -> dict[int, str]:
    """The lines as the queue's rows show them, perhaps corrected by staff, by signature."""
    return {
        signature.pk: request.POST[f"display_name-{signature.pk}"]
        for signature in signatures
        if f"display_name-{signature.pk}" in request.POST
    }


def _approved_message(approved: list[Signature], published: list[str]) -> str:
    names = "; ".join(f"“{s.display_name}”" for s in approved)
    count = len(approved)
    message = (
        f"Approved {count} signature{'s' if count != 1 else ''}: {names}. "
        f"{'Its signer is' if count == 1 else 'Each signer is'} emailed."
    )
    if published:
        message += (
            f" “{'”, “'.join(published)}” {'is' if len(published) == 1 else 'are'} already "
            "published: the approved signatures print from the next correction, published from "
            "the letter's corrections page."
        )
    return message


def _approve(request: HttpRequest, chosen: list[Signature]) -> HttpResponse:
    form = ApproveForm(request.POST)
    if not chosen:
        messages.error(request, "Tick the signatures to approve.")
    elif not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, f"Nothing was approved. {problems}")
    else:
        with showing_refusal(request, prefix="Nothing was approved: "):
            approved = services.approve_signatures(
                signatures=chosen,
                display_names=_display_names(request, chosen),
                note=form.cleaned_data["note"],
                actor=services.Actor.from_request(request),
            )
            published = sorted(
                {
                    signature.sign_on.letter.title
                    for signature in chosen
                    if signature.sign_on is not None
                    and signature.sign_on.status == SignOn.Status.PUBLISHED
                }
            )
            messages.success(request, _approved_message(approved, published))
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve one signature, as its row in the queue shows it (its line perhaps corrected)."""
    signature = get_object_or_404(selectors.signatures_of_sign_ons(), pk=pk)
    return _approve(request, [signature])


@require_POST
@require_perm("change_signon")
def approve_ticked(request: HttpRequest) -> HttpResponse:
    """Approve the ticked signatures, all or none, each as its row shows it."""
    return _approve(request, selectors.ticked_signatures(_ticked(request)))


@require_POST
@require_perm("change_signon")
def correct_display_name(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct how a signature waiting for review prints; its signer is emailed the old and new."""
    signature = get_object_or_404(selectors.signatures_of_sign_ons(), pk=pk)
    old = signature.display_name
    typed = request.POST.get(f"display_name-{pk}", request.POST.get("display_name", ""))
    with showing_refusal(request, prefix=f"The line of “{old}” is unchanged: "):
        corrected = services.correct_display_name(
            signature=signature, display_name=typed, actor=services.Actor.from_request(request)
        )
        messages.success(
            request,
            f"“{old}” now prints as “{corrected.display_name}”; its signer is emailed the "
            "correction.",
        )
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def reject(request: HttpRequest) -> HttpResponse:
    """Reject the ticked signatures, all or none, with one reason."""
    chosen = selectors.ticked_signatures(_ticked(request))
    form = RejectForm(request.POST)
    if not chosen:
        messages.error(request, "Tick the signatures to reject.")
    elif not form.is_valid():
        messages.error(request, "Reason: give the reason for rejecting (at most 2000 characters).")
    else:
        with showing_refusal(request, prefix="Nothing was rejected: "):
            rejected = services.reject_signatures(
                signatures=chosen,
                reason=form.cleaned_data["reason"],
                actor=services.Actor.from_request(request),
            )
            emailed = sum(1 for s in rejected if s.confirmed_at or s.invitation_id)
            messages.success(
                request,
                f"Rejected {len(rejected)} signature{'s' if len(rejected) != 1 else ''}; "
                f"{emailed} signer{'s' if emailed != 1 else ''} emailed the reason.",
            )
    return redirect("signatories_admin:review")


def _back_to_queue(chosen: ReviewFilter) -> HttpResponse:
    query = urlencode(chosen.as_query())
    return redirect(reverse("signatories_admin:review") + (f"?{query}" if query else ""))


@require_perm("change_signon")
def review_all(request: HttpRequest) -> HttpResponse:
    """Approve or reject every signature the queue's filter matches: GET shows how many and
    which filter, and what is skipped; its POST starts the job and returns to the queue."""
    source = request.POST if request.method == "POST" else request.GET
    chosen = ReviewFilter.from_query(source)
    verb = source.get("verb", "")
    with showing_refusal(request, prefix="Nothing was started: ") as refused:
        preview = bulk_review.preview_bulk_review(verb=verb, chosen=chosen)
    if refused:
        return _back_to_queue(chosen)
    form = RejectForm(request.POST) if request.method == "POST" and verb == "reject" else None
    if request.method == "POST":
        expected = source.get("expected", "")
        reason = form.cleaned_data["reason"] if form is not None and form.is_valid() else NO_TEXT
        with showing_refusal(request, prefix="Nothing was started: ") as refused:
            run = bulk_review.start_bulk_review(
                verb=verb,
                chosen=chosen,
                actor=services.Actor.from_request(request),
                reason=reason,
                expected=int(expected) if expected.isascii() and expected.isdigit() else None,
            )
            messages.success(
                request,
                f"{bulk_review.VERBS[verb]} {preview.acting_on} signature"
                f"{'s' if preview.acting_on != 1 else ''} ({run.description}): under way in the "
                "background; this page shows how far it has got. Each signer is emailed.",
            )
            return _back_to_queue(chosen)
    return TemplateResponse(
        request,
        "signatories/admin/confirm_review_all.html",
        {
            "page_title": f"{bulk_review.VERBS[verb]} every signature matching the filter",
            "header_icon": "doc-full-inverse",
            "preview": preview,
            "verb": verb,
            "verb_label": bulk_review.VERBS[verb],
            "filter_fields": chosen.as_query(),
            "reject_form": form or RejectForm(),
            "back": reverse("signatories_admin:review") + "?" + urlencode(chosen.as_query()),
        },
    )
