"""Reading a Word (.docx) letter into the fields and body blocks of a LetterPage.

Paragraphs, headings, bulleted and numbered lists, bold, italic and links come across. A
leading date line, the addressee block, the salutation and the closing are recognised where
they are plain; anything else stays a paragraph for staff to move.
"""

import datetime
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from html import escape
from typing import IO, Any

from .blocks import Para, WordLetter
from .signatories import list_begins, recognize_signatory_block

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What a small hostile file can cost is bounded before a paragraph is read (100,000 paragraphs
# fit in 127 KB). A letter runs to a few hundred paragraphs; 2,000 is a hundred pages, and about
# what the page editor can still save (DATA_UPLOAD_MAX_NUMBER_FIELDS).
MAX_PARAGRAPHS = 2_000
MAX_ELEMENTS = 500_000
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_PARTS = 1000
# Reading stops after this long, whatever the file holds.
READ_SECONDS = 60
PROGRESS_EVERY = 250
MAX_FRONT_MATTER_LINES = 12
SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
SECTION_ARROWS = "➤►▶▸→➔➜➢Ø"
TYPED_BULLET = re.compile(r"^[•·▪◦‣*\-\u2013\u2014]\s+")
TYPED_NUMBER = re.compile(r"^\(?\d{1,2}[.)]\s+")
SALUTATION = re.compile(r"^(dear|to whom it may concern|madam|sir|mesdames|messieurs)\b", re.I)
DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d %Y")


class WordImportError(Exception):
    """The upload cannot be read as a Word letter; the message says why, for the form."""


def open_document(upload: IO[bytes], *, name: str) -> Any:
    """The python-docx Document of an upload, or WordImportError saying what is wrong with it.

    The limits are checked first: the unpacked size from the zip's directory before anything is
    unpacked, then the number of paragraphs and elements before any is read.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not name.lower().endswith(".docx"):
        raise WordImportError(
            f"“{name}” is not a .docx file. Save it from Word as a .docx document."
        )
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    if size == 0:
        raise WordImportError(f"“{name}” is empty.")
    if size > MAX_UPLOAD_BYTES:
        raise WordImportError(
            f"“{name}” is {size / 1_048_576:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1_048_576} MB."
        )
    if not zipfile.is_zipfile(upload):
        raise WordImportError(
            f"“{name}” is not a Word .docx document (perhaps an old .doc or a renamed file). "
            "Save it from Word as a .docx document."
        )
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            parts = archive.infolist()
            if "word/document.xml" not in {part.filename for part in parts}:
                raise WordImportError(f"“{name}” is a zip archive but not a Word document.")
            _check_unpacked_size(parts, name=name)
        upload.seek(0)
        document = docx.Document(upload)
    except WordImportError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile):
        raise WordImportError(f"“{name}” is not a Word document that can be read.") from None
    except Exception as error:  # lxml and zip errors inside a damaged file
        raise WordImportError(
            f"“{name}” is damaged and cannot be read ({type(error).__name__})."
        ) from None
    _check_counts(document, name=name)
    return document


def _check_unpacked_size(parts: list[zipfile.ZipInfo], *, name: str) -> None:
    # The sizes the directory declares bound what unpacking yields: zipfile stops there and a
    # part that unpacks to more fails its CRC check.
    if len(parts) > MAX_PARTS:
        raise WordImportError(
            f"“{name}” holds {len(parts):,} files; the limit is {MAX_PARTS:,}. "
            "Save it again from Word as a .docx document."
        )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED_BYTES:
        raise WordImportError(
            f"“{name}” unpacks to {unpacked // 1_048_576:,} MB; the limit is "
            f"{MAX_UNPACKED_BYTES // 1_048_576} MB. Remove large images or split the letter."
        )


def paragraph_count(document: Any) -> int:
    """The paragraphs and tables at the top of the document's body: what reading walks."""
    return int(document.element.body.xpath("count(w:p|w:tbl)"))


def _check_counts(document: Any, *, name: str) -> None:
    paragraphs = paragraph_count(document)
    if paragraphs > MAX_PARAGRAPHS:
        raise WordImportError(
            f"“{name}” has {paragraphs:,} paragraphs; the limit is {MAX_PARAGRAPHS:,}. "
            "A letter that long is better split."
        )
    elements = int(document.element.body.xpath("count(.//*)"))
    if elements > MAX_ELEMENTS:
        raise WordImportError(
            f"“{name}” has {elements:,} XML elements in its text; the limit is "
            f"{MAX_ELEMENTS:,}. Save it again from Word, or split the letter."
        )


Progress = Callable[[int, int], None]


def read_word_letter(
    upload: IO[bytes],
    *,
    name: str,
    progress: Progress | None = None,
    time_limit: float = READ_SECONDS,
    boundary: int | None = None,
) -> WordLetter:
    """The letter in a .docx upload; `progress(done, total)` hears how far reading has come.

    The signatory list begins at paragraph `boundary` (counted from 0; the number of paragraphs
    for none) where staff said so, else where it is recognized.
    """
    deadline = time.monotonic() + time_limit
    document = open_document(upload, name=name)
    numbering = _numbering_formats(document)
    styles = _paragraph_style_names(document)
    total = paragraph_count(document)
    paras: list[Para] = []
    tables = 0
    for done, (item, columns) in enumerate(_top_level_items(document), start=1):
        if time.monotonic() > deadline:
            raise WordImportError(
                f"“{name}” took longer than {time_limit:g} s to read; simplify or split it."
            )
        if item.__class__.__name__ == "Table":
            for cell_para in _read_table(item, numbering, styles, table_number=tables):
                cell_para.columns = columns
                paras.append(cell_para)
            tables += 1
        elif (para := _read_paragraph(item, numbering, styles)) is not None:
            para.columns = columns
            paras.append(para)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    if not paras:
        raise WordImportError(f"“{name}” has no text to import.")
    letter = _assemble(paras, boundary=boundary)
    letter.title = (document.core_properties.title or "").strip()[:255] or letter.title
    return letter


def _top_level_items(document: Any) -> Iterator[tuple[Any, int]]:
    """The body's paragraphs and tables in order, each with its section's number of text columns.

    A section's settings (w:sectPr) close it: in the last paragraph of each section but the
    last, whose settings close the body.
    """
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body
    items = body.xpath("w:p|w:tbl")
    columns_of_sections = [
        _columns(section) for section in body.xpath("w:p/w:pPr/w:sectPr|w:sectPr")
    ]
    section = 0
    parent = document._body
    for element in items:
        columns = columns_of_sections[section] if section < len(columns_of_sections) else 1
        if element.tag == qn("w:tbl"):
            yield Table(element, parent), columns
        else:
            yield Paragraph(element, parent), columns
            if element.xpath("w:pPr/w:sectPr"):
                section += 1


def _columns(section: Any) -> int:
    found = section.xpath("w:cols/@w:num")
    try:
        return max(1, int(found[0])) if found else 1
    except ValueError:
        return 1


def _read_table(
    table: Any,
    numbering: dict[tuple[str, str], str],
    styles: dict[str | None, str],
    *,
    table_number: int,
) -> Iterator[Para]:
    """The paragraphs of a table's cells, row by row, each with its cell's place.

    Only the table's own cells: a table nested in a cell is left out with the rest of the table
    when it is in the body, and holds no signatories that anyone types that way.
    """
    from docx.text.paragraph import Paragraph

    for row_number, row in enumerate(table._tbl.xpath("w:tr")):
        for column_number, cell in enumerate(row.xpath("w:tc")):
            for element in cell.xpath("w:p"):
                para = _read_paragraph(Paragraph(element, table), numbering, styles)
                if para is not None:
                    para.table, para.cell = table_number, (row_number, column_number)
                    yield para


def _paragraph_style_names(document: Any) -> dict[str | None, str]:
    """Style id → name of every paragraph style, with None for the default style.

    python-docx's `paragraph.style` searches every style for the default on each call: about
    7 ms a paragraph, 55 s for 8,000 of them. Looked up once here, each paragraph costs a dict.
    """
    from docx.enum.style import WD_STYLE_TYPE

    names: dict[str | None, str] = {None: ""}
    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        names[style.style_id] = style.name or ""
        if style.element.default:
            names[None] = style.name or ""
    return names


def _style_name(paragraph: Any, styles: dict[str | None, str]) -> str:
    # An unknown id falls back to the default, as Word (and python-docx) do.
    return styles.get(paragraph._p.style, styles[None])


def _numbering_formats(document: Any) -> dict[tuple[str, str], str]:
    """(numId, ilvl) → numFmt ("bullet", "decimal", ...), from the document's numbering part."""
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    w = f"{{{ns['w']}}}"
    abstract: dict[str, dict[str, str]] = {}
    for node in root.findall("w:abstractNum", ns):
        levels = {}
        for lvl in node.findall("w:lvl", ns):
            fmt = lvl.find("w:numFmt", ns)
            levels[lvl.get(w + "ilvl")] = fmt.get(w + "val") if fmt is not None else "bullet"
        abstract[node.get(w + "abstractNumId")] = levels
    formats = {}
    for num in root.findall("w:num", ns):
        ref = num.find("w:abstractNumId", ns)
        levels = abstract.get(ref.get(w + "val"), {}) if ref is not None else {}
        for ilvl, fmt in levels.items():
            formats[(num.get(w + "numId"), ilvl)] = fmt
    return formats


def _list_kind(paragraph: Any, numbering: dict[tuple[str, str], str], style: str) -> str | None:
    if style.startswith("List Bullet"):
        return "bullet"
    if style.startswith("List Number"):
        return "number"
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is None or num_pr.numId is None:
        return None
    num_id = str(num_pr.numId.val)
    if num_id == "0":  # numbering explicitly removed
        return None
    ilvl = str(num_pr.ilvl.val) if num_pr.ilvl is not None else "0"
    fmt = numbering.get((num_id, ilvl), "bullet")
    return "bullet" if fmt in {"bullet", "none"} else "number"


def _run_html(run: Any) -> tuple[str, bool]:
    text = escape(run.text, quote=False).replace("\n", "<br/>").replace("\t", " ")
    if not run.text.strip():
        return text, True
    if run.italic:
        text = f"<i>{text}</i>"
    if run.bold:
        text = f"<b>{text}</b>"
    return text, bool(run.bold)


def _read_paragraph(
    paragraph: Any, numbering: dict[tuple[str, str], str], styles: dict[str | None, str]
) -> Para | None:
    parts: list[str] = []
    bold_flags: list[bool] = []
    for item in paragraph.iter_inner_content():
        if item.__class__.__name__ == "Hyperlink":
            inner = []
            for run in item.runs:
                html, bold = _run_html(run)
                inner.append(html)
                bold_flags.append(bold)
            url = (item.url or "").strip()
            if SAFE_LINK.match(url):
                parts.append(f'<a href="{escape(url)}">{"".join(inner)}</a>')
            else:
                parts.append("".join(inner))
        else:
            html, bold = _run_html(item)
            parts.append(html)
            bold_flags.append(bold)
    text = paragraph.text.replace("\t", " ")
    if not text.strip():
        return None
    html = "".join(parts).strip()
    style = _style_name(paragraph, styles)
    kind = _list_kind(paragraph, numbering, style)
    if kind is None and (style.startswith("Heading") or style in {"Title", "Subtitle"}):
        kind = "heading"
    stripped = text.strip()
    if kind is None and TYPED_BULLET.match(stripped):
        kind, html, stripped = (
            "bullet",
            _strip_prefix(html, TYPED_BULLET),
            TYPED_BULLET.sub("", stripped),
        )
    elif kind is None and TYPED_NUMBER.match(stripped):
        kind, html, stripped = (
            "number",
            _strip_prefix(html, TYPED_NUMBER),
            TYPED_NUMBER.sub("", stripped),
        )
    elif kind is None and stripped[:1] in SECTION_ARROWS and stripped[1:2].isspace():
        kind, stripped = "heading", stripped[1:].strip()
    return Para(
        text=stripped,
        html=html,
        kind=kind or "paragraph",
        all_bold=all(bold_flags) if bold_flags else False,
        styled_heading=style.startswith("Heading") or style in {"Title", "Subtitle"},
        lines=[line.strip() for line in text.split("\n") if line.strip()],
    )


def _strip_prefix(html: str, pattern: re.Pattern[str]) -> str:
    """Drop a typed bullet or number from the start of a paragraph's HTML (after any tags)."""
    match = re.match(r"^((?:<[^>]+>)*)(.*)$", html, re.S)
    return match.group(1) + pattern.sub("", match.group(2), count=1) if match else html


def parse_date(text: str) -> datetime.date | None:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip("."))
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _is_plain_line(para: Para) -> bool:
    return (
        para.kind == "paragraph"
        and para.table is None
        and len(para.text) <= 200
        and "<a " not in para.html
    )


def _assemble(paras: list[Para], *, boundary: int | None = None) -> WordLetter:
    letter = WordLetter(paragraphs=paras)
    start = 0
    if paras[0].styled_heading and len(paras) > 1:
        letter.title = paras[0].text[:255]
        start = 1
    # A leading date line: a bare date, or "Place, date" printed as it stands.
    first = paras[start] if start < len(paras) else None
    if first is not None and _is_plain_line(first) and len(first.lines) == 1:
        date = parse_date(first.text)
        if date is None and "," in first.text:
            place, _, rest = first.text.partition(",")
            date = parse_date(rest) if len(place) <= 40 else None
            if date is not None:
                letter.dateline = first.text
        if date is not None:
            letter.letter_date = date
            start += 1
    # The salutation, and the plain lines between the date and it as the addressee block.
    for i in range(start, min(len(paras), start + MAX_FRONT_MATTER_LINES + 1)):
        para = paras[i]
        if _is_plain_line(para) and len(para.text) <= 120 and SALUTATION.match(para.text):
            block = paras[start:i]
            lines = [line for p in block for line in p.lines]
            if all(_is_plain_line(p) for p in block) and len(lines) <= MAX_FRONT_MATTER_LINES:
                letter.recipients = lines
                letter.salutation = para.text
                start = i + 1
            else:
                letter.notes.append(
                    "The addressee block was not plain lines; it was kept as paragraphs at the top "
                    "of the body: move it to Recipients."
                )
            break
    if boundary is not None and not min(start + 1, len(paras)) <= boundary <= len(paras):
        raise WordImportError(
            f"The signatory list cannot begin at line {boundary + 1}: the letter's body runs "
            f"from line {start + 1} to line {len(paras)}."
        )
    found = recognize_signatory_block(paras, start, boundary=boundary)
    letter.body_start = start
    letter.list_start = list_begins(found) if boundary is None else boundary
    letter.read_lines = found.read
    letter.closing = found.closing
    letter.cc = found.cc
    letter.footnotes = found.footnotes
    letter.signatories = found.signatories
    letter.signatory_lines = found.lines
    # Tables have no place in a letter's body; one in the signatory block is read as its list.
    body = paras[start : found.body_end]
    left_out_tables = {p.table for p in body if p.table is not None}
    letter.body = _body_blocks([p for p in body if p.table is None])
    if left_out_tables:
        letter.notes.append(
            f"{len(left_out_tables)} table(s) were left out: letters have no tables."
        )
    letter.notes.extend(found.notes)
    if not letter.title:
        if letter.recipients:
            letter.title = f"Letter to {letter.recipients[0]}"[:255]
        else:
            words = paras[0].text.split()
            letter.title = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    return letter


def _heading(para: Para) -> str:
    """A heading's text, without the arrow the letter printed before it (the template adds one)."""
    return para.text.lstrip(SECTION_ARROWS).strip()[:255]


def _item(para: Para) -> str:
    return f"<p>{para.html}</p>"


def _body_blocks(paras: list[Para]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    i = 0
    while i < len(paras):
        para = paras[i]
        following = paras[i + 1] if i + 1 < len(paras) else None
        heading_like = para.kind == "heading" or (
            para.kind == "paragraph" and para.all_bold and len(para.text) <= 150
        )
        if heading_like and following is not None and following.kind in {"bullet", "number"}:
            kind = following.kind
            j = i + 1
            items = []
            while j < len(paras) and paras[j].kind == kind:
                items.append(_item(paras[j]))
                j += 1
            blocks.append(
                {
                    "type": "section",
                    "value": {
                        "heading": _heading(para),
                        "numbered": kind == "number",
                        "items": items,
                    },
                }
            )
            i = j
        elif para.kind == "heading":
            blocks.append({"type": "heading", "value": _heading(para)})
            i += 1
        elif para.kind in {"bullet", "number"}:
            kind = para.kind
            items = []
            while i < len(paras) and paras[i].kind == kind:
                items.append(_item(paras[i]))
                i += 1
            blocks.append({"type": "bullets" if kind == "bullet" else "numbered", "value": items})
        else:
            blocks.append({"type": "paragraph", "value": f"<p>{para.html}</p>"})
            i += 1
    return blocks
