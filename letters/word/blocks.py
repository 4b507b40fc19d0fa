"""What reading a .docx yields, before it is assembled into a letter."""

import datetime
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Para:
    """One paragraph of the document (or of a table cell), as far as the import cares."""

    text: str
    html: str
    kind: str = "paragraph"  # paragraph, heading, bullet, number
    all_bold: bool = False
    styled_heading: bool = False
    lines: list[str] = field(default_factory=list)
    # Which top-level table it sits in (counting from 0) and its cell's (row, column).
    table: int | None = None
    cell: tuple[int, int] = (0, 0)
    # How many text columns its section has (Word's section setting w:cols).
    columns: int = 1


@dataclass(frozen=True)
class ReadLine:
    """One line of the signatory block and what it was read as: a signatory (its position in
    `signatories`), a group heading, a footnote, a cc, the line introducing the list, or left out."""

    text: str
    role: str
    signatory: int | None = None


@dataclass
class WordLetter:
    """What a .docx yields: the letter's fields, its body stream, its signatories, notes for staff."""

    title: str = ""
    letter_date: datetime.date | None = None
    dateline: str = ""
    recipients: list[str] = field(default_factory=list)
    salutation: str = ""
    body: list[dict[str, Any]] = field(default_factory=list)
    closing: str = ""
    cc: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    # The signatory block, each in the interchange format (letter.schema.json), in printed order.
    signatories: list[dict[str, str]] = field(default_factory=list)
    # Each signatory's line as the letter prints it, beside it.
    signatory_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the boundary step shows: every paragraph read, where the body starts (after the
    # front matter) and where the signatory list begins (len(paragraphs): no list), and how each
    # line of the list was read.
    paragraphs: list[Para] = field(default_factory=list)
    body_start: int = 0
    list_start: int = 0
    read_lines: dict[int, list[ReadLine]] = field(default_factory=dict)
