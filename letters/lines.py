"""A letter's signatory list as it prints: its lines, its groups, its columns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SignatoryLine:
    """One printed line of a signatory list, as handed to the letter templates."""

    text: str
    group: str = ""
    detail: str = ""
    logo_url: str = ""
    # The signatory's public page, where it has one: the letters it signed.
    url: str = ""


@dataclass(frozen=True)
class SignatoryGroup:
    heading: str
    lines: list[SignatoryLine]


PLACEHOLDER_SIGNATORIES = (
    ("Association of Example Manufacturers (AEM)", "Jane Placeholder", "President and CEO"),
    ("Coalition for Sample Services", "Sam Example", "Executive Director"),
    ("Example Industry Council (EIC)", "Alex Stand-in", "Vice President, Policy"),
    ("National Association of Placeholders", "Robin Draft", "General Counsel"),
    ("Sample Trade Alliance (STA)", "Chris Specimen", "Director of Government Affairs"),
    ("The Illustrative Society", "Pat Mock-up", "Chair"),
)


def placeholder_lines(*, with_signer: bool = False) -> list[SignatoryLine]:
    """Stand-in signatories for previews of a letter nobody has signed yet."""
    return [
        SignatoryLine(text=name, detail=f"{signer}, {title}" if with_signer else "")
        for name, signer, title in PLACEHOLDER_SIGNATORIES
    ]


def group_lines(lines: list[SignatoryLine]) -> list[SignatoryGroup]:
    """Consecutive lines under the same heading form one section, in order."""
    groups: list[SignatoryGroup] = []
    for line in lines:
        if not groups or groups[-1].heading != line.group:
            groups.append(SignatoryGroup(heading=line.group, lines=[]))
        groups[-1].lines.append(line)
    return groups


def signatory_columns(lines: list[SignatoryLine]) -> int:
    """How many columns a signatory list flows into: short lists read better in one."""
    if len(lines) <= 12:
        return 1
    longest = max(max(len(line.text), len(line.detail)) for line in lines)
    return 3 if len(lines) > 60 and longest <= 32 else 2
