"""Checking a letter document before anything is built from it: the schema, the depth, the
counts and lengths a page and a PDF can hold, and the characters nobody means."""

import datetime
import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from jsonschema import Draft202012Validator

from coalition.core.validators import bidi_control_problem
from coalition.crm.models import name_key
from letters.word import MAX_PARAGRAPHS

SCHEMA = json.loads((Path(__file__).parent.parent / "schema" / "letter.schema.json").read_text())
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
