"""Rendering a letter as PDF with WeasyPrint, fetching nothing but the project's own files."""

import dataclasses
import hashlib
import mimetypes
import posixpath
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pydyf  # WeasyPrint's PDF writer, which its finisher gets (untyped: see pyproject)
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from collections.abc import Sequence

    from weasyprint.urls import URLFetcher

    from .lines import SignatoryLine
    from .models import LetterPage

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
    finisher = partial(_mend_for_standards, archival=variant == ARCHIVAL)
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
    # The PDF is the letter as sent: the signatories' names do not link to this site's pages
    # (relative links would point at the fetcher's made-up origin, and WeasyPrint 70 gives a
    # link around a <span> a second annotation outside any Link tag, which PDF/UA-1 refuses).
    lines = [dataclasses.replace(line, url="") for line in lines]
    context = page.letter_context(lines, placeholders=placeholders)
    context["pdf_metadata"] = sorted((metadata or {}).items())
    context["verify_url"] = verify_url
    context["marking"] = marking
    context["verify_qr"] = qr_code(verify_url) if verify_url else ""
    return render_to_string("letters/letter_pdf.html", context)


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
    """The PDF of a letter with the given signatory lines (placeholders stand in for none)."""
    html = letter_pdf_html(
        page,
        lines,
        placeholders=placeholders,
        metadata=metadata,
        verify_url=verify_url,
        marking=marking,
    )
    return render_pdf(
        html, variant=variant, custom_metadata=bool(metadata), attachments=attachments
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


# WeasyPrint 70's tagged output falls short of PDF/UA-1 and PDF/A-3b in a few places. The
# finisher below mends them on the PDF's objects, once WeasyPrint has built them and before the
# file is written; each repair says which rule it answers.


def _mend_for_standards(document: Any, pdf: Any, *, archival: bool) -> None:
    """Repairs WeasyPrint's PDF where it breaks a rule of PDF/UA-1 or PDF/A-3b."""
    _unambiguous_stream_ends(pdf)
    if "Metadata" in pdf.catalog:
        # PDF/A: no filter on the XMP metadata stream (WeasyPrint compresses it with the rest).
        _object(pdf, pdf.catalog["Metadata"]).compress = False
    if archival:
        _without_image_interpolation(pdf)
        _declare_accessible(pdf)
    if "StructTreeRoot" in pdf.catalog:
        decorations = _decorations_out_of_the_tree(pdf)
        _untagged_content_as_artifacts(pdf, decorations)
        _list_item_bodies(pdf)


class _EndOfLineKeptApart:
    """pydyf writes a stream as `stream LF data LF endstream`. When the data itself ends with CR
    (about one compressed stream in twenty-five), a reader takes CR LF for the end-of-line marker
    and the /Length for one byte more than the data (PDF/A 6.1.7.1). Such a stream ends with its
    own CR LF instead, which leaves no doubt where the data stops."""

    @property
    def data(self) -> bytes:
        data: bytes = super().data  # type: ignore[misc]  # a mixin: the stream class it joins has it
        if data.endswith(b"\r\nendstream"):
            return data[: -len(b"\nendstream")] + b"\r\nendstream"
        return data


_KEPT_APART: dict[type, type] = {}


def _kept_apart(item: Any) -> None:
    if isinstance(item, pydyf.Stream) and not isinstance(item, _EndOfLineKeptApart):
        kind = type(item)
        if kind not in _KEPT_APART:
            _KEPT_APART[kind] = type(kind.__name__, (_EndOfLineKeptApart, kind), {})
        item.__class__ = _KEPT_APART[kind]


class _StreamsKeptApart(pydyf.PDF):
    """A PDF whose streams, those it has and those it adds as it writes (the object stream and the
    cross-reference stream, which hold the dates), end as `_EndOfLineKeptApart` says."""

    def add_object(self, object_: Any) -> None:
        _kept_apart(object_)
        super().add_object(object_)


def _unambiguous_stream_ends(pdf: Any) -> None:
    for item in pdf.objects:
        _kept_apart(item)
    pdf.__class__ = _StreamsKeptApart


def _object(pdf: Any, reference: bytes | str) -> Any:
    return pdf.objects[_number(reference)]


def _number(reference: bytes | str) -> int:
    return int(reference.split()[0])


def _elements(pdf: Any) -> list[Any]:
    """Every structure element in the file, in the tree or not."""
    return [
        item
        for item in pdf.objects
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/StructElem"
    ]


# PDF/UA-1 names itself in the XMP metadata (pdfuaid:part); PDF/A allows a property outside its
# predefined schemas only with an extension schema that declares it (PDF/A-1 6.7.8, kept by
# PDF/A-3), so the archival file declares both in WeasyPrint's RDF.
_ACCESSIBLE = b"""<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\
<pdfuaid:part>1</pdfuaid:part></rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><pdfaExtension:schemas><rdf:Bag>\
<rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>The part of ISO 14289 the file conforms to</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>\
</rdf:Description>
"""


def _declare_accessible(pdf: Any) -> None:
    """The archival file is PDF/UA-1 too: say so where both standards look."""
    metadata = _object(pdf, pdf.catalog["Metadata"])
    xml = b"".join(metadata.stream)
    metadata.stream = [xml.replace(b"</rdf:RDF>", _ACCESSIBLE + b"</rdf:RDF>", 1)]


def _without_image_interpolation(pdf: Any) -> None:
    """PDF/A forbids /Interpolate true, which WeasyPrint sets for `image-rendering: auto`."""
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.extra.get("Subtype") == "/Image":
            item.extra["Interpolate"] = "false"


def _decorations_out_of_the_tree(pdf: Any) -> set[int]:
    """Images with empty alternative text (alt="", the signatories' logos) are decoration.

    WeasyPrint tags every image as a Figure, and PDF/UA-1 wants a Figure to have alternative
    text; decoration is an artifact instead. Our templates give every other image its alt text.
    """
    decorations = set()
    for item in _elements(pdf):
        if item["S"] == "/Figure" and not (item.get("Alt") or item.get("ActualText")):
            siblings = _object(pdf, item["P"])["K"]
            if item.reference in siblings:  # not so in a page margin, whose tags hang loose
                siblings.remove(item.reference)
            decorations.add(item.number)
    return decorations


def _in_the_tree(pdf: Any) -> set[int]:
    """The object numbers of the structure elements that the tree reaches from its root."""
    reached: set[int] = set()
    todo = list(_object(pdf, pdf.catalog["StructTreeRoot"])["K"])
    while todo:
        kid = todo.pop()
        if isinstance(kid, int) or _number(kid) in reached:  # an int is marked content
            continue
        reached.add(_number(kid))
        element = _object(pdf, kid)
        if element.get("Type") == "/StructElem":
            todo.extend(element["K"])
    return reached


def _untagged_content_as_artifacts(pdf: Any, decorations: set[int]) -> None:
    """Marked content that the structure tree does not reach becomes an artifact.

    That is the text of the page margins (running title, footer, "Page 2 of 5"): WeasyPrint
    marks it as content and gives it structure elements that it leaves out of the tree
    (Kozea/WeasyPrint#1836), so it still reads as content, on every page. It becomes a
    pagination artifact, as do decorations a layout one; the elements go, and each page's
    marked content is numbered again without them.
    """
    root = _object(pdf, pdf.catalog["StructTreeRoot"])
    reached = _in_the_tree(pdf)
    page_references = pdf.page_references
    new_numbers: dict[bytes, dict[int, int]] = {}
    artifacts: dict[bytes, dict[int, str]] = {}
    nums = _object(pdf, root["ParentTree"])["Nums"]
    for key, parents in zip(nums[::2], nums[1::2], strict=True):
        if not isinstance(parents, list):  # an annotation's parent, not a page's content
            continue
        page = page_references[key]
        new_numbers[page], artifacts[page] = {}, {}
        kept: list[bytes] = []
        for mcid, parent in enumerate(parents):
            if _number(parent) in reached:
                new_numbers[page][mcid] = len(kept)
                kept.append(parent)
            else:
                artifacts[page][mcid] = (
                    "/Layout" if _number(parent) in decorations else "/Pagination"
                )
        parents[:] = kept
    for page, numbers in new_numbers.items():
        operations = _object(pdf, _object(pdf, page)["Contents"]).stream
        for index, operand in enumerate(operations):
            if isinstance(operand, dict) and "MCID" in operand:
                mcid = operand.pop("MCID")
                if mcid in numbers:
                    operand["MCID"] = numbers[mcid]
                else:  # `/Span <</MCID 7>> BDC` becomes `/Artifact <</Type /Pagination>> BDC`
                    operations[index - 1] = "/Artifact"
                    operand["Type"] = artifacts[page][mcid]
    for element in _elements(pdf):
        if element.number not in reached:
            element.clear()  # referenced by nothing now; pydyf cannot unnumber an object
        elif numbers := new_numbers.get(element.get("Pg"), {}):
            element["K"][:] = [numbers[k] if isinstance(k, int) else k for k in element["K"]]


def _list_item_bodies(pdf: Any) -> None:
    """What a list item holds besides its label goes into an LBody (PDF/UA-1: LI kids).

    WeasyPrint adds the LBody only when the item's text is inline: an item whose rich text
    is a paragraph (<li><p>) gets its P straight under the LI.
    """
    for item in [element for element in _elements(pdf) if element["S"] == "/LI"]:
        kids, body = pydyf.Array(), None
        for kid in item["K"]:
            child = None if isinstance(kid, int) else _object(pdf, kid)
            if child is not None and child.get("S") in ("/Lbl", "/LBody"):
                kids.append(kid)
                body = None
                continue
            if body is None:
                body = pydyf.Dictionary(
                    {
                        "Type": "/StructElem",
                        "S": "/LBody",
                        "K": pydyf.Array(),
                        "Pg": item["Pg"],
                        "P": item.reference,
                    }
                )
                pdf.add_object(body)
                kids.append(body.reference)
            body["K"].append(kid)
            if child is not None:
                child["P"] = body.reference
        item["K"] = kids
