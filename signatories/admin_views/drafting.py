"""Drafting together, per letter: share the draft with member contacts (each emailed a link of
their own), withdraw a link, read their comments and suggestions beside the passages, and accept
or reject each on a page that shows what it will do first."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from letters import passages
from letters.models import LetterPage
from signatories import selectors, services
from signatories.forms import DecideCommentForm, ShareDraftForm

from .common import require_perm, showing_refusal


def _page(
    request: HttpRequest, letter: LetterPage, form: ShareDraftForm, *, status: int = 200
) -> TemplateResponse:
    revision, draft = selectors.latest_draft(letter)
    shares = list(selectors.draft_shares(letter))
    closed = {share.pk for share in shares if selectors.comments_closed(share)}
    comments = list(selectors.draft_comments_of(letter))
    return TemplateResponse(
        request,
        "signatories/admin/drafting.html",
        {
            "page_title": f"Drafting together: {letter.title}",
            "header_icon": "doc-full-inverse",
            "letter": letter,
            "revision": revision,
            "approval": selectors.latest_approval(letter),
            "shares": shares,
            "closed_shares": closed,
            "view": selectors.drafting_view(draft, comments, closed_shares=closed),
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def drafting(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The draft with members' comments beside it, and sharing it with more of them."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    posted = request.POST if request.method == "POST" else None
    form = ShareDraftForm(posted, contacts=selectors.shareable_contacts(letter))
    if posted is None or not form.is_valid():
        return _page(request, letter, form, status=200 if posted is None else 400)
    with showing_refusal(request, form=form):
        shares = services.share_draft(
            letter=letter,
            contacts=list(form.cleaned_data["contacts"]),
            note=form.cleaned_data["note"],
            actor=services.Actor.from_request(request),
        )
        names = ", ".join(share.name for share in shares)
        messages.success(request, f"Shared with {names}: each is emailed a link of their own.")
        return redirect("signatories_admin:drafting", letter_pk)
    return _page(request, letter, form, status=400)


@require_POST
@require_perm("change_signon")
def revoke_draft_share(request: HttpRequest, letter_pk: int, share_pk: int) -> HttpResponse:
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    share = get_object_or_404(selectors.draft_share_of(letter, share_pk))
    services.revoke_draft_share(share=share)
    messages.success(request, f"{share.name}'s link no longer opens; their comments stay.")
    return redirect("signatories_admin:drafting", letter_pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def draft_comment(request: HttpRequest, letter_pk: int, comment_pk: int) -> HttpResponse:
    """One comment: what accepting or rejecting it does, and who is told; only the POST acts."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    comment = get_object_or_404(selectors.draft_comment_of(letter, comment_pk))
    form = DecideCommentForm(request.POST if request.method == "POST" else None)
    action = request.POST.get("action")
    if request.method == "POST" and action in ("accept", "reject") and form.is_valid():
        with showing_refusal(request, form=form):
            decided = services.decide_draft_comment(
                comment=comment,
                accept=action == "accept",
                note=form.cleaned_data["note"],
                actor=services.Actor.from_request(request),
            )
            done = "Accepted" if action == "accept" else "Rejected"
            if decided.accepted_revision is not None:
                done = "Accepted: a new revision of the letter reads the suggested wording"
            messages.success(request, f"{done}. {comment.share.name} is emailed the decision.")
            url = reverse("signatories_admin:drafting", args=[letter_pk])
            return redirect(f"{url}#comment-{comment.pk}")
    _, draft = selectors.latest_draft(letter)
    current = passages.find(draft, comment.passage)
    closed = selectors.comments_closed(comment.share)
    context: dict[str, Any] = {
        "page_title": f"A comment on “{letter.title}”",
        "header_icon": "doc-full-inverse",
        "letter": letter,
        "comment": comment,
        "view": selectors.comment_view(comment, current, closed=bool(closed)),
        "current": current,
        "closed": closed,
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "signatories/admin/draft_comment.html", context, status=status)
