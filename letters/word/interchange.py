"""A letter read from Word in the letter interchange format (letter.schema.json).

A finished letter from Word is imported by the same function as a JSON document, so that its
organizations are matched and created by the same rules, its problems read the same and nothing
is half-written. The problems name JSON paths; `with_word_lines` adds the Word line they are about.
"""

import re
from typing import Any

from .blocks import WordLetter

SIGNATORY_PATH = re.compile(r"^\$\.signatories\[(\d+)\]")


def interchange_document(letter: WordLetter) -> dict[str, Any]:
    """The letter, body and signatory block, as an interchange document."""
    document: dict[str, Any] = {}
    if letter.title:
        document["title"] = letter.title
    if letter.letter_date is not None:
        document["date"] = letter.letter_date.isoformat()
    if letter.dateline:
        document["dateline"] = letter.dateline
    if letter.recipients:
        document["recipients"] = list(letter.recipients)
    if letter.salutation:
        document["salutation"] = letter.salutation
    document["body"] = _body(letter.body)
    if letter.closing:
        document["closing"] = letter.closing
    if letter.cc:
        document["cc"] = list(letter.cc)
    if letter.footnotes:
        document["footnotes"] = list(letter.footnotes)
    document["signatories"] = [dict(item) for item in letter.signatories]
    return document


def _inner(value: str) -> str:
    """The inline HTML of one rich-text paragraph the reader made ("<p>…</p>")."""
    return value.removeprefix("<p>").removesuffix("</p>")


def _body(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in stream:
        kind, value = block["type"], block["value"]
        if kind == "paragraph":
            blocks.append({"type": "paragraph", "text": _inner(value)})
        elif kind == "heading":
            blocks.append({"type": "heading", "text": value})
        elif kind in {"bullets", "numbered"}:
            blocks.append({"type": kind, "items": [_inner(item) for item in value]})
        elif kind == "section":
            # The interchange format has no sections: a heading and its list, as export writes.
            blocks.append({"type": "heading", "text": value["heading"]})
            blocks.append(
                {
                    "type": "numbered" if value["numbered"] else "bullets",
                    "items": [_inner(item) for item in value["items"]],
                }
            )
    return blocks


def with_word_lines(problems: list[str], letter: WordLetter) -> list[str]:
    """The problems of an import, each about a signatory followed by its line in the Word file."""
    described = []
    for problem in problems:
        match = SIGNATORY_PATH.match(problem)
        position = int(match.group(1)) if match else -1
        if 0 <= position < len(letter.signatory_lines):
            problem += (
                f" (the signatory line “{letter.signatory_lines[position]}” in the Word file)"
            )
        described.append(problem)
    return described
