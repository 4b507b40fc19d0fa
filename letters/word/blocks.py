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
