"""The review queue: the signatures waiting for staff, approved, corrected or rejected there."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from signatories import selectors, services
from signatories.forms import ApproveForm, RejectForm
from signatories.models import Signature, SignOn

from .common import require_perm, showing_refusal


@require_perm("change_signon")
def review(request: HttpRequest) -> TemplateResponse:
    """Signatures waiting for staff, those waiting for their signers, and requests never confirmed."""
    groups, people = selectors.unconfirmed_by_organization()
    return TemplateResponse(
        request,
        "signatories/admin/review.html",
        {
            "page_title": "Signatures to review",
            "header_icon": "doc-full-inverse",
            "pending": selectors.review_items(selectors.review_queue()),
            "with_signers": [
                (signature, signature.staff_may_reject(responses_open=True))
                for signature in selectors.awaiting_reconfirmation()
            ],
            "unconfirmed_groups": groups,
            "unconfirmed_people": people,
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
