"""Writing a letter in the interchange format (letter.schema.json) as a Word file, as its authors
would type it: date, addressee, salutation, body, closing, then the signatories as printed, under
their group headings, typed one per line, in a list, in a Word table or in two text columns.

The tests own it: a letter exported as JSON, written here and imported back must read the same.
What Word cannot show is not written: footnotes, and a signatory's website and country.
"""

import datetime
import io
from html.parser import HTMLParser
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.run import Run

from letters.word_samples import start_columns

LAYOUTS = ("lines", "list", "table", "columns")


def printed_line(signatory: dict[str, str]) -> str:
    """A signatory's line as the letter prints it (the interchange format's "display" rule)."""
    if "display" in signatory:
        return signatory["display"]
    if "person" in signatory:
        parts = (signatory["person"], signatory.get("title", ""), signatory.get("affiliation", ""))
        return ", ".join(part for part in parts if part)
    if "acronym" in signatory:
        return f"{signatory['name']} ({signatory['acronym']})"
    return signatory["name"]


class _Runs(HTMLParser):
    """The schema's inline HTML (b, strong, i, em, br, a) written as runs of one paragraph."""

    def __init__(self, paragraph: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraph = paragraph
        self.bold = self.italic = 0
        self.link: Any = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"b", "strong"}:
            self.bold += 1
        elif tag in {"i", "em"}:
            self.italic += 1
        elif tag == "br":
            self._run("").add_break()
        elif tag == "a":
            url = dict(attrs).get("href") or ""
            rel_id = self.paragraph.part.relate_to(
                url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True
            )
            self.link = OxmlElement("w:hyperlink")
            self.link.set(qn("r:id"), rel_id)
            self.paragraph._p.append(self.link)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"b", "strong"}:
            self.bold -= 1
        elif tag in {"i", "em"}:
            self.italic -= 1
        elif tag == "a":
            self.link = None

    def handle_data(self, data: str) -> None:
        self._run(data)

    def _run(self, text: str) -> Run:
        if self.link is None:
            run = self.paragraph.add_run(text)
        else:
            element = OxmlElement("w:r")
            self.link.append(element)
            run = Run(element, self.paragraph)
            run.text = text
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        return run


def add_inline(document: Any, html: str, style: str | None = None) -> Any:
    paragraph = document.add_paragraph(style=style)
    writer = _Runs(paragraph)
    writer.feed(html)
    writer.close()
    return paragraph


def letter_docx(
    letter: dict[str, Any], *, layout: str = "lines", closing: bool = True, headings: bool = True
) -> bytes:
    """The letter as a .docx file; `layout` is how its signatories are set out."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout is one of {LAYOUTS}")
    document = docx.Document()
    document.core_properties.title = letter.get("title", "")
    if letter.get("dateline"):
        document.add_paragraph(letter["dateline"])
    elif letter.get("date"):
        date = datetime.date.fromisoformat(letter["date"])
        document.add_paragraph(f"{date:%B} {date.day}, {date.year}")
    for line in letter.get("recipients", []):
        document.add_paragraph(line)
    if letter.get("salutation"):
        document.add_paragraph(letter["salutation"])
    for block in letter["body"]:
        if block["type"] == "paragraph":
            add_inline(document, block["text"])
        elif block["type"] == "heading":
            document.add_paragraph(block["text"], style="Heading 2")
        else:
            style = "List Bullet" if block["type"] == "bullets" else "List Number"
            for item in block["items"]:
                add_inline(document, item, style=style)
    if closing and letter.get("closing"):
        document.add_paragraph(letter["closing"])
    if layout == "columns":
        # The letter so far is one section of one column; the signatories flow in two.
        start_columns(document, 2)
    for group, signatories in _groups(letter["signatories"]):
        if group and headings:
            document.add_paragraph(group, style="Heading 2")
        lines = [printed_line(s) for s in signatories]
        if layout == "table":
            _table(document, lines)
        else:
            style = "List Bullet" if layout == "list" else None
            for line in lines:
                document.add_paragraph(line, style=style)
    for line in letter.get("cc", []):
        document.add_paragraph(f"cc: {line}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _groups(signatories: list[dict[str, str]]) -> list[tuple[str, list[dict[str, str]]]]:
    """Consecutive signatories of one group, as the letter prints them under one heading."""
    groups: list[tuple[str, list[dict[str, str]]]] = []
    for signatory in signatories:
        group = signatory.get("group", "")
        if groups and groups[-1][0] == group:
            groups[-1][1].append(signatory)
        else:
            groups.append((group, [signatory]))
    return groups


def _table(document: Any, lines: list[str], columns: int = 2) -> None:
    """Lines in a table of two columns, row by row, as people fill one in Word."""
    rows = -(-len(lines) // columns)
    table = document.add_table(rows=rows, cols=columns)
    for n, line in enumerate(lines):
        table.cell(n // columns, n % columns).text = line
