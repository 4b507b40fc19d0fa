"""The letter interchange format (schema/letter.schema.json): validation, import and export."""

import datetime
import html
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from jsonschema import Draft202012Validator

from coalition.models import Organization, name_key
from coalition.selectors import best_named, organizations_named
from letters.models import LetterPage
from letters.services import ensure_letter_archive, unique_slug

from .models import Signature
from .services import Actor, publish_letter

SCHEMA = json.loads((Path(__file__).parent / "schema" / "letter.schema.json").read_text())
BLOCK_TYPES = ("paragraph", "heading", "bullets", "numbered")
INLINE_TAGS = {"b", "strong", "i", "em", "br", "a"}


class LetterDocumentError(Exception):
    """A letter document that cannot be imported; `problems` names each with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _describe(error: Any) -> list[str]:
    """Readable messages for one schema error, looking inside oneOf where that helps."""
    path = list(error.absolute_path)
    where = json_path(path)
    instance = error.instance
    if (
        error.validator == "oneOf"
        and len(path) == 2
        and path[0] == "body"
        and isinstance(instance, dict)
    ):
        block_type = instance.get("type")
        if block_type not in BLOCK_TYPES:
            return [
                f"{where}.type: unknown block type {block_type!r}; expected one of {', '.join(BLOCK_TYPES)}"
            ]
        branch = SCHEMA["properties"]["body"]["items"]["oneOf"]
        for subschema in branch:
            allowed = subschema["properties"]["type"]
            if allowed.get("const") == block_type or block_type in allowed.get("enum", ()):
                sub = Draft202012Validator(subschema)
                return [
                    msg
                    for sub_error in sub.iter_errors(instance)
                    for msg in _describe_at(sub_error, path)
                ]
    if error.validator == "oneOf" and len(path) == 2 and path[0] == "signatories":
        if isinstance(instance, dict) and "name" in instance and "person" in instance:
            return [
                f"{where}: give either name (an organization) or person (an individual), not both"
            ]
        if isinstance(instance, dict):
            return [
                f"{where}: a signatory needs a name (an organization) or a person (an individual)"
            ]
    return [f"{where}: {error.message}"]


def _describe_at(error: Any, prefix: list[Any]) -> list[str]:
    return [f"{json_path(prefix + list(error.absolute_path))}: {error.message}"]


def validate_document(document: Any) -> list[str]:
    """Every problem in a letter document, each with its JSON path; empty when it is valid."""
    if not isinstance(document, dict):
        return ["$: a letter document must be a JSON object"]
    validator = Draft202012Validator(SCHEMA)
    problems: list[str] = []
    for error in sorted(
        validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
    ):
        problems.extend(_describe(error))
    date = document.get("date")
    if isinstance(date, str):
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                raise ValueError
            datetime.date.fromisoformat(date)
        except ValueError:
            problems.append(f"$.date: {date!r} is not a date in the form YYYY-MM-DD")
    signatories = document.get("signatories")
    if isinstance(signatories, list):
        url_validator = URLValidator(schemes=["http", "https"])
        seen: dict[str, int] = {}
        for i, item in enumerate(signatories):
            if not isinstance(item, dict):
                continue
            website = item.get("website")
            if isinstance(website, str):
                try:
                    url_validator(website)
                except ValidationError:
                    problems.append(
                        f"$.signatories[{i}].website: {website!r} is not an http(s) address"
                    )
            name = item.get("name")
            if isinstance(name, str) and "person" not in item:
                key = name_key(name)
                if key in seen:
                    problems.append(
                        f"$.signatories[{i}].name: {name!r} is already listed at $.signatories[{seen[key]}]"
                    )
                else:
                    seen[key] = i
    return problems


def clean_inline(text: str) -> str:
    """Sanitise inline HTML to the tags the schema allows, in the form Wagtail's editor stores."""
    cleaned = nh3.clean(
        text,
        tags=INLINE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    cleaned = re.sub(r"<(/?)strong>", r"<\1b>", cleaned)
    return re.sub(r"<(/?)em>", r"<\1i>", cleaned)


def _rich(text: str) -> str:
    return f"<p>{clean_inline(text)}</p>"


class _InlineText(HTMLParser):
    """Rich text back to the schema's inline text: paragraphs split, allowed tags kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            if self.paragraphs[-1]:
                self.paragraphs.append("")
        elif tag == "br":
            self.paragraphs[-1] += "<br>"
        elif tag in {"b", "i"}:
            self.paragraphs[-1] += f"<{tag}>"
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.paragraphs[-1] += f'<a href="{html.escape(href)}">'

    def handle_endtag(self, tag: str) -> None:
        if tag in {"b", "i", "a"}:
            self.paragraphs[-1] += f"</{tag}>"

    def handle_data(self, data: str) -> None:
        self.paragraphs[-1] += data.replace("<", "&lt;").replace(">", "&gt;")


def rich_to_paragraphs(value: Any) -> list[str]:
    parser = _InlineText()
    parser.feed(str(getattr(value, "source", value)))
    parser.close()
    return [p for p in parser.paragraphs if p.strip()]


def derive_title(document: dict[str, Any]) -> str:
    recipients = document.get("recipients") or []
    date = document.get("date")
    if recipients:
        title = f"Letter to {recipients[0]}"
        return f"{title}, {date}" if date else title
    if date:
        return f"Letter of {date}"
    first = document["body"][0]
    text = first.get("text") or first.get("items", [""])[0]
    words = html.unescape(re.sub(r"<[^>]+>", "", clean_inline(text))).split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


def body_stream(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stream: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] == "paragraph":
            stream.append({"type": "paragraph", "value": _rich(block["text"])})
        elif block["type"] == "heading":
            stream.append({"type": "heading", "value": block["text"].strip()})
        else:
            items = [_rich(item) for item in block["items"]]
            stream.append({"type": block["type"], "value": items})
    return stream


def _match_organizations(items: list[dict[str, Any]]) -> dict[int, Organization]:
    """Existing organizations for the signatories that name one, by normalized name or acronym."""
    named = [item for item in items if "name" in item]
    found = list(
        organizations_named(
            names=[item["name"] for item in named],
            acronyms=[item.get("acronym", "") for item in named],
        )
    )
    matched = {}
    for i, item in enumerate(items):
        if "name" in item:
            org = best_named(found, names=[item["name"]], acronyms=[item.get("acronym", "")])
            if org is not None:
                matched[i] = org
    return matched


@dataclass
class ImportResult:
    letter: LetterPage
    organizations_created: int
    signatures_created: int


@transaction.atomic
def import_letter(*, document: Any, publish: bool = False) -> ImportResult:
    """Create a letter, its missing organizations and its approved signatures from a document."""
    problems = validate_document(document)
    if problems:
        raise LetterDocumentError(problems)
    index = ensure_letter_archive()
    title = document.get("title") or derive_title(document)
    letter = LetterPage(
        title=title,
        slug=unique_slug(index, title),
        letter_date=datetime.date.fromisoformat(document["date"]) if "date" in document else None,
        dateline=document.get("dateline", ""),
        recipients="\n".join(line.strip() for line in document.get("recipients", [])),
        salutation=document.get("salutation", ""),
        body=body_stream(document["body"]),
        closing=document.get("closing", ""),
        cc="\n".join(document.get("cc", [])),
        footnotes="\n".join(document.get("footnotes", [])),
        signatory_order=LetterPage.SignatoryOrder.AS_ENTERED,
        signatory_style=(
            LetterPage.SignatoryStyle.SIGNERS
            if any("signer" in item for item in document["signatories"])
            else LetterPage.SignatoryStyle.ORGANIZATIONS
        ),
        accepts_individuals=any("person" in item for item in document["signatories"]),
        live=False,
    )
    index.add_child(instance=letter)
    revision = letter.save_revision()

    items = document["signatories"]
    organizations = _match_organizations(items)
    created = 0
    signatures = []
    for position, item in enumerate(items):
        if "name" in item:
            org = organizations.get(position)
            if org is None:
                org = Organization(
                    name=item["name"].strip(),
                    acronym=item.get("acronym", ""),
                    display=item.get("display", ""),
                    website=item.get("website", ""),
                    country=item.get("country", ""),
                )
                org.save()
                organizations[position] = org
                created += 1
            default = f"{item['name']} ({item['acronym']})" if item.get("acronym") else item["name"]
            signatures.append(
                Signature(
                    letter=letter,
                    organization=org,
                    display_name=item.get("display") or default,
                    sort_key=org.sort_name,
                    signer_name=item.get("signer", ""),
                    signer_title=item.get("title", ""),
                    logo_id=org.logo_id,
                    **_common(item, position),
                )
            )
        else:
            default = Signature.default_individual_line(
                item["person"], item.get("title", ""), item.get("affiliation", "")
            )
            signatures.append(
                Signature(
                    letter=letter,
                    display_name=item.get("display") or default,
                    sort_key=item["person"].split()[-1]
                    if item["person"].split()
                    else item["person"],
                    signer_name=item["person"],
                    signer_title=item.get("title", ""),
                    affiliation=item.get("affiliation", ""),
                    website=item.get("website", ""),
                    country=item.get("country", ""),
                    **_common(item, position),
                )
            )
    Signature.objects.bulk_create(signatures, batch_size=500)
    if publish:
        # The same service as every other publication: a frozen list, a PDF and its SHA-256.
        publish_letter(letter=letter, revision=revision, actor=Actor.system("import_letter"))
        letter.refresh_from_db()
    return ImportResult(
        letter=letter, organizations_created=created, signatures_created=len(signatures)
    )


def _common(item: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "group": item.get("group", ""),
        "position": position,
        "status": Signature.Status.APPROVED,
        "response": Signature.Response.SIGNED,
        "imported": True,
    }


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
