"""Public pages beside the letters: each signatory organization's page, and each published
letter's open data (its signatories as CSV and JSON, the letter in the interchange format, an
Atom feed of publications and corrections, and a widget other sites may frame).

Everything here reads the published versions (`Publication`): a letter's signatories are the
latest version's frozen list, exactly as the page and its PDF print them, never the signatures
as they stand (a late signature or a withdrawal shows once it is published as a correction).
"""

import base64
import csv
import datetime
import hashlib
import io
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe
from wagtail.models import Site

from coalition.crm.viewsets import neutralise_formula
from letters.answers import PublishedAnswer
from letters.lines import SignatoryLine
from letters.models import Letterhead, LetterPage, Publication
from letters.open_data import DataLink, OpenData

from . import selectors
from .interchange import export_letter

#: How many versions the feed carries, newest first.
FEED_LENGTH = 50


# ---------------------------------------------------------------------------------------------
# Finding what is published


def _site_root_path(request: HttpRequest) -> str:
    """The url_path of the requested site's home page: the archive's letters sit below it."""
    site = Site.find_for_request(request)
    if site is not None:
        for root in Site.get_site_root_paths():
            if root.site_id == site.pk:
                return str(root.root_path)
    raise Http404("No site here.")


def _published(request: HttpRequest, slug: str) -> Publication:
    """The latest version of the live, public letter at /letters/<slug>/; 404 for anything else."""
    publication = selectors.current_publication(_site_root_path(request), slug)
    # A live letter always has one (publication is the only way a letter goes live).
    if publication is None:
        raise Http404("No published letter here.")
    return publication


def _letter_url(request: HttpRequest, letter: LetterPage) -> str:
    # On the host the reader asked, like every other link here (the Site record's hostname may
    # be a placeholder).
    return request.build_absolute_uri(letter.get_url(request))


def _pdf_url(letter_url: str, version: int) -> str:
    """Each version's PDF has its own URL, served by the letter page."""
    return f"{letter_url}pdf/v{version}/"


def open_data(letter: LetterPage) -> OpenData:
    """Where a letter's open data is mounted (the LETTER_OPEN_DATA setting names this)."""
    slug = {"slug": letter.slug}
    return OpenData(
        downloads=[
            DataLink(
                "Signatories (CSV)", reverse("public:signatories_csv", kwargs=slug), "text/csv"
            ),
            DataLink(
                "Signatories (JSON)",
                reverse("public:signatories_json", kwargs=slug),
                "application/json",
            ),
            DataLink(
                "The letter and its signatories (JSON, the interchange format)",
                reverse("public:letter_json", kwargs=slug),
                "application/json",
            ),
        ],
        feeds=[
            DataLink(
                "Publications and corrections (Atom)",
                reverse("public:feed"),
                "application/atom+xml",
            )
        ],
        embed_path=reverse("public:embed", kwargs=slug),
        embed_height=EMBED_HEIGHT,
        verify_path=reverse("public:verify"),
        # Reversed with a stand-in number, then opened up for letters.versions to fill in.
        verify_version_path=reverse("public:verify_version", kwargs={**slug, "version": 1}).replace(
            "/v1/", "/v{version}/"
        ),
    )


# ---------------------------------------------------------------------------------------------
# An organization's page


@dataclass(frozen=True)
class SignedLetter:
    title: str
    url: str
    date: datetime.date
    printed_date: str


@require_safe
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    """The letters an organization signed, as their latest published versions print them."""
    found = selectors.public_organization(slug)
    if found is None:
        # Unknown, a pending request, merged away, or kept off these pages.
        raise Http404("No such organization page.")
    # Who the current version of each letter prints, frozen with it.
    publications = selectors.current_versions_printing(found, _site_root_path(request))
    letterhead = Letterhead.for_request(request)
    letters = sorted(
        (_signed_letter(request, publication, letterhead) for publication in publications),
        key=lambda letter: (letter.date, letter.title),
        reverse=True,
    )
    return render(
        request,
        "signatories/public/organization.html",
        {
            "organization": found,
            "letters": letters,
            "feed_url": reverse("public:organization_feed", args=[found.slug]),
        },
    )


def _signed_letter(
    request: HttpRequest, publication: Publication, letterhead: Letterhead
) -> SignedLetter:
    letter = publication.letter
    # The date it bears, or the day it was first published when it bears none.
    date = letter.letter_date or timezone.localdate(
        letter.first_published_at or publication.published_at
    )
    return SignedLetter(
        title=letter.title,
        url=str(letter.get_url(request)),
        date=date,
        printed_date=letterhead.format_date(date),
    )


# ---------------------------------------------------------------------------------------------
# A letter's signatories as data

SIGNATORY_COLUMNS = ["position", "line", "group", "detail", "organization_page"]
LETTER_COLUMNS = ["letter_title", "letter_url", "version", "published_at"]


def signatory_rows(
    absolute: Callable[[str], str], publication: Publication
) -> list[dict[str, Any]]:
    """A version's list as its open data gives it; `absolute` makes a path a full address."""
    return [
        {
            "position": position,
            "line": line.text,
            "group": line.group,
            "detail": line.detail,
            "organization_page": absolute(line.url) if line.url else None,
        }
        for position, line in enumerate(publication.lines(), start=1)
    ]


def letter_facts(letter_url: str, publication: Publication) -> dict[str, Any]:
    letter = publication.letter
    return {
        "title": letter.title,
        "url": letter_url,
        "date": letter.letter_date.isoformat() if letter.letter_date else None,
        "version": publication.version,
        "published_at": publication.published_at.isoformat(),
        "pdf": _pdf_url(letter_url, publication.version),
    }


def _signatory_rows(request: HttpRequest, publication: Publication) -> list[dict[str, Any]]:
    return signatory_rows(request.build_absolute_uri, publication)


def _letter_facts(request: HttpRequest, publication: Publication) -> dict[str, Any]:
    return letter_facts(_letter_url(request, publication.letter), publication)


@require_safe
def signatories_json(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's signatories as its latest version prints them.

    {"letter": {"title", "url", "date" (ISO date or null), "version", "published_at" (of that
    version, ISO 8601), "pdf"}, "signatories": [{"position" (from 1, in printed order), "line"
    (as printed), "group" (the heading it prints under, or ""), "detail" (the signer, or ""),
    "organization_page" (absolute URL, or null)}]}
    """
    publication = _published(request, slug)
    document = {
        "letter": _letter_facts(request, publication),
        "signatories": _signatory_rows(request, publication),
    }
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@require_safe
def signatories_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The same rows as the JSON, one per signatory, each with the letter's title, URL, version
    and publication time, so that files of several letters can be stacked."""
    publication = _published(request, slug)
    facts = _letter_facts(request, publication)
    letter = [facts["title"], facts["url"], facts["version"], facts["published_at"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SIGNATORY_COLUMNS + LETTER_COLUMNS)
    for row in _signatory_rows(request, publication):
        values = [row[column] or "" for column in SIGNATORY_COLUMNS] + letter
        # A printed line is whatever a signer typed: a spreadsheet must not run it.
        writer.writerow([neutralise_formula(value) for value in values])
    # With a byte order mark, Excel reads the file as UTF-8 (accents, Cyrillic, CJK) instead of
    # the local code page; csv readers take it off with the "utf-8-sig" codec.
    response = HttpResponse(
        "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8; header=present"
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{publication.letter.slug}-signatories.csv"
    )
    return response


# ---------------------------------------------------------------------------------------------
# The letter in the interchange format


def _as_published(document: dict[str, Any], letter: LetterPage, lines: list[SignatoryLine]) -> None:
    """Make the exported signatories those of the latest version, in its order.

    The export reads the signatures as they stand, which run ahead of the published list while
    a correction is being prepared (a late signature approved, a withdrawal recorded).
    """
    # The rows the export read, in its order: they pair its items with the lines they print.
    signatures = selectors.printable_in_order(letter)
    exported: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for signature, item in zip(signatures, document["signatories"], strict=False):
        exported[signature.display_name].append(item)
    items = []
    for line in lines:
        if exported[line.text]:
            items.append(exported[line.text].pop(0))
        else:
            # Withdrawn since this version was published: it still prints, exactly so.
            items.append({"name": line.text, **({"group": line.group} if line.group else {})})
    document["signatories"] = items


@require_safe
def letter_json(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter as published, in the interchange format (letter.schema.json)."""
    publication = _published(request, slug)
    document = export_letter(publication.letter)
    _as_published(document, publication.letter, publication.lines())
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


# ---------------------------------------------------------------------------------------------
# The feed of publications and corrections


class LetterFeed(Atom1Feed):
    """Atom, with each version's PDF as an enclosure (its size once it has been rendered)."""

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        enclosure = {"rel": "enclosure", "type": "application/pdf", "href": item["pdf_url"]}
        if item["pdf_size"]:
            enclosure["length"] = str(item["pdf_size"])
        handler.addQuickElement("link", "", enclosure)
        # The letter in each other language it reads in (letters.translations).
        for code, url in item["translations"]:
            handler.addQuickElement("link", "", {"rel": "alternate", "hreflang": code, "href": url})


def _entry_id(publication: Publication) -> str:
    """Stable per version, whatever the letter's slug or the site's domain becomes."""
    letter = publication.letter
    name = f"{letter.locale_id}/v{publication.version}"
    return uuid.uuid5(letter.translation_key, name).urn


def _entry_text(publication: Publication) -> tuple[str, str]:
    letter = publication.letter
    if publication.is_correction:
        note = publication.note.strip()
        return (
            f"Correction to {letter.title}: {Truncator(note).chars(120)}",
            f"{note} (version {publication.version})",
        )
    recipients = "; ".join(letter.recipient_lines)
    return f"Published: {letter.title}", f"To {recipients}." if recipients else "Published."


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    """Every published version of every public letter, newest first: publications and
    corrections."""
    publications = selectors.latest_versions(_site_root_path(request), FEED_LENGTH)
    name = _site_name(request)
    return _atom(
        request,
        publications,
        title=f"{name}: letters",
        link=request.build_absolute_uri("/letters/"),
        description="Letters as published, and their corrections.",
    )


@require_safe
def organization_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """Every published version of a public letter that prints the organization, newest first."""
    found = selectors.public_organization(slug)
    if found is None:
        raise Http404("No such organization page.")
    publications = selectors.versions_printing(found, _site_root_path(request), FEED_LENGTH)
    return _atom(
        request,
        publications,
        title=f"{_site_name(request)}: letters signed by {found.printed_name}",
        link=request.build_absolute_uri(reverse("public:organization", args=[found.slug])),
        description=f"Letters that list {found.printed_name}, as published and corrected.",
    )


def _site_name(request: HttpRequest) -> str:
    return Letterhead.for_request(request).coalition_name or str(settings.WAGTAIL_SITE_NAME)


def _atom(
    request: HttpRequest, publications: Any, *, title: str, link: str, description: str
) -> HttpResponse:
    name = _site_name(request)
    atom = LetterFeed(
        title=title,
        link=link,
        description=description,
        language=settings.LANGUAGE_CODE,
        author_name=name,
        feed_url=request.build_absolute_uri(),
        feed_guid=link,
    )
    publications = list(publications)
    languages = selectors.languages_of([publication.letter for publication in publications])
    for publication in publications:
        letter_url = _letter_url(request, publication.letter)
        entry_title, summary = _entry_text(publication)
        atom.add_item(
            title=entry_title,
            link=letter_url,
            description=summary,
            unique_id=_entry_id(publication),
            unique_id_is_permalink=False,
            pubdate=publication.published_at,
            updateddate=publication.published_at,
            pdf_url=_pdf_url(letter_url, publication.version),
            pdf_size=publication.pdf_size,
            translations=[
                (code, f"{letter_url}in/{code}/")
                for code in languages.get(publication.letter.pk, [])
            ],
        )
    response = HttpResponse(content_type=atom.content_type)
    atom.write(response, "utf-8")
    return response


# ---------------------------------------------------------------------------------------------
# The widget other sites may frame

# Inline, so that the widget is one request; allowed by its hash rather than 'unsafe-inline'.
# Every part has a bounded height (the title two lines at most, each name one), so that the
# iframe the letter page offers is EMBED_HEIGHT pixels whatever the letter: it never scrolls.
EMBED_NAMES = 3
EMBED_HEIGHT = 250
EMBED_CSS = (
    "body{margin:0;font:15px/1.4 system-ui,sans-serif;color:#1b1b1b;background:#fff}"
    ".embed{box-sizing:border-box;height:250px;overflow:hidden;padding:12px 14px;"
    "border:1px solid #c9c9c9;border-radius:4px}"
    ".site{margin:0;font-size:12px;color:#555;text-transform:uppercase;letter-spacing:.04em;"
    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    "h1{margin:4px 0;font-size:17px;line-height:1.3;max-height:2.6em;overflow:hidden}"
    "a{color:#0b4f8a}"
    ".count{margin:0 0 4px}"
    ".names{margin:0 0 6px;padding:0;list-style:none;font-size:14px;color:#333}"
    ".names li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
)
EMBED_POLICY: dict[str, Collection[str] | str] = {
    **cast("dict[str, Collection[str] | str]", settings.SECURE_CSP),
    "frame-ancestors": ["*"],
    "style-src": [
        CSP.SELF,
        "'sha256-" + base64.b64encode(hashlib.sha256(EMBED_CSS.encode()).digest()).decode() + "'",
    ],
}


@require_safe
@xframe_options_exempt
@csp_override(EMBED_POLICY)
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's title, how many signed it, the first of them, and a link to it: the one page
    any site may frame."""
    publication = _published(request, slug)
    letterhead = Letterhead.for_request(request)
    lines = publication.lines()
    return render(
        request,
        "signatories/public/embed.html",
        {
            "letter": publication.letter,
            "letter_url": _letter_url(request, publication.letter),
            "count": len(lines),
            "names": [line.text for line in lines[:EMBED_NAMES]],
            "more": max(len(lines) - EMBED_NAMES, 0),
            "site_name": letterhead.coalition_name or settings.WAGTAIL_SITE_NAME,
            # A constant of this module, trusted: escaping would change its hash.
            "css": mark_safe(EMBED_CSS),  # noqa: S308
        },
    )


# ---------------------------------------------------------------------------------------------
# The answers of a letter's recipients, once staff published them

FILE_KINDS = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/webp": "WebP image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
}


def published_answers(letter: LetterPage) -> list[PublishedAnswer]:
    """The letter's published answers as its page prints them (the LETTER_ANSWERS setting)."""
    rows = []
    for answer in selectors.published_answers(letter):
        contact = answer.recipient.contact
        who = f"{contact.name}, {contact.title}" if contact.title else contact.name
        path = ""
        if answer.file:
            path = reverse("public:answer_file", args=[letter.slug, answer.public_key])
        rows.append(
            PublishedAnswer(
                who=f"{who} ({contact.organization.name})",
                received_on=answer.received_on,
                text=answer.text,
                file_path=path,
                file_kind=FILE_KINDS.get(answer.file_type, "file"),
                file_size=answer.file_size,
            )
        )
    return rows


@require_safe
def answer_file(request: HttpRequest, slug: str, answer_key: str) -> FileResponse:
    """A published answer as received: a download of the type its bytes showed, never a page."""
    answer = selectors.published_answer(slug, answer_key)
    if answer is None or not answer.file:
        raise Http404("No such answer.")
    response = FileResponse(answer.file.open("rb"), as_attachment=True, filename=answer.file_name)
    response["Content-Type"] = answer.file_type or "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
