"""A letter and its printed signatories written as an interchange document."""

from typing import Any

from letters.models import LetterPage

from ..models import Signature
from .body import rich_to_paragraphs


def export_letter(letter: LetterPage) -> dict[str, Any]:
    """The letter and its printed signatories as an interchange document."""
    document: dict[str, Any] = {"title": letter.title}
    if letter.letter_date:
        document["date"] = letter.letter_date.isoformat()
    if letter.dateline:
        document["dateline"] = letter.dateline
    if letter.recipient_lines:
        document["recipients"] = letter.recipient_lines
    if letter.salutation:
        document["salutation"] = letter.salutation
    body: list[dict[str, Any]] = []
    for block in letter.body:
        if block.block_type == "paragraph":
            body.extend({"type": "paragraph", "text": p} for p in rich_to_paragraphs(block.value))
        elif block.block_type == "heading":
            body.append({"type": "heading", "text": block.value})
        elif block.block_type in {"bullets", "numbered"}:
            body.append({"type": block.block_type, "items": _items(block.value)})
        elif block.block_type == "section":
            body.append({"type": "heading", "text": block.value["heading"]})
            kind = "numbered" if block.value["numbered"] else "bullets"
            body.append({"type": kind, "items": _items(block.value["items"])})
    document["body"] = body
    if letter.closing:
        document["closing"] = letter.closing
    if letter.cc_lines:
        document["cc"] = letter.cc_lines
    if letter.footnote_lines:
        document["footnotes"] = letter.footnote_lines
    document["signatories"] = [
        _export_signatory(s) for s in Signature.objects.printable_in_order(letter)
    ]
    return document


def _items(values: Any) -> list[str]:
    return ["<br>".join(rich_to_paragraphs(value)) for value in values]


def _export_signatory(signature: Signature) -> dict[str, Any]:
    item: dict[str, str] = {}
    org = signature.organization
    if org is not None:
        item["name"] = org.name
        if org.acronym:
            item["acronym"] = org.acronym
        default = f"{org.name} ({org.acronym})" if org.acronym else org.name
        if signature.display_name != default:
            item["display"] = signature.display_name
        if signature.signer_name:
            item["signer"] = signature.signer_name
        if signature.signer_title:
            item["title"] = signature.signer_title
        website, country = org.website, org.country
    else:
        item["person"] = signature.signer_name
        if signature.signer_title:
            item["title"] = signature.signer_title
        if signature.affiliation:
            item["affiliation"] = signature.affiliation
        default = Signature.default_individual_line(
            signature.signer_name, signature.signer_title, signature.affiliation
        )
        if signature.display_name != default:
            item["display"] = signature.display_name
        website, country = signature.website, signature.country
    if signature.group:
        item["group"] = signature.group
    if website:
        item["website"] = website
    if country:
        item["country"] = country
    return item
