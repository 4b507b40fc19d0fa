"""What a published letter's page shows beside the letter: its versions and dates (a correction
of the text with what it changed, word by word), the answers of its recipients, its open data
and how to share it, and what it tells other sites (schema.org)."""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.log import log_response

from .answers import answers_of
from .open_data import open_data_of, share_links
from .text_diff import ChangedParagraph, diff_revisions

if TYPE_CHECKING:
    from .models import LetterPage, Publication


@dataclass(frozen=True)
class VersionRow:
    """A published version as the letter's page lists it."""

    version: "Publication"
    # Where it corrected the text: the paragraphs changed since the version before it.
    text_changes: list[ChangedParagraph]


def _text_changes(version: "Publication", before: list["Publication"]) -> list[ChangedParagraph]:
    if not (version.changes or {}).get("text") or not before:
        return []
    if before[0].revision_id == version.revision_id:
        return []
    return diff_revisions(before[0].revision, version.revision)


def publication_context(letter: "LetterPage", request: HttpRequest) -> dict[str, Any]:
    """Its versions and dates as the public page shows them, and what it tells other sites."""
    # The latest version is also what prints, and its sign-on has the dates: one query. The
    # frozen lists stay out of it: the latest one is read once per process (letters.signatory_list).
    versions = list(letter.publications.defer("signatories").order_by("-version"))
    letter.__dict__["publication"] = versions[0] if versions else None
    first = versions[-1] if versions else None
    url = request.build_absolute_uri(letter.url)
    structured: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "name": letter.title,
        "url": url,
        "inLanguage": letter.language_code,
        "author": {"@type": "Organization", "name": letter.author_name},
        "description": letter.summary(),
    }
    if letter.recipient_lines:
        structured["recipient"] = {"@type": "Person", "name": letter.recipient_lines[0]}
    if first is not None:
        structured["datePublished"] = first.published_at.isoformat()
        structured["dateModified"] = versions[0].published_at.isoformat()
        structured["encoding"] = [
            {
                "@type": "MediaObject",
                "encodingFormat": "application/pdf",
                "contentUrl": request.build_absolute_uri(f"{letter.url}pdf/v{v.version}/"),
                "sha256": v.pdf_sha256,
                "contentSize": f"{v.pdf_size} B",
            }
            for v in versions
            if v.pdf_sha256
        ]
    # A correction of the text shows what it changed, word by word, as signers were shown.
    rows = [
        VersionRow(version, _text_changes(version, versions[i + 1 : i + 2]))
        for i, version in enumerate(versions)
    ]
    data = open_data_of(letter)
    embed_url = request.build_absolute_uri(data.embed_path) if data.embed_path else ""
    return {
        "open_data": data,
        "share_links": share_links(url, letter.title),
        # Escaped by the template where it shows: readers copy it as text.
        "embed_code": format_html(
            '<iframe src="{}" title="{}" width="100%" height="{}" style="border:0" '
            'loading="lazy"></iframe>',
            embed_url,
            letter.title,
            data.embed_height,
        )
        if embed_url
        else "",
        "versions": versions,
        "version_rows": rows,
        "answers": answers_of(letter) if versions else [],
        "current": versions[0] if versions else None,
        "first_published": first.published_at if first else None,
        "circulated_at": versions[0].circulated_at if versions else None,
        "closed_at": versions[0].closed_at if versions else None,
        "canonical_url": url,
        "summary": structured["description"],
        # Escaped as Django's json_script does: no "</script>" can end it early.
        "structured_data": json.dumps(structured, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026"),
    }


# How long a client waiting for a PDF still being made is asked to wait before asking again.
PDF_RETRY_SECONDS = 10


def pdf_being_prepared(
    request: HttpRequest, letter: "LetterPage", publication: "Publication"
) -> HttpResponse:
    """The answer at a PDF's address while the worker renders it: 503 with Retry-After for
    programs, a page that says so and asks again by itself for readers; stored by no cache."""
    response = render(
        request,
        "letters/pdf_pending.html",
        {"page": letter, "version": publication.version, "retry_after": PDF_RETRY_SECONDS},
        status=503,
    )
    response["Retry-After"] = str(PDF_RETRY_SECONDS)
    add_never_cache_headers(response)
    # Expected, and asked for again and again while it lasts: no error in the log (nor, from
    # there, in Sentry) for each time.
    log_response(
        "PDF being prepared: %s", request.path, response=response, request=request, level="debug"
    )
    return response
