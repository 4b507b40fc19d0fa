"""What the signer's pages share: the letter as circulated, error pages, the withdraw form."""

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from letters import text_diff, translations
from letters.lines import SignatoryLine
from letters.models import Letterhead, LetterPage
from letters.translations import Language

from .. import selectors
from ..forms import (
    ReconfirmForm,
    SignerForm,
    WithdrawForm,
)
from ..models import Signature, SignOn
from ..selectors.tally_shown import LIVE_UP_TO, REFRESHED_EVERY

# The request this browser made through an open link, kept in a signed cookie for its thanks
# page: no session row for each of the thousands who sign an open letter.
OPEN_LINK_COOKIE = "open_link_request"
OPEN_LINK_COOKIE_SECONDS = 7 * 24 * 3600
# A revision's text never changes; the hour bounds what a template change or a moved page that
# the text links to leaves showing.
LETTER_CACHE_SECONDS = 3600
# Where staff show who has signed, the signers' pages of a sign-on past LIVE_UP_TO lines read the
# list and the counts at most every REFRESHED_EVERY seconds, as the tracker does (the same
# measure, selectors.tally_shown): a rush of signers would otherwise each read every signature.
# A smaller sign-on's are always as they stand.
# The lines a signer's page prints of the list; the count says how many more have signed.
SHOWN_TO_SIGNERS = 500
AnySignerForm = SignerForm[Any]


def as_it_stands[T](sign_on: SignOn, what: str, compute: Callable[[], tuple[int, T]]) -> T:
    """`compute()`'s value (it returns the size of what it read, and the value), read again
    once the sign-on has changed; past LIVE_UP_TO, at most every REFRESHED_EVERY seconds."""
    key = f"signatories:{what}:{sign_on.pk}"
    kept = cache.get(key)
    now = time.time()
    if kept is not None:
        events, size, at, value = kept
        fresh = 0 <= now - at < REFRESHED_EVERY
        if events == sign_on.event_count or (size > LIVE_UP_TO and fresh):
            return value
    size, value = compute()
    cache.set(key, (sign_on.event_count, size, now, value), LETTER_CACHE_SECONDS)
    return value


def error_page(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "signatories/link_error.html", {"message": message}, status=status)


def private(response: HttpResponse, *, posts: bool = False) -> HttpResponse:
    """A page only its link's holder should read: kept out of search engines, and the token out
    of the Referer of any link followed from it. A page that `posts` a form keeps its own site's
    (same-origin): with no referrer at all, browsers send a form's POST with "Origin: null",
    which the CSRF check refuses."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Referrer-Policy"] = "same-origin" if posts else "no-referrer"
    return response


def closed_status(sign_on: SignOn) -> int:
    return 403 if sign_on.status == SignOn.Status.DRAFT else 410


def read_in(request: HttpRequest) -> str:
    """The language the reader asked to read the letter in: ?lang= on the page, the form's
    hidden field once posted."""
    if request.method != "POST":
        return str(request.GET.get("lang") or "")[:12]
    # The forms of the open link's page are prefixed ("person-read_in").
    sent = [value for name, value in request.POST.items() if name.rpartition("-")[2] == "read_in"]
    return str(sent[0] if sent else "")[:12]


def letter_context(request: HttpRequest, sign_on: SignOn) -> dict[str, Any]:
    """The circulated revision as the signer reads it, in the language they chose among its
    published translations, with who signed so far if staff allow."""
    found = selectors.translations_to_read(sign_on)
    asked = read_in(request)
    reading = next((page for page in found if page.language_code == asked), None)
    title, html = circulated_letter(request, sign_on, translation=reading)
    context: dict[str, Any] = {"letter_title": title, "letter_html": html}
    if found:
        own = sign_on.letter.language_code
        context["languages"] = [
            Language.of(
                code, f"?lang={code}" if page is not None else request.path, current=page is reading
            )
            for code, page in [(own, None), *((page.language_code, page) for page in found)]
        ]
        context["read_in"] = reading.language_code if reading is not None else ""
        context["letter_language"] = reading.language_code if reading is not None else own
        context["letter_direction"] = translations.direction(context["letter_language"])
        if reading is not None:
            context["translation_changes"] = translations.changes_against(reading, sign_on.revision)
    if sign_on.show_signatories or sign_on.has_goal:

        def count() -> tuple[int, tuple[str, Any]]:
            counted = selectors.tally(sign_on)
            said = selectors.signed_so_far(sign_on, counted)
            return counted.printed, (said, selectors.goal_of(sign_on, counted))

        said, goal = as_it_stands(sign_on, "counts", count)
        if sign_on.show_signatories:
            context["signed_so_far"] = said
            shown, listed = shown_to_signers(sign_on)
            if listed > len(shown):
                context["list_cut_at"] = (len(shown), listed)
        # Progress towards the goal is shown to every signer: how near the letter is to going out.
        context["goal"] = goal
    return context


def reading_in(context: dict[str, Any], forms: Iterable[AnySignerForm]) -> None:
    """Each form not yet sent records the language the page shows the letter in."""
    for form in forms:
        if not form.is_bound:
            form.initial["read_in"] = context.get("read_in", "")


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:32]


def circulated_letter(
    request: HttpRequest,
    sign_on: SignOn,
    *,
    with_list: bool = False,
    translation: LetterPage | None = None,
) -> tuple[str, SafeString]:
    """The circulated revision's title and its text as it prints, rendered once per revision and
    letterhead and then read from the shared cache: two hundred signers opening their links in
    the last hour would otherwise build and render the same revision two hundred times.

    Where staff show who has signed, the first SHOWN_TO_SIGNERS lines of the list print, read
    as it stands (`as_it_stands`); the press's preview of the letter as it will be published
    (`with_list`) reads the whole list on each request. The text is rendered again only when
    what it prints has changed.
    """
    # The letterhead the page's own frame shows (already read for it): no query of its own.
    letterhead = Letterhead.for_request(request)
    lines: list[SignatoryLine] = []
    if with_list:
        lines = _lines_now(sign_on)
    elif sign_on.show_signatories:
        lines = shown_to_signers(sign_on)[0]
    printed_with = [str(getattr(letterhead, f.attname)) for f in Letterhead._meta.concrete_fields]
    key = f"signatories:letter:{sign_on.revision_id}:{digest(printed_with)}"
    if translation is not None:
        # Its published text, beside the one signers agree to: read again once it changes.
        key += f":{translation.pk}:{translation.live_revision_id}"
    version = digest(lines)
    cached = cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1], mark_safe(cached[2])  # noqa: S308 (autoescaped by the template below)
    page = translation if translation is not None else sign_on.revision.as_object()
    page.__dict__["letterhead"] = letterhead
    context = page.letter_context(lines)
    context["hide_signatories"] = not lines
    html = render_to_string("letters/includes/letter_text.html", context)
    cache.set(key, (version, page.title, html), LETTER_CACHE_SECONDS)
    return page.title, mark_safe(html)  # noqa: S308 (autoescaped by the template)


def shown_to_signers(sign_on: SignOn) -> tuple[list[SignatoryLine], int]:
    """The first lines of the list as signers' pages print it, and how many lines there are."""

    def read() -> tuple[int, tuple[list[SignatoryLine], int]]:
        every = _lines_now(sign_on)
        return len(every), (every[:SHOWN_TO_SIGNERS], len(every))

    return as_it_stands(sign_on, "lines", read)


def _lines_now(sign_on: SignOn) -> list[SignatoryLine]:
    # The circulated revision's order and style, from its content, without building the page.
    circulated = LetterPage.from_serializable_data(
        sign_on.revision.content, check_fks=False, strict_fks=False
    )
    return selectors.letter_lines(circulated)


def reconfirmation(
    signature: Signature | None, form: ReconfirmForm | None
) -> dict[str, Any] | None:
    """What changed since the signer signed, and the form to reconfirm, while that is due."""
    if signature is None or signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        return None
    assert signature.sign_on is not None
    signed = selectors.signed_revision(signature)
    return {
        "changes": text_diff.diff_revisions(signed, signature.sign_on.revision) if signed else [],
        "form": form or ReconfirmForm(initial={"text_hash": signature.sign_on.text_hash}),
    }


def errors(*forms: AnySignerForm | None) -> list[tuple[str, str]]:
    """Every error on the page, as (the field's id, the message), for the summary at the top."""
    found = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            anchor = form[name].auto_id if field is not None and not field.widget.is_hidden else ""
            found += [(anchor, str(message)) for message in errors]
    return found


def may_withdraw(signature: Signature | None) -> bool:
    """Whether the signature can be withdrawn now: a signature, active, the sign-on open."""
    return (
        signature is not None
        and signature.sign_on is not None
        and signature.is_active
        and signature.response == Signature.Response.SIGNED
        and signature.status != Signature.Status.UNCONFIRMED
        and not selectors.closed_message(signature.sign_on)
    )


def render_withdraw_page(
    request: HttpRequest,
    signature: Signature,
    *,
    action_url: str,
    form: WithdrawForm | None = None,
    can_sign_again: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The one question before a signer's withdrawal: what it does, and the POST that does it."""
    sign_on = signature.sign_on
    assert sign_on is not None
    organization = signature.organization
    context = {
        "signature": signature,
        "whose": organization.name if organization is not None else signature.signer_name,
        "letter_title": sign_on.letter.title,
        "deadline_words": selectors.deadline_words(sign_on),
        "withdraw_form": form or WithdrawForm(),
        "errors": errors(form),
        "action_url": action_url,
        "can_sign_again": can_sign_again,
    }
    return render(request, "signatories/withdraw.html", context, status=status)
