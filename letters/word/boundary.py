"""Where the body of a letter read from Word ends and its signatory list begins, as staff check it
before importing: the end of the letter, each line marked as body, closing or list, and how the
list's lines are read, for the boundary proposed or any other.

What was read is kept as JSON between the steps (`reading_of`), so that moving the boundary reads
no file again.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from .blocks import Para, WordLetter
from .signatories import GROUP_HEADING, NAME, SignatoryBlock, recognize_signatory_block

# The lines shown: from a few above the boundary to the end, or, for a long list, its first
# lines and its last ones.
SHOWN_ABOVE = 10
SHOWN_AT_MOST = 40
SHOWN_AT_THE_END = 5

BODY, CLOSING = "body", "closing"
ROLE_LABELS = {
    BODY: "Body",
    CLOSING: "Closing",
    NAME: "Signatory",
    GROUP_HEADING: "Group heading",
    "note": "Footnote",
    "cc": "Cc",
    "intro": "Introduces the list",
    "left out": "Left out: not a name",
}


@dataclass(frozen=True)
class EndLine:
    text: str
    role: str
    member: bool = False

    @property
    def label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role) + (" (a member)" if self.member else "")


@dataclass
class EndRow:
    """One paragraph at the end of the letter; `number` counts from 1, as staff choose it."""

    number: int
    lines: list[EndLine]
    in_list: bool
    begins_list: bool = False
    # On an elision row: how many lines are not shown.
    hidden: int = 0


@dataclass
class Ending:
    """The end of the letter with the list beginning at paragraph `boundary` (from 0)."""

    boundary: int
    proposed: int
    first: int
    paragraphs: int
    rows: list[EndRow]
    block: SignatoryBlock = field(repr=False)
    # The signatories (by position) who are members, to invite once the letter is approved.
    members: frozenset[int] = frozenset()

    @property
    def no_list(self) -> int:
        """The number staff choose for "no signatory list": one past the last line."""
        return self.paragraphs + 1


def reading_of(letter: WordLetter) -> dict[str, Any]:
    """What the boundary step keeps of a letter read from Word, as JSON."""
    return {
        "paragraphs": [asdict(para) for para in letter.paragraphs],
        "body_start": letter.body_start,
        "list_start": letter.list_start,
    }


def _para(data: dict[str, Any]) -> Para:
    return Para(**{**data, "cell": tuple(data.get("cell", (0, 0)))})


def allowed_boundaries(reading: dict[str, Any]) -> tuple[int, int]:
    """The first and last paragraph (from 0) where the list may begin; the last means none."""
    paragraphs = len(reading["paragraphs"])
    return min(reading["body_start"] + 1, paragraphs), paragraphs


def ending(
    reading: dict[str, Any], boundary: int | None = None, *, members: frozenset[int] = frozenset()
) -> Ending:
    """The end of the letter as it will be imported with the list beginning at `boundary` (the
    proposed boundary if None); `members` are the signatories (by position) who are members."""
    paras = [_para(data) for data in reading["paragraphs"]]
    proposed = int(reading["list_start"])
    chosen = proposed if boundary is None else boundary
    first, last = allowed_boundaries(reading)
    if not first <= chosen <= last:
        raise ValueError(f"The list cannot begin at paragraph {chosen}.")
    block = recognize_signatory_block(paras, int(reading["body_start"]), boundary=chosen)
    top = max(int(reading["body_start"]), min(len(paras) - SHOWN_AT_MOST, chosen - SHOWN_ABOVE))
    shown = list(range(top, len(paras)))
    rows = []
    if len(shown) > SHOWN_AT_MOST:
        cut = top + SHOWN_AT_MOST - SHOWN_AT_THE_END
        end = len(paras) - SHOWN_AT_THE_END
        rows = [_row(paras, i, block, chosen, members) for i in range(top, cut)]
        rows.append(EndRow(number=0, lines=[], in_list=cut >= chosen, hidden=end - cut))
        rows += [_row(paras, i, block, chosen, members) for i in range(end, len(paras))]
    else:
        rows = [_row(paras, i, block, chosen, members) for i in shown]
    return Ending(
        boundary=chosen,
        proposed=proposed,
        first=first,
        paragraphs=len(paras),
        rows=rows,
        block=block,
        members=members,
    )


def _row(
    paras: list[Para], i: int, block: SignatoryBlock, boundary: int, members: frozenset[int]
) -> EndRow:
    if i in block.read:
        lines = [
            EndLine(
                read.text,
                read.role,
                member=read.signatory is not None and read.signatory in members,
            )
            for read in block.read[i]
        ]
    else:
        role = CLOSING if block.closing and i == block.body_end else BODY
        lines = [EndLine(line, role) for line in paras[i].lines]
    return EndRow(number=i + 1, lines=lines, in_list=i >= boundary, begins_list=i == boundary)
