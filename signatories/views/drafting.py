"""A member contact's own link to a letter's draft: the draft as it now reads, passage by passage,
with what they wrote on each; and a page for each passage to comment on it or suggest new
wording, which works without JavaScript. Reading changes nothing; only the comment's POST does.
Once the text is approved for circulation the pages are read-only and say so."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from coalition.crm.accounts import client_ip
from letters import passages
from signatories import ratelimits, selectors, services
from signatories.forms import CommentForm
from signatories.models import DraftShare

from .common import error_page, errors, private

NOT_OURS = (
    "This link is not one the coalition sent, or it was mistyped: check that the whole "
    "address was copied from the email."
)
REVOKED = "The coalition withdrew this link. Ask them for a new one if you still need it."
NO_PASSAGE = (
    "This passage is not in the draft, or no longer: the draft may have changed since you "
    "opened it."
)


def _opened(request: HttpRequest, token: str) -> DraftShare | HttpResponse:
    share = selectors.find_draft_share(token)
    if share is None:
        return private(error_page(request, NOT_OURS, status=404))
    if share.revoked_at is not None:
        return private(error_page(request, REVOKED, status=410))
    return share


@never_cache
@require_safe
def draft(request: HttpRequest, token: str) -> HttpResponse:
    opened = _opened(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    _, letter = selectors.latest_draft(opened.letter)
    closed = selectors.comments_closed(opened)
    mine = selectors.comments_by(opened)
    context = {
        "share": opened,
        "letter": letter,
        "view": selectors.drafting_view(
            letter, mine, closed_shares={opened.pk} if closed else None
        ),
        "closed": closed,
        "token": token,
    }
    return private(render(request, "signatories/draft.html", context))


def _passage_page(
    request: HttpRequest,
    share: DraftShare,
    token: str,
    passage: passages.Passage,
    *,
    form: CommentForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    closed = selectors.comments_closed(share)
    mine = [c for c in selectors.comments_by(share) if c.passage in passage.keys]
    context: dict[str, Any] = {
        "share": share,
        "letter_title": share.letter.title,
        "passage": passage,
        "comments": [selectors.comment_view(c, passage, closed=bool(closed)) for c in mine],
        "form": form
        or CommentForm(
            passage=passage.text,
            paragraphs=passage.takes_paragraphs,
            initial={"text_hash": passages.text_hash(passage.text)},
        ),
        "errors": errors(form),
        "notice": notice,
        "closed": closed,
        "draft_url": reverse("signatories:draft", args=[token]),
    }
    if closed and status == 200:
        status = 410
    page = render(request, "signatories/draft_passage.html", context, status=status)
    return private(page, posts=True)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def draft_passage(request: HttpRequest, token: str, passage: str) -> HttpResponse:
    opened = _opened(request, token)
    if isinstance(opened, HttpResponse):
        return opened
    _, letter = selectors.latest_draft(opened.letter)
    found = passages.find(letter, passage)
    if found is None:
        return private(error_page(request, NO_PASSAGE, status=404))
    if request.method != "POST":
        return _passage_page(request, opened, token, found)
    form = CommentForm(request.POST, passage=found.text, paragraphs=found.takes_paragraphs)
    try:
        ratelimits.consume("suggest", ip=client_ip(request), link=token)
    except services.RateLimited as error:
        # What they typed stays on the page, to send once the window has passed.
        form.is_valid()
        response = _passage_page(
            request, opened, token, found, form=form, notice=error.message, status=429
        )
        response["Retry-After"] = str(error.retry_after)
        return response
    if selectors.comments_closed(opened):
        return _passage_page(request, opened, token, found)
    if not form.is_valid():
        return _passage_page(request, opened, token, found, form=form, status=400)
    try:
        services.comment_on_draft(
            share=opened,
            passage=found.key,
            commenting=form.input,
            text_hash=form.text_hash_sent,
            actor=services.Actor.from_request(request, label=opened.email),
        )
    except services.CommentsClosed:
        return _passage_page(request, opened, token, found)
    except services.SignOnError as error:
        # Shown again with the passage as it now reads, and sent back against that.
        data = request.POST.copy()
        data["text_hash"] = passages.text_hash(found.text)
        form = CommentForm(data, passage=found.text, paragraphs=found.takes_paragraphs)
        form.is_valid()
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _passage_page(request, opened, token, found, form=form, status=409)
    messages.success(request, "Thank you: the coalition's staff will read your comment.")
    url = reverse("signatories:draft", args=[token])
    return redirect(f"{url}#passage-{found.key}")
