"""A letter's body as passages: the pieces a reader may comment on, each a paragraph, a heading or
one item of a list, named by the ids Wagtail gives its blocks (so a name survives edits made
elsewhere in the body); and the body with one passage's text replaced.

A passage's key is its block's id, or for a list's item "<block id>.<item id>", or for a headed
section's heading "<block id>.heading". A list stored in Wagtail's older format has no ids for
its items: those are named by position ("<block id>.0"), and a position names the same item
once ids are given. Text in and out is plain: a suggestion never brings markup into the letter.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from wagtail.blocks import StreamValue
from wagtail.rich_text import RichText

from .models import LetterPage
from .text_diff import html_paragraphs

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})?")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
LIST_KINDS = ("bullets", "numbered")


@dataclass(frozen=True)
class Passage:
    key: str
    kind: str  # "paragraph", "heading" or "item"
    text: str  # plain text; the paragraphs of a paragraph block apart by a blank line
    html: SafeString  # as it prints, inline markup and all
    position_key: str = ""  # an item's key by its position in its list

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key that names it."""
        return (self.key, self.position_key) if self.position_key else (self.key,)

    @property
    def opening(self) -> str:
        """Its first words, to name it: "We write about widgets …"."""
        words = self.text.split()
        return " ".join(words[:8]) + (" …" if len(words) > 8 else "")

    @property
    def takes_paragraphs(self) -> bool:
        """Whether its text may run to several paragraphs (headings and items are one line)."""
        return self.kind == "paragraph"


@dataclass(frozen=True)
class Part:
    """One piece of the body as a reader sees it: a paragraph, a heading, or a list of items."""

    kind: str  # "paragraph", "heading" or "list"
    passages: list[Passage] = field(default_factory=list)
    numbered: bool = False


def _rich(key: str, kind: str, value: Any, position_key: str = "") -> Passage:
    source = value.source if isinstance(value, RichText) else str(value or "")
    html = mark_safe(str(RichText(source)) if source else "")  # noqa: S308 (Wagtail's)
    text = "\n\n".join(html_paragraphs(source))
    return Passage(key=key, kind=kind, text=text, html=html, position_key=position_key)


def _heading(key: str, value: object) -> Passage:
    text = " ".join(str(value or "").split())
    return Passage(key=key, kind="heading", text=text, html=escape(text))


def _items(block_id: str, value: Any) -> list[Passage]:
    found = []
    for position, child in enumerate(getattr(value, "bound_blocks", [])):
        by_position = f"{block_id}.{position}"
        # An item of the older format is given a new random id each time it is read.
        key = f"{block_id}.{child.original_id}" if child.original_id else by_position
        found.append(_rich(key, "item", child.value, position_key=by_position))
    return found


def parts(letter: LetterPage) -> list[Part]:
    """The letter's body as its reader goes through it, passage by passage."""
    found: list[Part] = []
    for block in letter.body:
        if not block.id:
            continue
        if block.block_type == "paragraph":
            found.append(Part("paragraph", [_rich(block.id, "paragraph", block.value)]))
        elif block.block_type == "heading":
            found.append(Part("heading", [_heading(block.id, block.value)]))
        elif block.block_type in LIST_KINDS:
            numbered = block.block_type == "numbered"
            found.append(Part("list", _items(block.id, block.value), numbered=numbered))
        elif block.block_type == "section":
            found.append(Part("heading", [_heading(f"{block.id}.heading", block.value["heading"])]))
            items = _items(block.id, block.value["items"])
            found.append(Part("list", items, numbered=bool(block.value["numbered"])))
    return found


def passages(letter: LetterPage) -> Iterator[Passage]:
    for part in parts(letter):
        yield from part.passages


def find(letter: LetterPage, key: str) -> Passage | None:
    """The passage of this key in the letter, or None where it is not (or no longer) there."""
    if not KEY.fullmatch(key):
        return None
    return next((passage for passage in passages(letter) if key in passage.keys), None)


def text_hash(text: str) -> str:
    """What a page that shows a passage sends back, to tell whether it changed meanwhile."""
    return hashlib.sha256(text.encode()).hexdigest()


def plain_paragraphs(text: str) -> list[str]:
    """Plain text as paragraphs: apart at a blank line, each on one line."""
    return [" ".join(p.split()) for p in PARAGRAPH_BREAK.split(text) if p.strip()]


def _rich_source(text: str, *, paragraphs: bool) -> str:
    """Plain text as rich text: escaped paragraphs (one for a list's item)."""
    chunks = plain_paragraphs(text) if paragraphs else [" ".join(text.split())]
    return str(format_html_join("", "<p>{}</p>", ((chunk,) for chunk in chunks)))


def _replace_item(items: list[Any], item_id: str, text: str) -> bool:
    """Replace the item of this id, or at this position, in a list as stored (either format)."""
    source = _rich_source(text, paragraphs=False)
    for position, item in enumerate(items):
        if item_id == str(position) or (isinstance(item, dict) and item.get("id") == item_id):
            if isinstance(item, dict) and "value" in item:
                item["value"] = source
            else:
                items[position] = source
            return True
    return False


def replaced_body(letter: LetterPage, key: str, text: str) -> list[dict[str, Any]]:
    """The letter's body as stored, with the passage of this key reading `text` (plain text),
    each block keeping its type and id. KeyError where the passage is not there."""
    body = letter.body
    assert isinstance(body, StreamValue)
    stream_block = LetterPage._meta.get_field("body").stream_block
    data: list[dict[str, Any]] = stream_block.get_prep_value(body)
    block_id, _, inner = key.partition(".")
    for block in data:
        if block.get("id") != block_id:
            continue
        kind = block.get("type")
        if kind == "paragraph" and not inner:
            block["value"] = _rich_source(text, paragraphs=True)
            return data
        if kind == "heading" and not inner:
            block["value"] = " ".join(text.split())
            return data
        if kind in LIST_KINDS and inner and _replace_item(block["value"], inner, text):
            return data
        if kind == "section" and inner == "heading":
            block["value"]["heading"] = " ".join(text.split())
            return data
        if kind == "section" and inner and _replace_item(block["value"]["items"], inner, text):
            return data
    raise KeyError(key)
