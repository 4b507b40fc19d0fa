"""Rendering a letter as PDF with WeasyPrint, fetching nothing but the project's own files."""

import dataclasses
import hashlib
import mimetypes
import posixpath
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from . import pdf_parts
from .pdf_standards import mend_for_standards

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from weasyprint.urls import URLFetcher

    from .lines import SignatoryGroup, SignatoryLine
    from .models import LetterPage

PDF_ORIGIN = "https://pdf.invalid/"

#: From this many signatory lines on, the PDF prints the names run-in (`RunInGroup`): one list
#: item per name gives WeasyPrint some ten tagged objects to lay out and write per name, which
#: at a hundred thousand names outgrows a gigabyte of memory and the validators' object limit.
#: Run-in names print without their logos.
RUN_IN_FROM = 2000
#: Names per run-in paragraph: short enough that WeasyPrint breaks each into lines quickly.
RUN_IN_PARAGRAPH = 200


def _safe_relative(path: str) -> str | None:
    """The path below a prefix, or None if it tries to climb out of it."""
    cleaned = posixpath.normpath(unquote(path)).lstrip("/")
    if cleaned.startswith("..") or cleaned in {"", "."} or "\x00" in cleaned:
        return None
    return cleaned


def read_local_url(url: str) -> tuple[bytes, str]:
    """The bytes and content type of a /static/ or /media/ URL of this project.

    Raises ValueError for anything else: other schemes (file:, http:), other hosts, paths
    outside the static and media roots.
    """
    stored = _stored_media_name(url)
    if stored is not None and default_storage.exists(stored):
        with default_storage.open(stored, "rb") as fh:
            return fh.read(), mimetypes.guess_type(stored)[0] or "application/octet-stream"
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != PDF_ORIGIN or parts.query:
        raise ValueError(f"blocked URL {url!r}: only the project's own static and media files")
    for prefix in (settings.STATIC_URL, settings.MEDIA_URL):
        if not parts.path.startswith(prefix):
            continue
        relative = _safe_relative(parts.path[len(prefix) :])
        if relative is None:
            break
        ctype = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        if prefix == settings.STATIC_URL:
            root = Path(settings.STATIC_ROOT).resolve()
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return candidate.read_bytes(), ctype
            found = finders.find(relative)
            if found:
                return Path(found).read_bytes(), ctype
        elif default_storage.exists(relative):
            with default_storage.open(relative, "rb") as fh:
                return fh.read(), ctype
        break
    raise ValueError(f"blocked URL {url!r}: not a static or media file of this project")


def _stored_media_name(url: str) -> str | None:
    """The file in media storage behind an absolute address of it, as S3 storage gives for a
    logo (https://bucket.s3.amazonaws.com/original_images/…); None for any other address."""
    probe = "probe"
    base = default_storage.url(probe)[: -len(probe)]
    if "://" not in base or not url.startswith(base) or "?" in url or "#" in url:
        return None
    return _safe_relative(url[len(base) :])


def local_only_fetcher() -> "URLFetcher":
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        """Serves only the project's static and media files; a missing font fails the render."""

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            try:
                body, ctype = read_local_url(url)
            except ValueError as error:
                if urlsplit(url).path.endswith((".ttf", ".woff", ".woff2", ".css")):
                    raise FatalURLFetchingError(str(error)) from error
                raise
            return URLFetcherResponse(url, body, {"Content-Type": ctype})

    return LocalOnlyFetcher()


#: Every letter PDF is tagged for accessibility (PDF/UA-1). "pdf/a-3b" is PDF/A-3b and PDF/UA-1
#: in one file: the archival copy staff download, and every published version.
DEFAULT_VARIANT = "pdf/ua-1"
ARCHIVAL = "pdf/a-3b"
VARIANTS = (DEFAULT_VARIANT, ARCHIVAL)


@dataclasses.dataclass(frozen=True)
class AssociatedFile:
    """A file the PDF carries inside it (PDF/A-3's associated files), tied to the document."""

    name: str
    data: bytes
    description: str
    # ISO 32000-2, 7.11.3: "Data" is what the document presents, "Supplement" adds to it.
    relationship: str = "Data"


@dataclasses.dataclass(frozen=True)
class RunInGroup:
    """A group of a very long list as the PDF prints it: its heading, then its names run-in,
    in paragraphs of at most `RUN_IN_PARAGRAPH` names (templates/letters/includes/letter_text.html)."""

    heading: str
    lines: "list[SignatoryLine]"

    @property
    def paragraphs(self) -> "list[list[SignatoryLine]]":
        return [
            self.lines[start : start + RUN_IN_PARAGRAPH]
            for start in range(0, len(self.lines), RUN_IN_PARAGRAPH)
        ]


def render_pdf(
    html: str,
    *,
    variant: str | None = None,
    custom_metadata: bool = False,
    attachments: "Sequence[AssociatedFile]" = (),
) -> bytes:
    """Turn trusted, autoescaped HTML into a tagged PDF (PDF/UA-1 unless another variant is asked)."""
    # Imported here: WeasyPrint loads Pango, which the web process may never need.
    from weasyprint import HTML, Attachment

    variant = variant or DEFAULT_VARIANT
    if variant not in VARIANTS:
        raise ValueError(f"unknown PDF variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    if attachments and variant != ARCHIVAL:
        raise ValueError("associated files are a PDF/A-3 feature: render them as pdf/a-3b")
    # Tags on every variant: PDF/A-3b does not require them, but screen readers still need them.
    options: dict[str, object] = {
        "pdf_variant": variant,
        "pdf_tags": True,
        "custom_metadata": custom_metadata,
        "attachments": [
            Attachment(
                string=item.data,
                name=item.name,
                description=item.description,
                relationship=item.relationship,
            )
            for item in attachments
        ],
    }
    document = HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=local_only_fetcher())
    finisher = partial(mend_for_standards, archival=variant == ARCHIVAL)
    return document.write_pdf(finisher=finisher, **options)


def letter_pdf_html(
    page: "LetterPage",
    lines: "list[SignatoryLine]",
    *,
    placeholders: bool = False,
    metadata: dict[str, str] | None = None,
    verify_url: str = "",
    marking: str = "",
) -> str:
    """The HTML WeasyPrint turns into the letter's PDF; `metadata` adds entries to the PDF's info,
    `verify_url` prints where a copy is verified, with its QR code, and `marking` heads every
    page ("Embargoed until …")."""
    context = _letter_pdf_context(
        page,
        lines,
        placeholders=placeholders,
        metadata=metadata,
        verify_url=verify_url,
        marking=marking,
    )
    return render_to_string("letters/letter_pdf.html", context)


def _letter_pdf_context(
    page: "LetterPage",
    lines: "list[SignatoryLine]",
    *,
    placeholders: bool,
    metadata: dict[str, str] | None,
    verify_url: str,
    marking: str,
) -> dict[str, Any]:
    # The PDF is the letter as sent: the signatories' names do not link to this site's pages
    # (relative links would point at the fetcher's made-up origin, and WeasyPrint 70 gives a
    # link around a <span> a second annotation outside any Link tag, which PDF/UA-1 refuses).
    lines = [dataclasses.replace(line, url="") for line in lines]
    context = page.letter_context(lines, placeholders=placeholders)
    if len(lines) >= RUN_IN_FROM:
        context["signatory_groups"] = [
            RunInGroup(heading=group.heading, lines=group.lines)
            for group in context["signatory_groups"]
        ]
    context["pdf_metadata"] = sorted((metadata or {}).items())
    context["verify_url"] = verify_url
    context["marking"] = marking
    context["verify_qr"] = qr_code(verify_url) if verify_url else ""
    return context


def qr_code(url: str) -> str:
    """A QR code of the address, as an SVG data URI: WeasyPrint draws it as vectors."""
    import segno

    svg: str = segno.make(url, error="m").svg_data_uri(border=0, scale=4, dark="#000")
    return svg


def render_letter_pdf(
    page: "LetterPage",
    lines: "list[SignatoryLine]",
    *,
    variant: str | None = None,
    placeholders: bool = False,
    metadata: dict[str, str] | None = None,
    verify_url: str = "",
    attachments: "Sequence[AssociatedFile]" = (),
    marking: str = "",
) -> bytes:
    """The PDF of a letter with the given signatory lines (placeholders stand in for none);
    rendered in parts and joined past `part_size` lines."""
    context = _letter_pdf_context(
        page,
        lines,
        placeholders=placeholders,
        metadata=metadata,
        verify_url=verify_url,
        marking=marking,
    )
    if len(lines) > part_size(len(lines)):
        return _render_in_parts(
            context,
            part_size(len(lines)),
            variant=variant,
            custom_metadata=bool(metadata),
            attachments=attachments,
        )
    return render_pdf(
        render_to_string("letters/letter_pdf.html", context),
        variant=variant,
        custom_metadata=bool(metadata),
        attachments=attachments,
    )


def stored_letter_pdf(
    page: "LetterPage", lines: "list[SignatoryLine]", *, variant: str | None = None
) -> bytes:
    """The letter's PDF for this text and signatory list, rendered once and then kept.

    The file is named after a hash of everything that prints, so the same revision and list
    are served from storage, and any change (text, letterhead, signatories) renders anew.
    """
    html = letter_pdf_html(page, lines)
    name = _stored_name(page, html, variant)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as fh:
            return fh.read()
    if len(lines) > part_size(len(lines)):
        pdf = render_letter_pdf(page, lines, variant=variant)
    else:
        pdf = render_pdf(html, variant=variant)
    if not default_storage.exists(name):  # another worker may have rendered it meanwhile
        default_storage.save(name, ContentFile(pdf))
    return pdf


def part_size(count: int) -> int:
    """How many of a list's `count` lines one part of its PDF holds (letters.pdf_parts)."""
    return pdf_parts.RUN_IN_PART_SIZE if count >= RUN_IN_FROM else pdf_parts.PART_SIZE


def _render_in_parts(
    context: dict[str, Any],
    size: int,
    *,
    variant: str | None,
    custom_metadata: bool,
    attachments: "Sequence[AssociatedFile]",
) -> bytes:
    """The letter with a long list, rendered a part at a time and joined (letters.pdf_parts).

    The first part is the letter with the start of the list, each further part continues the
    list, and the last ends with the cc and footnotes. Every page prints "Page N of M": a first
    pass lays out each part only to count its pages, the second renders each with its first page
    number and the total. Each part's layout is freed before the next is made, so memory stays
    that of one part, at the cost of laying out the list twice.
    """
    parts = list_parts(context["signatory_groups"], size)
    last = len(parts) - 1

    def html_of(index: int, first_page: int, pages_total: int) -> str:
        part = {
            "signatory_groups": parts[index],
            "list_only": index > 0,
            "list_continues": index < last,
            "first_page": first_page,
            "pages_total": pages_total,
        }
        return render_to_string("letters/letter_pdf.html", context | part)

    counts = [page_count(html_of(index, 1, 0), variant=variant) for index in range(len(parts))]
    total = sum(counts)

    def rendered() -> "Iterator[bytes]":
        first_page = 1
        for index, count in enumerate(counts):
            html = html_of(index, first_page, total)
            yield render_pdf(
                html,
                variant=variant,
                custom_metadata=custom_metadata,
                attachments=attachments if index == 0 else (),
            )
            first_page += count

    return pdf_parts.join_parts(rendered())


def list_parts[G: (SignatoryGroup, RunInGroup)](groups: list[G], size: int) -> list[list[G]]:
    """The groups of a list cut into parts of `size` lines; a group cut in two keeps its heading
    in the part where it begins."""
    parts: list[list[G]] = [[]]
    room = size
    for group in groups:
        start = 0
        while start < len(group.lines):
            if room == 0:
                parts.append([])
                room = size
            taken = group.lines[start : start + room]
            heading = group.heading if start == 0 else ""
            parts[-1].append(dataclasses.replace(group, heading=heading, lines=taken))
            start += len(taken)
            room -= len(taken)
    return parts


def page_count(html: str, *, variant: str | None) -> int:
    """How many pages WeasyPrint lays the HTML out on (layout only: nothing is drawn)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=local_only_fetcher()).render(
        pdf_variant=variant or DEFAULT_VARIANT, pdf_tags=True
    )
    return len(document.pages)


def stored_pdf_name(
    page: "LetterPage", lines: "list[SignatoryLine]", *, variant: str | None = None
) -> str:
    """Where stored_letter_pdf keeps this rendering."""
    return _stored_name(page, letter_pdf_html(page, lines), variant)


def _stored_name(page: "LetterPage", html: str, variant: str | None) -> str:
    variant = variant or DEFAULT_VARIANT
    key = hashlib.sha256(f"{variant}\n{html}".encode()).hexdigest()
    suffix = "" if variant == DEFAULT_VARIANT else "-pdfa"
    return f"letters/pdf/{page.slug}-{key[:24]}{suffix}.pdf"


# WeasyPrint 70's tagged output falls short of PDF/UA-1 and PDF/A-3b in a few places. The
# finisher below mends them on the PDF's objects, once WeasyPrint has built them and before the
# file is written; each repair says which rule it answers.
