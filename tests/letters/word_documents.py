"""Small .docx files made with python-docx for the Word import tests."""

import io

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn


def add_link(paragraph, text: str, url: str) -> None:
    """python-docx has no API to write a hyperlink; this is the OOXML it would write."""
    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    text_element = OxmlElement("w:t")
    text_element.text = text
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def sample_letter() -> bytes:
    """A short letter using every feature the import reads."""
    document = docx.Document()
    document.core_properties.title = ""
    document.add_paragraph("March 12, 2025")
    document.add_paragraph("The Honorable Jane Doe")
    document.add_paragraph("Secretary of Widgets\n1 Main Street")
    document.add_paragraph("Dear Secretary Doe:")
    first = document.add_paragraph("We write with ")
    first.add_run("bold").bold = True
    first.add_run(", ")
    first.add_run("italic").italic = True
    first.add_run(" and ")
    add_link(first, "a link", "https://example.org/widgets")
    first.add_run(".")
    document.add_heading("A plain heading", level=2)
    document.add_paragraph("A paragraph under the heading.")
    document.add_paragraph("First bullet", style="List Bullet")
    document.add_paragraph("Second bullet", style="List Bullet")
    document.add_paragraph("A paragraph between the lists.")
    document.add_paragraph("First numbered", style="List Number")
    document.add_paragraph("Second numbered", style="List Number")
    document.add_paragraph("➤ Strengthen Widget Leadership:")
    document.add_paragraph("Section item one", style="List Bullet")
    document.add_paragraph("Section item two", style="List Bullet")
    bold_heading = document.add_paragraph()
    bold_heading.add_run("Prioritize Alignment:").bold = True
    document.add_paragraph("Aligned item", style="List Number")
    document.add_paragraph("We look forward to working with you.")
    document.add_paragraph("Sincerely,")
    document.add_paragraph("Association of Widget Makers")
    document.add_paragraph("cc: Office of the Trade Representative")
    return save(document)


def seed_letter_docx(seed: dict) -> bytes:
    """The seed letter as its authors would have written it in Word."""
    document = docx.Document()
    document.add_paragraph("March 12, 2025")
    document.add_paragraph("\n".join(seed["recipients"]))
    document.add_paragraph(seed["salutation"])
    for block in seed["body"]:
        if block["type"] == "paragraph":
            document.add_paragraph(block["text"])
        elif block["type"] == "heading":
            paragraph = document.add_paragraph()
            paragraph.add_run("➤ " + block["text"]).bold = True
        else:
            for item in block["items"]:
                document.add_paragraph(item, style="List Bullet")
    document.add_paragraph(seed["closing"])
    for signatory in seed["signatories"]:
        document.add_paragraph(signatory.get("display") or signatory["name"])
    return save(document)
