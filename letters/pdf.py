"""Rendering a letter as PDF with WeasyPrint, fetching nothing but the project's own files."""

import hashlib
import mimetypes
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

    from .models import LetterPage, SignatoryLine

PDF_ORIGIN = "https://pdf.invalid/"


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


#: Every letter PDF is tagged for accessibility (PDF/UA-1); archives ask for "pdf/a-3b".
DEFAULT_VARIANT = "pdf/ua-1"
VARIANTS = ("pdf/ua-1", "pdf/a-3b")


def render_pdf(html: str, *, variant: str | None = None, custom_metadata: bool = False) -> bytes:
    """Turn trusted, autoescaped HTML into a tagged PDF (PDF/UA-1 unless another variant is asked)."""
    # Imported here: WeasyPrint loads Pango, which the web process may never need.
    from weasyprint import HTML

    variant = variant or DEFAULT_VARIANT
    if variant not in VARIANTS:
        raise ValueError(f"unknown PDF variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    # Tags on every variant: PDF/A-3b does not require them, but screen readers still need them.
    options: dict[str, object] = {
        "pdf_variant": variant,
        "pdf_tags": True,
        "custom_metadata": custom_metadata,
    }
    document = HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=local_only_fetcher())
    return document.write_pdf(**options)


def letter_pdf_html(
    page: "LetterPage",
    lines: "list[SignatoryLine]",
    *,
    placeholders: bool = False,
    metadata: dict[str, str] | None = None,
) -> str:
    """The HTML WeasyPrint turns into the letter's PDF; `metadata` adds entries to the PDF's info."""
    context = page.letter_context(lines, placeholders=placeholders)
    context["pdf_metadata"] = sorted((metadata or {}).items())
    return render_to_string("letters/letter_pdf.html", context)


def render_letter_pdf(
    page: "LetterPage",
    lines: "list[SignatoryLine]",
    *,
    variant: str | None = None,
    placeholders: bool = False,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """The PDF of a letter with the given signatory lines (placeholders stand in for none)."""
    html = letter_pdf_html(page, lines, placeholders=placeholders, metadata=metadata)
    return render_pdf(html, variant=variant, custom_metadata=bool(metadata))


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
    pdf = render_pdf(html, variant=variant)
    if not default_storage.exists(name):  # another worker may have rendered it meanwhile
        default_storage.save(name, ContentFile(pdf))
    return pdf


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
