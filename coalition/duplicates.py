"""Likely duplicates: two spellings of one organization that `name_key` keeps apart.

`name_key` makes names unique up to case, accents, punctuation and spacing; people also write
"&" for "and", "Assn" for "Association", add or drop "Inc." and "The", and type the acronym
instead of the name. The loose key below folds those too. It is too loose to be a constraint
("Acme Inc." and "Acme Ltd" may be two companies), so it only ever proposes: a warning in the
editor, a match on import when one organization and no other fits, a pair offered for merging.

Keys keep every script: words are split and folded as Unicode, and each goes through
`name_key`, so the loose key follows whatever the strict one does with case and accents.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coalition.models import DistinctOrganizations, Organization, name_key, name_words

#: Abbreviations and variants, by the word they stand for (after apostrophes and periods go).
ABBREVIATIONS = {
    "assn": "association",
    "asn": "association",
    "assoc": "association",
    "assocn": "association",
    "asso": "association",
    "intl": "international",
    "internat": "international",
    "natl": "national",
    "nat": "national",
    "cttee": "committee",
    "ctee": "committee",
    "cmte": "committee",
    "cte": "committee",
    "fed": "federation",
    "fedn": "federation",
    "dept": "department",
    "govt": "government",
    "inst": "institute",
    "univ": "university",
    "soc": "society",
    "ctr": "center",
    "centre": "center",
    "cncl": "council",
    "coun": "council",
    "mfrs": "manufacturers",
    "mfg": "manufacturing",
    "mgmt": "management",
    "svcs": "services",
    "bros": "brothers",
    "amer": "american",
    "grp": "group",
}
#: Legal forms at the end of a name: "Acme Corp." and "Acme Corporation" are one Acme.
LEGAL_FORMS = {
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "pllc",
    "gmbh",
    "ag",
    "sa",
    "nv",
    "bv",
    "pty",
}
#: Words that spellings of one name add or drop.
FILLER_WORDS = {"the", "and", "of"}
# "&", "+" and the full-width plus; straight, curly and modifier apostrophes, and accents typed
# as apostrophes.
AMPERSANDS = re.compile("[&+\uff0b]")
APOSTROPHES = re.compile("['`\u2019\u02bc\u00b4]")
# U.S., N.A.M.: initials with periods are one word.
INITIALISM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
# A trailing acronym in parentheses: "National Association of Manufacturers (NAM)".
TRAILING_ACRONYM = re.compile(r"^(?P<name>.*\S)\s*[(\[](?P<acronym>[^\s()\[\]]{2,15})[)\]]\s*$")
# What could be an acronym typed as a name: one word, short.
ACRONYM_LIKE = re.compile(r"^[^\W_]{2,10}$")


def split_acronym(name: str) -> tuple[str, str]:
    """The name without a trailing "(ACRONYM)", and that acronym ("" if none)."""
    match = TRAILING_ACRONYM.match(name.strip())
    if match is None:
        return name.strip(), ""
    return match["name"], match["acronym"]


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = APOSTROPHES.sub("", text)
    text = INITIALISM.sub(lambda m: m.group().replace(".", ""), text)
    text = AMPERSANDS.sub(" and ", text)
    words = [ABBREVIATIONS.get(word, word) for word in name_words(text)]
    words = [word for word in words if word not in FILLER_WORDS]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return words


def _folded(word: str) -> str:
    # name_key folds case and accents as the strict key does; a word it would drop entirely
    # (a script it does not keep) stays as Unicode case folding left it.
    return name_key(word) or word


def likely_duplicate_key(name: str) -> str:
    """The loose form of a name that its likely duplicates share ("" for a name without letters)."""
    base, _ = split_acronym(name)
    key = "".join(_folded(word) for word in _words(base))
    return key or name_key(name)


def acronym_key(text: str) -> str:
    """An acronym without case, periods or spaces: "N.A.M." and "nam" are one."""
    return "".join(name_words(unicodedata.normalize("NFKC", text).casefold()))


@dataclass(frozen=True)
class LikelyMatch:
    """An existing organization a name may mean, why, and whether the names agree.

    `certain` means the names agree (the same loose name, or one is the other's acronym): an
    import may take the row for that organization when it is the only candidate. A shared
    acronym under different names is only shown.
    """

    pk: int
    name: str
    reason: str
    certain: bool


@dataclass(frozen=True)
class _Known:
    pk: int
    name: str
    acronym: str


class DuplicateIndex:
    """Existing organizations by the loose forms of their names and acronyms, built once."""

    def __init__(self, organizations: Iterable[tuple[int, str, str]]) -> None:
        self.by_key: dict[str, list[_Known]] = defaultdict(list)
        self.by_acronym: dict[str, list[_Known]] = defaultdict(list)
        self.known: dict[int, _Known] = {}
        for pk, name, acronym in organizations:
            known = _Known(pk=pk, name=name, acronym=acronym or "")
            self.known[pk] = known
            key = likely_duplicate_key(name)
            if key:
                self.by_key[key].append(known)
            _, written = split_acronym(name)
            for each in {acronym_key(acronym or ""), acronym_key(written)} - {""}:
                self.by_acronym[each].append(known)

    def matches(
        self, *, name: str, acronym: str = "", exclude_pk: int | None = None
    ) -> list[LikelyMatch]:
        """Existing organizations that `name` (with `acronym`) likely means, surest first."""
        base, written = split_acronym(name)
        acronym = acronym.strip() or written
        found: dict[int, LikelyMatch] = {}

        def add(candidates: Iterable[_Known], reason: str, *, certain: bool) -> None:
            for known in candidates:
                if known.pk == exclude_pk or (
                    known.pk in found and (found[known.pk].certain or not certain)
                ):
                    continue
                found[known.pk] = LikelyMatch(known.pk, known.name, reason, certain)

        add(self.by_key.get(likely_duplicate_key(name), ()), "similar name", certain=True)
        if ACRONYM_LIKE.match(base.strip()):
            add(
                self.by_acronym.get(acronym_key(base), ()),
                "its acronym is this name",
                certain=True,
            )
        if acronym:
            add(
                self.by_key.get(likely_duplicate_key(acronym), ()),
                "its name is this acronym",
                certain=True,
            )
            # Under another name, a shared acronym may be a coincidence: shown, not matched.
            add(self.by_acronym.get(acronym_key(acronym), ()), "same acronym", certain=False)
        return sorted(found.values(), key=lambda m: (not m.certain, m.name))

    def pairs(self) -> list[tuple[int, int, str]]:
        """Pairs of existing organizations that look like one (older first), with the reason."""
        seen: dict[tuple[int, int], str] = {}
        for group, reason in (
            *((g, "similar name") for g in self.by_key.values()),
            *((g, "same acronym") for g in self.by_acronym.values()),
        ):
            if len(group) < 2:
                continue
            for i, first in enumerate(group):
                for second in group[i + 1 :]:
                    pair = (min(first.pk, second.pk), max(first.pk, second.pk))
                    seen.setdefault(pair, reason)
        # An organization named as another's acronym ("NAM" beside "National … (NAM)").
        for known in self.known.values():
            if ACRONYM_LIKE.match(known.name.strip()):
                for other in self.by_acronym.get(acronym_key(known.name), ()):
                    if other.pk != known.pk:
                        pair = (min(known.pk, other.pk), max(known.pk, other.pk))
                        seen.setdefault(pair, "one is named as the other's acronym")
        return [(a, b, reason) for (a, b), reason in sorted(seen.items())]


def duplicate_index() -> DuplicateIndex:
    """Every organization staff can still find (pending ones too, not merged records), indexed."""
    return DuplicateIndex(
        Organization.objects.filter(merged_into__isnull=True)
        .values_list("pk", "name", "acronym")
        .iterator(chunk_size=5000)
    )


def likely_duplicates_of(
    *, name: str, acronym: str = "", exclude_pk: int | None = None
) -> list[tuple[Organization, LikelyMatch]]:
    """Existing organizations that this name (and acronym) likely means, surest first."""
    if not name.strip() and not acronym.strip():
        return []
    matches = duplicate_index().matches(name=name, acronym=acronym, exclude_pk=exclude_pk)
    found = Organization.objects.in_bulk([match.pk for match in matches])
    return [(found[match.pk], match) for match in matches if match.pk in found]


def likely_duplicate_pairs() -> list[tuple[Organization, Organization, str]]:
    """Pairs of existing organizations that look like one, the older first, with the reason."""
    pairs = duplicate_index().pairs()
    found = Organization.objects.in_bulk({pk for pair in pairs for pk in pair[:2]})
    distinct = set(DistinctOrganizations.objects.values_list("first_id", "second_id"))
    return [
        (found[first], found[second], reason)
        for first, second, reason in pairs
        if first in found and second in found and _ordered(first, second) not in distinct
    ]


def _ordered(one: int, other: int) -> tuple[int, int]:
    return (one, other) if one < other else (other, one)


def mark_distinct(one: Organization, other: Organization, *, user: Any) -> None:
    """Staff found these two to be different organizations: they are no longer offered as a pair."""
    first, second = _ordered(one.pk, other.pk)
    if first == second:
        return
    DistinctOrganizations.objects.get_or_create(
        first_id=first, second_id=second, defaults={"decided_by": user}
    )
