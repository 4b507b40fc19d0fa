"""The letter interchange format (schema/letter.schema.json): validation, import and export."""

import datetime
import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nh3
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils.http import urlencode
from jsonschema import Draft202012Validator

from coalition.core.validators import bidi_control_problem
from coalition.crm.models import Organization, name_key
from coalition.crm.selectors import organizations_named
from coalition.crm.services import create_organizations, new_organization
from letters.models import LetterPage
from letters.services import (
    ImportedLetter,
    LetterDocumentRefused,
    LetterImporter,
    SignatoryMatch,
    ensure_letter_archive,
    unique_slug,
)
from letters.word import MAX_PARAGRAPHS

from .models import Signature
from .services import Actor, publish_letter

SCHEMA = json.loads((Path(__file__).parent / "schema" / "letter.schema.json").read_text())
BLOCK_TYPES = ("paragraph", "heading", "bullets", "numbered")
INLINE_TAGS = {"b", "strong", "i", "em", "br", "a"}
# The format nests four levels deep ($.body[0].items[0]); json.loads and the schema validator
# recurse, and a few kilobytes of brackets would exhaust Python's stack.
MAX_DEPTH = 10
MAX_SIGNATORIES = 20_000
# Room for the longest list of signatories; the body's own bounds below are what keep a page small.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# The body is bounded as a Word letter is (letters.word.MAX_PARAGRAPHS), counting each heading and
# list item as Word does, as a paragraph: 30,000 took seven minutes to import and made a 3.3 MB page.
MAX_BODY_PARAGRAPHS = MAX_PARAGRAPHS
# A long paragraph of a real letter runs to a few thousand characters; a whole letter of a few
# hundred pages to half a million.
MAX_PARAGRAPH_CHARACTERS = 10_000
MAX_BODY_CHARACTERS = 500_000
# A printed line: the addressee block's own limit (LetterPage.recipients' validator), and a heading's.
MAX_LINE_CHARACTERS = 500
MAX_LINES = 200
# What each text of a signatory is, to a reader: a name or the form it prints in.
SIGNATORY_NAMES = ("name", "acronym", "display", "signer", "title", "person", "affiliation")
# C0 and C1 controls but tab, line feed and carriage return, DEL, and lone surrogates: PostgreSQL
# refuses NUL and surrogates, and nobody means the rest.
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# A schema message quotes the value it is about, which may be megabytes long.
MAX_MESSAGE = 200
# Names matched per query: SQLite takes at most 32,766 parameters.
MATCH_BATCH = 5000


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
    return [f"{where}: {_shortened(error.message)}"]


def _describe_at(error: Any, prefix: list[Any]) -> list[str]:
    return [f"{json_path(prefix + list(error.absolute_path))}: {_shortened(error.message)}"]


def _shortened(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def load_document(text: str) -> Any:
    """The document in a JSON text; LetterDocumentError when it is not JSON or nests too deep."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LetterDocumentError(
            [f"$: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"]
        ) from None
    except RecursionError:
        where = _deep_in_text(text, MAX_DEPTH) or "$"
        raise LetterDocumentError([_too_deep(where)]) from None
    except ValueError as error:  # an integer of more than 4,300 digits, for one
        raise LetterDocumentError([f"$: not valid JSON: {_shortened(str(error))}"]) from None


def _too_deep(where: str) -> str:
    return (
        f"{where}: nested more than {MAX_DEPTH} levels deep; a letter document nests four "
        "levels at most"
    )


STRUCTURE = re.compile(r'["\[\]{},]')
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _deep_in_text(text: str, limit: int) -> str | None:
    """Where a JSON text nests deeper than `limit`, found without parsing it (which recurses)."""
    # One entry per open container: [is an object, current key or index, a key comes next].
    stack: list[list[Any]] = []
    position = 0
    while (match := STRUCTURE.search(text, position)) is not None:
        char, position = match.group(), match.end()
        if char == '"':
            string = STRING.match(text, match.start())
            if string is None:
                return None  # an unterminated string: json.loads says where
            position = string.end()
            if stack and stack[-1][0] and stack[-1][2]:
                try:
                    stack[-1][1] = json.loads(string.group())
                except ValueError:
                    stack[-1][1] = string.group()[1:-1]
                stack[-1][2] = False
        elif char in "[{":
            if len(stack) >= limit:
                return json_path([entry[1] for entry in stack])
            stack.append([char == "{", None if char == "{" else 0, char == "{"])
        elif char in "]}":
            if stack:
                stack.pop()
        elif stack:  # a comma
            if stack[-1][0]:
                stack[-1][2] = True
            else:
                stack[-1][1] += 1
    return None


class _TooDeep(Exception):
    def __init__(self, path: list[Any]) -> None:
        self.path = json_path(path)


def _walk(document: Any) -> list[str]:
    """Characters the database refuses, each with its JSON path; _TooDeep past MAX_DEPTH."""
    problems: list[str] = []
    stack: list[tuple[Any, list[Any]]] = [(document, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            found = FORBIDDEN_CHARACTERS.search(value)
            if found:
                problems.append(
                    f"{json_path(path)}: holds a control character "
                    f"(U+{ord(found.group()):04X}), which the database refuses or nobody "
                    "meant; remove it"
                )
            continue
        if not isinstance(value, (dict, list)):
            continue
        if len(path) >= MAX_DEPTH:
            raise _TooDeep(path)
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in reversed(list(children)):
            if isinstance(key, str):
                found = FORBIDDEN_CHARACTERS.search(key)
                if found:
                    problems.append(
                        f"{json_path(path)}: the key {key[:40]!r} holds a control character "
                        f"(U+{ord(found.group()):04X}); remove it"
                    )
            stack.append((child, [*path, key]))
    return problems


def validate_document(document: Any) -> list[str]:
    """Every problem in a letter document, each with its JSON path; empty when it is valid."""
    if not isinstance(document, dict):
        return ["$: a letter document must be a JSON object"]
    try:
        problems = _walk(document)
    except _TooDeep as deep:
        # All the schema would say about the value quotes it, recursing as deep as it goes.
        return [_too_deep(deep.path)]
    too_many = _too_many(document)
    problems += too_many + _too_long(document) + _names_that_mislead(document)
    if too_many:
        # The schema is not run on a document this size: checking it is the cost to avoid.
        return problems
    signatories = document.get("signatories")
    validator = Draft202012Validator(SCHEMA)
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
            problems.append(
                f"$.date: {_shortened(repr(date))} is not a date in the form YYYY-MM-DD"
            )
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
                        f"$.signatories[{i}].website: {_shortened(repr(website))} is not an http(s) address"
                    )
            name = item.get("name")
            if isinstance(name, str) and "person" not in item:
                key = name_key(name)
                if key in seen:
                    problems.append(
                        f"$.signatories[{i}].name: {_shortened(repr(name))} is already listed at $.signatories[{seen[key]}]"
                    )
                else:
                    seen[key] = i
    return problems


def _body_paragraphs(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(JSON path, what it is, text) of each paragraph, heading and list item of the body."""
    found: list[tuple[str, str, str]] = []
    body = document.get("body")
    for i, block in enumerate(body if isinstance(body, list) else []):
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            kind = "heading" if block.get("type") == "heading" else "paragraph"
            found.append((f"$.body[{i}].text", kind, block["text"]))
        items = block.get("items")
        for j, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, str):
                found.append((f"$.body[{i}].items[{j}]", "item", item))
    return found


def _too_many(document: dict[str, Any]) -> list[str]:
    """The counts over their bounds: signatories, the body's paragraphs and characters, lines."""
    problems = []
    signatories = document.get("signatories")
    if isinstance(signatories, list) and len(signatories) > MAX_SIGNATORIES:
        problems.append(
            f"$.signatories: {len(signatories):,} signatories; the limit is "
            f"{MAX_SIGNATORIES:,}. Split the list, or ask for the limit to be raised."
        )
    paragraphs = _body_paragraphs(document)
    if len(paragraphs) > MAX_BODY_PARAGRAPHS:
        problems.append(
            f"$.body: {len(paragraphs):,} paragraphs, headings and list items; the limit is "
            f"{MAX_BODY_PARAGRAPHS:,}. A letter that long is better split."
        )
    characters = sum(len(text) for _, _, text in paragraphs)
    if characters > MAX_BODY_CHARACTERS:
        problems.append(
            f"$.body: {characters:,} characters in all; the limit is {MAX_BODY_CHARACTERS:,}. "
            "A letter that long is better split."
        )
    for key in ("recipients", "cc", "footnotes"):
        lines = document.get(key)
        if isinstance(lines, list) and len(lines) > MAX_LINES:
            problems.append(f"$.{key}: {len(lines):,} lines; the limit is {MAX_LINES:,}")
    return problems


def _too_long(document: dict[str, Any]) -> list[str]:
    """Each paragraph, heading, list item and line longer than its own limit, by JSON path."""
    limits = {
        "paragraph": MAX_PARAGRAPH_CHARACTERS,
        "item": MAX_PARAGRAPH_CHARACTERS,
        "heading": MAX_LINE_CHARACTERS,
        "line": MAX_LINE_CHARACTERS,
        "footnote": MAX_PARAGRAPH_CHARACTERS,
    }
    texts = _body_paragraphs(document)
    for key, kind in (("recipients", "line"), ("cc", "line"), ("footnotes", "footnote")):
        lines = document.get(key)
        for i, line in enumerate(lines if isinstance(lines, list) else []):
            if isinstance(line, str):
                texts.append((f"$.{key}[{i}]", kind, line))
    return [
        f"{path}: at most {limits[kind]:,} characters (this {kind} has {len(text):,})"
        for path, kind, text in texts
        if len(text) > limits[kind]
    ]


def _names_that_mislead(document: dict[str, Any]) -> list[str]:
    """Each signatory's name or printed form that holds a bidirectional control character."""
    problems = []
    signatories = document.get("signatories")
    for i, item in enumerate(signatories if isinstance(signatories, list) else []):
        if not isinstance(item, dict):
            continue
        for key in SIGNATORY_NAMES:
            value = item.get(key)
            if isinstance(value, str) and (problem := bidi_control_problem(value)):
                problems.append(f"$.signatories[{i}].{key}: {problem}; remove it")
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
    """Existing organizations for the signatories that name one: by normalized name, else by
    acronym (as coalition.crm.selectors.best_named), looked up in a few queries for any length."""
    named = [item for item in items if "name" in item]
    by_key: dict[str, Organization] = {}
    by_acronym: dict[str, Organization] = {}
    for start in range(0, len(named), MATCH_BATCH):
        batch = named[start : start + MATCH_BATCH]
        for org in organizations_named(
            names=[item["name"] for item in batch],
            acronyms=[item.get("acronym", "") for item in batch],
        ):
            if org.merged_into_id is not None:
                continue
            by_key.setdefault(org.name_key, org)
            if org.acronym:
                by_acronym.setdefault(org.acronym.lower(), org)
    matched = {}
    for i, item in enumerate(items):
        if "name" in item:
            key = name_key(item["name"])
            acronym = item.get("acronym", "").strip().lower()
            found = (by_key.get(key) if key else None) or (
                by_acronym.get(acronym) if acronym else None
            )
            if found is not None:
                matched[i] = found
    return matched


@dataclass
class ImportResult:
    letter: LetterPage
    organizations_created: int
    signatures_created: int


@dataclass
class _Plan:
    """Everything an import writes, built and checked before the write transaction opens."""

    letter: LetterPage
    organizations: list[Organization] = field(default_factory=list)
    # Each signature with the new organization it waits for (its primary key comes on writing).
    signatures: list[tuple[Signature, Organization | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_letter(
    *, document: Any, publish: bool = False, owner: User | None = None
) -> ImportResult:
    """Create a letter, its missing organizations and its approved signatures from a document.

    Everything is checked and built first; the write is one short transaction, all or nothing
    (on SQLite it holds the one write lock: 10,000 signatories took minutes when each
    organization was saved, indexed and looked up in turn inside it).
    """
    problems = validate_document(document)
    if problems:
        raise LetterDocumentError(problems)
    plan = _plan(document)
    if plan.problems:
        raise LetterDocumentError(plan.problems)
    letter = plan.letter
    letter.owner = owner
    with transaction.atomic():
        index = ensure_letter_archive()
        letter.slug = unique_slug(index, letter.title)
        index.add_child(instance=letter)
        revision = letter.save_revision(user=owner)
        create_organizations(plan.organizations, batch_size=500)
        for signature, new_org in plan.signatures:
            signature.letter = letter
            if new_org is not None:
                signature.organization = new_org
        Signature.objects.bulk_create([s for s, _ in plan.signatures], batch_size=500)
        if publish:
            # The same service as every other publication: a frozen list, a PDF and its SHA-256.
            publish_letter(letter=letter, revision=revision, actor=Actor.system("import_letter"))
    if publish:
        letter.refresh_from_db()
    return ImportResult(
        letter=letter,
        organizations_created=len(plan.organizations),
        signatures_created=len(plan.signatures),
    )


def _plan(document: dict[str, Any]) -> _Plan:
    # A title made from a long recipient line is cut, not refused: nobody typed it.
    title = document.get("title") or derive_title(document)[:255]
    plan = _Plan(
        letter=LetterPage(
            title=title,
            letter_date=datetime.date.fromisoformat(document["date"])
            if "date" in document
            else None,
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
    )
    too_long: dict[str, str] = {}
    _check_lengths(
        plan.letter,
        {name: (f".{name}", "") for name in ("dateline", "salutation", "closing")},
        too_long,
    )
    _check_letter_fields(plan.letter, too_long)
    items = document["signatories"]
    organizations = _match_organizations(items)
    for position, item in enumerate(items):
        where = f"$.signatories[{position}]"
        if "name" in item:
            org = organizations.get(position)
            new_org = None
            if org is None:
                name = item["name"].strip()
                new_org = org = new_organization(
                    {
                        "name": name,
                        "acronym": item.get("acronym", ""),
                        "display": item.get("display", ""),
                        "website": item.get("website", ""),
                        "country": item.get("country", ""),
                    }
                )
                plan.organizations.append(new_org)
                _check_lengths(new_org, _ORGANIZATION_SOURCES, too_long, where=where)
            default = f"{item['name']} ({item['acronym']})" if item.get("acronym") else item["name"]
            signature = Signature(
                organization=org if new_org is None else None,
                display_name=item.get("display") or default,
                sort_key=org.sort_name,
                signer_name=item.get("signer", ""),
                signer_title=item.get("title", ""),
                logo_id=org.logo_id,
                **_common(item, position),
            )
            plan.signatures.append((signature, new_org))
        else:
            default = Signature.default_individual_line(
                item["person"], item.get("title", ""), item.get("affiliation", "")
            )
            signature = Signature(
                display_name=item.get("display") or default,
                sort_key=item["person"].split()[-1] if item["person"].split() else item["person"],
                signer_name=item["person"],
                signer_title=item.get("title", ""),
                affiliation=item.get("affiliation", ""),
                website=item.get("website", ""),
                country=item.get("country", ""),
                **_common(item, position),
            )
            plan.signatures.append((signature, None))
        _check_lengths(signature, _signature_sources(item), too_long, where=where)
    plan.problems = list(too_long.values())
    return plan


# Where each model field comes from, below the signatory: a JSON key, and how it is made from it
# when it is not taken as it is.
Sources = dict[str, tuple[str, str]]
_ORGANIZATION_SOURCES: Sources = {
    "name": (".name", ""),
    "acronym": (".acronym", ""),
    "display": (".display", ""),
    "website": (".website", ""),
    "country": (".country", ""),
    "name_key": (".name", "normalized to match organizations by, it"),
    "sort_name": (".name", "as it sorts, it"),
}
_SIGNATURE_SOURCES: Sources = {
    "signer_name": (".signer", ""),
    "signer_title": (".title", ""),
    "group": (".group", ""),
}
_INDIVIDUAL_SOURCES: Sources = {
    "sort_key": (".person", ""),
    "signer_name": (".person", ""),
    "signer_title": (".title", ""),
    "affiliation": (".affiliation", ""),
    "group": (".group", ""),
    "website": (".website", ""),
    "country": (".country", ""),
}


def _signature_sources(item: dict[str, Any]) -> Sources:
    if "person" in item:
        line = ("", "the line printed from person, title and affiliation")
        return {
            **_INDIVIDUAL_SOURCES,
            "display_name": (".display", "") if "display" in item else line,
        }
    line = ("", "the line printed from name and acronym")
    return {**_SIGNATURE_SOURCES, "display_name": (".display", "") if "display" in item else line}


def _check_lengths(
    instance: models.Model, sources: Sources, found: dict[str, str], *, where: str = "$"
) -> None:
    """Note every text too long for its column, under the JSON path it came from.

    PostgreSQL refuses such a value with a DataError mid-import; SQLite stores it whole. The
    first limit met for a path is the one reported (an organization's before its line's).
    """
    for model_field in instance._meta.concrete_fields:
        limit = getattr(model_field, "max_length", None)
        value = getattr(instance, model_field.attname)
        if model_field.name not in sources or not isinstance(value, str):
            continue
        if not limit or len(value) <= limit:
            continue
        key, made = sources[model_field.name]
        path = where + key
        if path not in found:
            what = f"{made} is {len(value):,} characters" if made else f"{len(value):,} characters"
            found[path] = f"{path}: {what}; the limit is {limit:,}"


# The letter's fields that a document fills, with the JSON path each comes from.
_LETTER_FIELDS = {
    "title": "$.title",
    "letter_date": "$.date",
    "dateline": "$.dateline",
    "recipients": "$.recipients",
    "salutation": "$.salutation",
    "closing": "$.closing",
    "cc": "$.cc",
    "footnotes": "$.footnotes",
}


def _check_letter_fields(letter: LetterPage, found: dict[str, str]) -> None:
    """The letter's own validators, run before the write: saving its first revision runs them,
    and what they refuse there ended the import in a traceback."""
    exclude = [f.name for f in LetterPage._meta.fields if f.name not in _LETTER_FIELDS]
    try:
        letter.clean_fields(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            path = _LETTER_FIELDS.get(name, "$")
            if not any(known == path or known.startswith(path + "[") for known in found):
                found[path] = f"{path}: {' '.join(messages)}"


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


# The Word import (letters app) imports finished letters and matches signatories through these.


def _import_word_document(
    document: dict[str, Any], *, publish: bool, owner: User | None = None
) -> ImportedLetter:
    try:
        result = import_letter(document=document, publish=publish, owner=owner)
    except LetterDocumentError as error:
        raise LetterDocumentRefused(error.problems) from None
    return ImportedLetter(
        letter=result.letter,
        organizations_created=result.organizations_created,
        signatures_created=result.signatures_created,
    )


def match_signatories(signatories: list[dict[str, str]]) -> list[SignatoryMatch | None]:
    """Each signatory's organization in the members list, matched as an import matches it;
    invitable when it is an active member (a pending one is no member yet)."""
    matched = _match_organizations(signatories)
    return [
        SignatoryMatch(
            organization_id=org.pk,
            name=org.name,
            invitable=org.status == Organization.Status.ACTIVE,
        )
        if (org := matched.get(position)) is not None
        else None
        for position in range(len(signatories))
    ]


def invite_url(organization_ids: list[int]) -> str:
    """The page that opens a sign-on, with these organizations picked."""
    query = urlencode({"organizations": organization_ids}, doseq=True)
    return f"{reverse('signatories_admin:open')}?{query}"


#: Named by the project's LETTER_IMPORTER setting: how the letters app's Word import creates a
#: finished letter with its signatures and recognizes the members among its signatories.
LETTER_IMPORTER = LetterImporter(
    import_document=_import_word_document,
    match_signatories=match_signatories,
    invite_url=invite_url,
)
