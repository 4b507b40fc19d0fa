"""The signatory block at the end of a Word letter: where it starts, and what each line says.

Pure functions over the paragraphs read from the file. A letter's last lines leave the body only
when something marks them as signatories: a closing line ("Sincerely,"), a heading ("Signatories",
"Organizations", "Individuals"), a table or text columns, a sentence announcing them, lines that
plainly read as organizations ("Name (ACR)", "… Association"), or a run of at least three short
lines that all read as names, in any script ("AlterMundi", "Jane Roe", "Ελένη Παπαδοπούλου"). A
sentence is never a name, and a list the body introduces ("We ask you to:") stays in the body;
short lines that nothing marks stay there too, and a note says so: staff move a line more easily
than they find one that went missing. Staff may also say where the list begins (`boundary`).
"""

import re
from dataclasses import dataclass, field

from .blocks import Para, ReadLine

CLOSING = re.compile(
    r"^(sincerely|respectfully|yours|best|kind|warm|with best|with kind|regards|cordially|"
    r"thank you|very truly)\b[^.]*,?$",
    re.I,
)
CC = re.compile(r"^cc\s*:", re.I)
INTRO = re.compile(
    r"^(signed|signed by|co-?signed by|signatories|signatures|list of signatories|"
    r"the undersigned|undersigned|endorsed by|supported by)\s*[:,.]?$",
    re.I,
)
GROUP = re.compile(
    r"^(?:(?:signing|signatory|supporting|endorsing|participating|member|other|additional|"
    r"individual|organi[sz]ational|institutional|corporate|business|academic|national|"
    r"international|regional|local|state|european|global|civil society|non-?profit|trade|"
    r"industry|youth|faith)\s+)?"
    r"(?:organi[sz]ations?|individuals?|businesses|companies|associations|institutions|"
    r"academics|experts|scholars|researchers|ngos|unions|networks|members|signatories|"
    r"signatures|endorsers|supporters|partners|people|persons)"
    r"(?:\s+(?:signatories|signers|supporters))?$",
    re.I,
)
INDIVIDUAL_GROUP = re.compile(
    r"individual|personal|people|persons|academics|experts|scholars|researchers", re.I
)
ORGANIZATION_GROUP = re.compile(
    r"organi[sz]ation|business|compan|association|institution|ngo|union|network", re.I
)
# "Signatory lines announced": the sentence before a list of signatories that stays in the body.
ANNOUNCES = re.compile(
    r"\b(undersigned|signator(y|ies)|signed by|sign(ed)? (on|onto|this)|endorsed by|co-?sign)",
    re.I,
)
IDENTIFICATION = re.compile(
    r"\s*[(\[]?\s*\*?\s*(?:(?:institutional |organi[sz]ational )?affiliations?\s+"
    r"(?:are\s+|is\s+)?(?:listed\s+|given\s+|shown\s+|provided\s+)?)?(?:for\s+)?(?:the\s+)?"
    r"(?:purposes?\s+of\s+)?identification(?:\s+purposes)?(?:\s+only)?\s*[)\]]?\s*\.?\s*$",
    re.I,
)
CONTACT = re.compile(
    r"\S+@\S+\.\w+|https?://|www\.|\b(?:tel|phone|fax)\b\.?:?|\+\d[\d\s().-]{7,}|"
    r"^\d+\w?\s+.*\b(?:street|st\.|avenue|ave\.|road|rd\.|boulevard|blvd\.|lane|drive|"
    r"suite|floor|rue|straße|strasse|square)(?:\W|$)|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?$|^p\.?\s?o\.? box",
    re.I,
)
# A line ending in a full stop is a sentence, unless the stop ends an abbreviation (Inc., U.S.).
ABBREVIATION = re.compile(r"(?:\b[A-Z][A-Za-z]{0,3}\.|(?:\b[A-Za-z]\.){2,})$")
ACRONYM_IN_PARENTHESES = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()\s]{2,20})\)$")
ACRONYM_BEFORE_BAR = re.compile(r"^(?P<acronym>[^|\s]{2,20})\s+\|\s+(?P<name>[^|]+)$")
ORGANIZATION_WORDS = re.compile(
    r"\b(association|assn\.|council|foundation|institute|federation|alliance|coalition|"
    r"chamber|union|network|society|forum|group|company|corporation|corp\.|inc\.?|ltd\.?|"
    r"llc|gmbh|plc|e\.v\.|s\.a\.|trust|center|centre|committee|organi[sz]ation|initiative|"
    r"league|partnership|agency|university|college|school|fund|board|bureau|cooperative|"
    r"consortium|congress|movement|campaign|project|industries|industry|ministry|church|"
    r"museum|library|hospital|bank|federación|verband|bund)\b",
    re.I,
)
LEGAL_SUFFIX = re.compile(
    r"^(inc\.?|ltd\.?|llc|llp|l\.l\.c\.|gmbh|plc|co\.|corp\.?|s\.a\.|sa|ag|bv|nv|e\.v\.)$", re.I
)
HONORIFIC = re.compile(r"^(dr|prof|mr|mrs|ms|mx|sir|dame|rev|hon|fr|sr)\.?\s", re.I)
TITLE_WORDS = {
    "professor",
    "director",
    "president",
    "chair",
    "chairman",
    "chairwoman",
    "chairperson",
    "lecturer",
    "fellow",
    "researcher",
    "associate",
    "assistant",
    "senior",
    "emeritus",
    "emerita",
    "dean",
    "founder",
    "co-founder",
    "executive",
    "member",
    "head",
    "partner",
    "manager",
    "secretary",
    "former",
}
LOWERCASE_WORDS = {
    "a",
    "à",
    "al",
    "and",
    "at",
    "by",
    "da",
    "das",
    "de",
    "del",
    "den",
    "der",
    "des",
    "di",
    "die",
    "do",
    "dos",
    "du",
    "e",
    "el",
    "et",
    "for",
    "für",
    "i",
    "in",
    "la",
    "le",
    "les",
    "of",
    "og",
    "och",
    "on",
    "per",
    "pour",
    "the",
    "to",
    "und",
    "van",
    "von",
    "with",
    "y",
    "zu",
}
MAX_NAME_CHARACTERS = 200
MAX_NAME_WORDS = 25
MAX_FIRST_PART_WORDS = 10
MAX_HEADING_WORDS = 8
# Unmarked lines are taken as signatories only this many at least, most of them plainly named
# or every one a short line that reads as a name.
MIN_UNMARKED_NAMES = 3
MAX_PLAIN_NAME_CHARACTERS = 100
# A line of a script written without spaces (Chinese, Japanese) this long is a sentence.
MAX_UNSPACED_NAME_CHARACTERS = 30
# What ends a sentence in other scripts: CJK full stops, the Arabic question mark and semicolon,
# the Greek question mark, the Devanagari danda, the Armenian and Ethiopic full stops, an ellipsis.
SENTENCE_ENDS = tuple(".!?;:。\uff0e\uff01\uff1f\uff1b\uff1a؟؛\u06d4\u037e।॥\u0589።…")
SHOWN_IN_NOTES = 3

NAME, GROUP_HEADING, HEADING, INTRO_LINE, NOTE, CC_LINE, CONTACT_LINE, OTHER = (
    "name",
    "group",
    "heading",
    "intro",
    "note",
    "cc",
    "contact",
    "other",
)
LEFT_OUT = "left out"


@dataclass
class SignatoryBlock:
    """What the end of a letter holds: where its body ends and the block after it."""

    body_end: int
    closing: str = ""
    signatories: list[dict[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Paragraphs of the block (by position in the list given), so that tables in it are not
    # reported as left out of the body.
    taken: set[int] = field(default_factory=set)
    # How each line of the block's paragraphs was read, by paragraph: shown to staff.
    read: dict[int, list[ReadLine]] = field(default_factory=dict)


def recognize_signatory_block(
    paras: list[Para], start: int, *, boundary: int | None = None
) -> SignatoryBlock:
    """Split `paras[start:]` into the letter's body and its closing and signatory block; where
    staff said the list begins (`boundary`, `len(paras)` for no list), there."""
    if boundary is not None:
        return _split_at(paras, start, boundary)
    closing_at = _closing_index(paras, start)
    if closing_at is not None:
        block = SignatoryBlock(body_end=closing_at, closing=paras[closing_at].text)
        after = list(range(closing_at + 1, len(paras)))
        _read_block(paras, after, block, after_closing=True)
        return block
    block = SignatoryBlock(body_end=len(paras))
    begin = _trailing_run(paras, start)
    run = list(range(begin, len(paras)))
    names = [line for i in run for line, kind in _kinds(paras, i) if kind == NAME]
    if not names:
        if run and all(kind == CC_LINE for i in run for _, kind in _kinds(paras, i)):
            block.body_end = begin
            block.cc = [_cc(line) for i in run for line in paras[i].lines if _cc(line)]
        return block
    if _marked(paras, start, begin, run, names):
        block.body_end = begin
        _read_block(paras, run, block, after_closing=False)
    else:
        block.notes.append(
            f"The letter ends with {len(names)} line(s) that may be signatories "
            f"({_shown(names)}), but nothing marks them as such (a closing line such as "
            "“Sincerely,”, a heading such as “Signatories”, a table or text columns): they were "
            "kept in the body. If they are signatories, add such a line before them and import "
            "the file again."
        )
    return block


def list_begins(block: SignatoryBlock) -> int:
    """Where the list of a recognized block begins, as `boundary` gives it: after the closing."""
    return block.body_end + (1 if block.closing else 0)


def _split_at(paras: list[Para], start: int, boundary: int) -> SignatoryBlock:
    """The block from `boundary` on, read as a signatory block; everything above it is body,
    but for a closing line just above the list (or where it begins), which is the closing."""
    if not min(start + 1, len(paras)) <= boundary <= len(paras):
        raise ValueError(f"The list cannot begin at paragraph {boundary}.")
    closing_at = _closing_index(paras, start)
    if closing_at is not None and closing_at in {boundary - 1, boundary}:
        block = SignatoryBlock(body_end=closing_at, closing=paras[closing_at].text)
        positions = list(range(closing_at + 1, len(paras)))
    else:
        block = SignatoryBlock(body_end=boundary)
        positions = list(range(boundary, len(paras)))
    if positions:
        _read_block(paras, positions, block, after_closing=bool(block.closing))
    return block


def _closing_index(paras: list[Para], start: int) -> int | None:
    for i in range(len(paras) - 1, start - 1, -1):
        para = paras[i]
        if (
            para.kind == "paragraph"
            and para.table is None
            and len(para.text) <= 60
            and "<a " not in para.html
            and CLOSING.match(para.text)
        ):
            return i
    return None


def _heading_like(para: Para) -> bool:
    return (para.styled_heading or para.all_bold) and len(para.text.split()) <= MAX_HEADING_WORDS


def _kinds(paras: list[Para], i: int) -> list[tuple[str, str]]:
    para = paras[i]
    return [(line, line_kind(line, heading_like=_heading_like(para))) for line in para.lines]


def line_kind(line: str, *, heading_like: bool = False) -> str:
    """What one line at the end of a letter is: a name, a group heading, a cc line …"""
    text = " ".join(line.split())
    if CC.match(text):
        return CC_LINE
    if INTRO.match(text):
        return INTRO_LINE
    if GROUP.match(_bare_heading(text)):
        return GROUP_HEADING
    lowered = text.casefold()
    if "identification" in lowered and (
        "affiliation" in lowered or not IDENTIFICATION.sub("", text).strip(" *")
    ):
        return NOTE
    if heading_like and not _is_sentence(text):
        return HEADING
    if CONTACT.search(text):
        return CONTACT_LINE
    if reads_as_name(IDENTIFICATION.sub("", text).rstrip(" *")):
        return NAME
    return OTHER


def _bare_heading(text: str) -> str:
    """A heading without what follows the group's name: "Individuals (for identification only):"."""
    text = re.sub(r"\s*[(\[].*$", "", text).strip().rstrip(":*").strip()
    return text


def _is_sentence(text: str) -> bool:
    if text.endswith(SENTENCE_ENDS):
        return not (text.endswith(".") and ABBREVIATION.search(text))
    return False


def _proper(word: str) -> bool:
    """A word as names are written: capitalized, an acronym, a number or in an uncased script."""
    letters = [c for c in word if c.isalpha()]
    if not letters or not any(c.isupper() or c.islower() for c in letters):
        return True
    return any(c.isupper() for c in letters)


def reads_as_name(text: str) -> bool:
    """Whether a line reads as an organization's or a person's name (with an affiliation)."""
    if not text or len(text) > MAX_NAME_CHARACTERS or _is_sentence(text):
        return False
    words = text.split()
    if len(words) > MAX_NAME_WORDS:
        return False
    parts = [part.strip() for part in re.split(r",\s*", text) if part.strip()]
    if not parts:
        return False
    first = parts[0].split()
    if len(first) > MAX_FIRST_PART_WORDS or not _proper(first[0]):
        return False
    if not all(_proper(w) for w in first if w.casefold() not in LOWERCASE_WORDS):
        return False
    for part in parts[1:]:
        part_words = [w for w in part.split() if w.casefold() not in LOWERCASE_WORDS]
        if not part_words or LEGAL_SUFFIX.match(part):
            continue
        if part_words[0].casefold().strip(".") in TITLE_WORDS:
            continue
        if sum(_proper(w) for w in part_words) * 2 < len(part_words):
            return False
    return True


def _plainly_named(line: str) -> bool:
    """A line that could only be a signatory: "Name (ACR)", "ACR | Name", "… Association"."""
    return bool(
        _acronym_form(line)
        or ORGANIZATION_WORDS.search(line)
        or (_reads_as_person(line) and "," in line)
    )


def _trailing_run(paras: list[Para], start: int) -> int:
    """Where the last run of lines that are not sentences begins (a table is taken whole)."""
    begin = len(paras)
    for i in range(len(paras) - 1, start - 1, -1):
        kinds = [kind for _, kind in _kinds(paras, i)]
        if not kinds or OTHER in kinds:
            break
        begin = i
        if INTRO_LINE in kinds:
            break
    if begin < len(paras) and paras[begin].table is not None:
        table = paras[begin].table
        if begin > start and paras[begin - 1].table == table:
            # The run stopped inside a table: the table is a whole, and stays in the body.
            while begin < len(paras) and paras[begin].table == table:
                begin += 1
    return begin


def _marked(paras: list[Para], start: int, begin: int, run: list[int], names: list[str]) -> bool:
    """Whether anything marks the run at the letter's end as its signatories."""
    kinds = {kind for i in run for _, kind in _kinds(paras, i)}
    if kinds & {INTRO_LINE, GROUP_HEADING}:
        return True
    if any(paras[i].table is not None or paras[i].columns > 1 for i in run):
        return True
    before = paras[begin - 1] if begin > start else None
    if before is not None and ANNOUNCES.search(before.text):
        return True
    if len(names) < MIN_UNMARKED_NAMES:
        return False
    listed = any(paras[i].kind in {"bullet", "number"} for i in run)
    if listed and before is not None and before.text.endswith(":"):
        return False  # a list the body introduces ("We ask you to:")
    if sum(_plainly_named(name) for name in names) * 2 >= len(names):
        return True
    return before is not None and _plain_names(paras, run)


def _plain_names(paras: list[Para], run: list[int]) -> bool:
    """Whether every line of the run is a short line that reads as a name, none a bare title.

    Organizations without an organization word ("AlterMundi", "ANSOL") and people's names are
    typed this way. A letter's own last lines are sentences or sign-offs ("Thank you"); a
    sender's signature names a title on a line of its own ("Executive Director"), a list never.
    """
    for i in run:
        for line, kind in _kinds(paras, i):
            text = " ".join(line.split())
            if kind != NAME or len(text) > MAX_PLAIN_NAME_CHARACTERS:
                return False
            if " " not in text and len(text) > MAX_UNSPACED_NAME_CHARACTERS:
                return False
            if "," not in text and text.split()[0].casefold().strip(".") in TITLE_WORDS:
                return False
    return True


def _read_block(
    paras: list[Para], positions: list[int], block: SignatoryBlock, *, after_closing: bool
) -> None:
    group = ""
    left_out: list[str] = []
    ordered = _in_reading_order(paras, positions)
    for n, i in enumerate(ordered):
        following = paras[ordered[n + 1]] if n + 1 < len(ordered) else None
        for line, kind in _kinds(paras, i):
            text = " ".join(line.split())
            if kind == HEADING and (following is None or _heading_like(following)):
                # Bold like the lines after it: the list is bold, this is one of its names.
                kind = NAME if reads_as_name(text) else OTHER
            read = ReadLine(text, LEFT_OUT if kind in {CONTACT_LINE, OTHER} else kind)
            if kind in {GROUP_HEADING, HEADING}:
                group = _bare_group(text)
                read = ReadLine(text, GROUP_HEADING)
            elif kind == NAME:
                read = ReadLine(text, NAME, len(block.signatories))
                block.signatories.append(parse_signatory(text, group=group))
                block.lines.append(text)
            elif kind == NOTE:
                block.footnotes.append(text)
            elif kind == CC_LINE:
                if _cc(text):
                    block.cc.append(_cc(text))
            elif kind != INTRO_LINE:
                left_out.append(text)
            block.read.setdefault(i, []).append(read)
        block.taken.add(i)
    if block.footnotes:
        block.notes.append(
            f"“{_shown(block.footnotes)}” was printed with the signatories; it is kept as a "
            "footnote of the letter."
        )
    if left_out:
        where = "after the closing" if after_closing else "among the signatories"
        block.notes.append(
            f"{len(left_out)} line(s) {where} were left out ({_shown(left_out)}): they do not "
            "read as signatories' names."
        )


def _bare_group(text: str) -> str:
    return text.rstrip(":").strip()


def _cc(line: str) -> str:
    return line.split(":", 1)[1].strip() if ":" in line else ""


def _in_reading_order(paras: list[Para], positions: list[int]) -> list[int]:
    """Positions with each table's cells read row by row, or column by column where only that
    reads alphabetically (a list typed down each column of a table)."""
    ordered: list[int] = []
    n = 0
    while n < len(positions):
        table = paras[positions[n]].table
        end = n + 1
        while end < len(positions) and table is not None and paras[positions[end]].table == table:
            end += 1
        cells = positions[n:end]
        if table is not None:
            by_column = sorted(cells, key=lambda i: (paras[i].cell[1], paras[i].cell[0]))
            if not _alphabetical(paras, cells) and _alphabetical(paras, by_column):
                cells = by_column
        ordered.extend(cells)
        n = end
    return ordered


def _alphabetical(paras: list[Para], positions: list[int]) -> bool:
    keys = [paras[i].text.casefold() for i in positions if line_kind(paras[i].text) == NAME]
    return len(keys) > 2 and keys == sorted(keys)


def _shown(lines: list[str]) -> str:
    return "; ".join(lines[:SHOWN_IN_NOTES]) + ("; …" if len(lines) > SHOWN_IN_NOTES else "")


def _acronym_form(line: str) -> tuple[str, str] | None:
    """(name, acronym) of "Name (ACR)" or "ACR | Name"; None for other lines."""
    match = ACRONYM_IN_PARENTHESES.match(line) or ACRONYM_BEFORE_BAR.match(line)
    if match is None:
        return None
    acronym = match.group("acronym")
    upper = sum(c.isupper() for c in acronym)
    lower = sum(c.islower() for c in acronym)
    if upper < 2 or lower > upper:
        return None
    return match.group("name").strip(), acronym


def _reads_as_person(line: str) -> bool:
    parts = [part.strip() for part in re.split(r",\s*", line) if part.strip()]
    if len(parts) < 2 or LEGAL_SUFFIX.match(parts[-1]):
        return False
    first = parts[0]
    if ORGANIZATION_WORDS.search(first) or _acronym_form(first):
        return False
    words = first.split()
    return bool(HONORIFIC.match(first)) or (
        2 <= len(words) <= 5
        and all(_proper(w) for w in words if w.casefold() not in LOWERCASE_WORDS)
    )


def parse_signatory(line: str, *, group: str = "") -> dict[str, str]:
    """One printed signatory line as an interchange signatory (letter.schema.json).

    "Name", "Name (ACR)" and "ACR | Name" are organizations; "Person, Affiliation" and
    "Person, Title, Affiliation" are individuals (under an individuals' heading any line is). A
    mark "for identification only" or an asterisk stays in the printed line, not in the
    affiliation.
    """
    bare = IDENTIFICATION.sub("", line).rstrip(" *").strip() or line
    if INDIVIDUAL_GROUP.search(group):
        individual = True
    elif ORGANIZATION_GROUP.search(group):
        individual = False
    else:
        individual = _reads_as_person(bare)
    item: dict[str, str]
    if individual:
        parts = [part.strip() for part in re.split(r",\s*", bare) if part.strip()]
        item = {"person": parts[0]}
        if len(parts) == 2:
            item["affiliation"] = parts[1]
        elif len(parts) > 2:
            item["title"] = parts[1]
            item["affiliation"] = ", ".join(parts[2:])
        default = ", ".join(parts)
    else:
        found = _acronym_form(bare)
        if found is not None:
            name, acronym = found
            item = {"name": name, "acronym": acronym}
            default = f"{name} ({acronym})"
        else:
            item = {"name": bare}
            default = bare
    if line != default:
        item["display"] = line
    if group:
        item["group"] = group
    return item
