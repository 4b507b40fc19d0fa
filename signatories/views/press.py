"""The press's own link to a letter under embargo: the letter as it will be published, marked
"Embargoed until …", and its PDF with the same mark. Each opening is logged for staff; the pages
are kept out of search engines and caches; once the letter is published the link leads to it."""

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from letters.pdf import render_letter_pdf
from signatories import selectors, services
from signatories.deadlines import format_moment
from signatories.models import PressPreview

from .common import circulated_letter, digest, error_page, private

PDF_CACHE_SECONDS = 24 * 3600
NOT_OURS = (
    "This link is not one the coalition sent, or it was mistyped: check that the whole "
    "address was copied from the email."
)
REVOKED = "The coalition withdrew this link. Ask them for a new one if you still need it."


def _opened(request: HttpRequest, token: str, what: str) -> PressPreview | HttpResponse:
    preview = selectors.find_press_preview(token)
    if preview is None:
        return error_page(request, NOT_OURS, status=404)
    embargo = preview.embargo
    if embargo.published_at is not None:
        # Published: the letter's own page (and its PDF) are for everyone now.
        letter = embargo.sign_on.letter
        return redirect(f"{letter.url}pdf/" if what == "pdf" else letter.url)
    if preview.revoked_at is not None:
        return error_page(request, REVOKED, status=410)
    services.record_preview_access(
        preview=preview, what=what, actor=services.Actor.from_request(request)
    )
    return preview


@never_cache
@require_safe
def press_preview(request: HttpRequest, token: str) -> HttpResponse:
    opened = _opened(request, token, "page")
    if isinstance(opened, HttpResponse):
        return private(opened)
    embargo = opened.embargo
    title, html = circulated_letter(request, embargo.sign_on, with_list=True)
    return private(
        render(
            request,
            "signatories/press_preview.html",
            {
                "letter_title": title,
                "letter_html": html,
                "until": format_moment(embargo.until),
                "until_iso": embargo.until,
                "pdf_url": f"{request.path}pdf/",
                "preview": opened,
            },
        )
    )


@never_cache
@require_safe
def press_preview_pdf(request: HttpRequest, token: str) -> HttpResponse:
    opened = _opened(request, token, "pdf")
    if isinstance(opened, HttpResponse):
        return private(opened)
    embargo = opened.embargo
    sign_on = embargo.sign_on
    letter = sign_on.revision.as_object()
    lines = selectors.printable_lines(sign_on)
    # Rendered once for every press contact, until the list or the moment changes: a PDF takes
    # seconds to draw, and each contact may open it again and again.
    key = f"signatories:press-pdf:{embargo.pk}:{embargo.until.isoformat()}:{digest(lines)}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = render_letter_pdf(
            letter, lines, marking=f"Embargoed until {format_moment(embargo.until)}"
        )
        cache.set(key, pdf, PDF_CACHE_SECONDS)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{letter.slug}-embargoed.pdf"'
    return private(response)
