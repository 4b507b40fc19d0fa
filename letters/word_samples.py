"""Sample Word letters for newcomers to try the import page with: a finished joint statement as
coalitions write them, with no closing line and its signatories in two text columns under the
headings "Organizations" and "Individuals", affiliations for identification only; and a letter
written the ordinary way, its signatories typed one per line with nothing before them.
"""

import io
from typing import Any

import docx
from docx.enum.section import WD_SECTION
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

ORGANIZATIONS = [
    "Association of Widget Makers (AWM)",
    "Consumer Technology Association (CTA)",
    "Engine",
    "Friends of the Open Internet",
    "Global Innovation Forum",
    "Open Rights Group",
]
INDIVIDUALS = [
    "Dr. Jane Roe, Professor of Law, University of Leuven",
    "John Smith, Open Data Institute",
    "Ana Ruiz, Senior Fellow, Hertie School",
]


def start_columns(document: Any, count: int) -> None:
    """What follows flows in `count` text columns: a continuous section break, then w:cols."""
    document.add_section(WD_SECTION.CONTINUOUS)
    section = document.sections[-1]._sectPr
    columns = section.find(qn("w:cols"))
    if columns is None:
        columns = OxmlElement("w:cols")
        section.append(columns)
    columns.set(qn("w:num"), str(count))


def sample_signed_letter_docx() -> bytes:
    """The sample statement as a .docx file."""
    document = docx.Document()
    document.core_properties.title = "Joint statement on open digital markets"
    document.add_paragraph("Joint statement on open digital markets", style="Title")
    document.add_paragraph("Brussels, 12 March 2025")
    document.add_paragraph(
        "We, the organizations and individuals below, call on the European institutions to "
        "keep digital markets open to innovators of every size."
    )
    document.add_paragraph("What we ask", style="Heading 2")
    for item in (
        "Keep cross-border data flows free of needless barriers;",
        "Consult small businesses before new rules are adopted;",
        "Publish the evidence behind each proposal.",
    ):
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph(
        "We stand ready to work with the institutions on rules that serve everyone."
    )
    # The signatories flow in two text columns, as printed statements often set them.
    start_columns(document, 2)
    document.add_paragraph("Organizations", style="Heading 2")
    for line in ORGANIZATIONS:
        document.add_paragraph(line)
    document.add_paragraph("Individuals", style="Heading 2")
    for line in INDIVIDUALS:
        document.add_paragraph(line)
    document.add_paragraph("* Affiliations are listed for identification purposes only.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PLAIN_SIGNATORIES = [
    "AlterMundi",
    "Alvatal",
    "ANSOL",
    "Open Rights Group",
    "Ελένη Παπαδοπούλου",
    "Jane Roe",
]


def sample_plain_lines_letter_docx() -> bytes:
    """A letter written the ordinary way: title, a heading and a list, then its signatories typed
    one per line, with no closing line and no heading before them."""
    document = docx.Document()
    document.core_properties.title = "Letter on community networks"
    document.add_paragraph("Letter on community networks", style="Title")
    document.add_paragraph(
        "We write to ask the Commission to keep spectrum open to the community networks that "
        "connect the places markets leave out."
    )
    document.add_paragraph("What we ask", style="Heading 2")
    for item in ("Reserve spectrum for local operators;", "Fund training in rural areas."):
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph("We would welcome the chance to discuss these proposals with you.")
    for line in PLAIN_SIGNATORIES:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
