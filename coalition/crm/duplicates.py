"""Likely duplicates: two spellings of one organization that `name_key` keeps apart.

`name_key` makes names unique up to case, accents, punctuation and spacing; people also write
"&" for "and", "Assn" for "Association", add or drop "Inc." and "The", and type the acronym
instead of the name. The loose key below folds those too. It is too loose to be a constraint
("Acme Inc." and "Acme Ltd" may be two companies), so it only ever proposes: a warning in the
editor, a match on import when one organization and no other fits, a pair offered for merging.

Keys keep every script: words are split and folded as Unicode, and each goes through
`name_key`, so the loose key follows whatever the strict one does with case and accents.

Beyond one loose key, names are *spelled alike* when their loose words pair up but for a
one-letter slip ("Nationl"), a shortened word ("Tech" for "Technology"), one word left out or
the words in another order (`spelling_difference`). That is decided here, in Python, on both
databases; the database only narrows the organizations worth comparing (`likely_duplicates_of`),
and the nearest names by trigrams come from the trigram index on PostgreSQL and from the same
measure computed in Python elsewhere (coalition/crm/trigrams.py).
"""

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.contrib.auth.models import User
from django.db import models

from coalition.crm.models import DistinctOrganizations, Organization, name_key, name_words
from coalition.crm.trigrams import near_by_trigrams

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


@lru_cache(maxsize=20_000)
def likely_duplicate_words(name: str) -> tuple[str, ...]:
    """The words of a name as likely duplicates compare them: folded, abbreviations written out,
    without filler words, a trailing legal form or a trailing "(ACRONYM)"."""
    # Cached: each check compares a few hundred names, mostly the same ones from one to the
    # next, and folding a name letter by letter costs more than the comparing.
    base, _ = split_acronym(name)
    return tuple(_folded(word) for word in _words(base))


def likely_duplicate_key(name: str) -> str:
    """The loose form of a name that its likely duplicates share ("" for a name without letters)."""
    return "".join(likely_duplicate_words(name)) or name_key(name)


# Spelled alike ----------------------------------------------------------------------------------

#: In a word this long a wrong, missing, extra or swapped letter is a slip ("Nationl"); in a
#: shorter one it makes another word ("Hill" and "Hall", "Smith" and "Smyth").
TYPO_MIN_LENGTH = 6
#: A word cut to this many letters or more is the word shortened ("Tech" for "Technology").
SHORTENED_MIN_LENGTH = 4
#: A word left out must have this many letters: "Co-operative" is not "Operative".
DROPPED_MIN_LENGTH = 3
#: A name missing a word must keep this many: "Industry Council" is no spelling of "Steel
#: Industry Council", "National Trade Council" may be one of "National Foreign Trade Council".
DROPPED_KEEPS = 3


# name_words writes digits of every script as 0-9. "Local 1234" is not "Local 1243".
_has_digit = re.compile("[0-9]").search


def _one_edit_apart(one: str, other: str) -> bool:
    """One letter wrong, missing or extra, or two neighbouring letters swapped."""
    if one == other or abs(len(one) - len(other)) > 1:
        return False
    if len(one) == len(other):
        wrong = [i for i, (a, b) in enumerate(zip(one, other, strict=True)) if a != b]
        if len(wrong) == 1:
            return True
        # Two neighbours swapped: "Natoinal".
        return (
            len(wrong) == 2
            and wrong[1] == wrong[0] + 1
            and one[wrong[0]] == other[wrong[1]]
            and one[wrong[1]] == other[wrong[0]]
        )
    shorter, longer = sorted((one, other), key=len)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]


def _word_alike(one: str, other: str) -> str | None:
    """How two different words may be one word: shortened, or mistyped; None if they may not."""
    if _has_digit(one) or _has_digit(other):
        return None
    shorter, longer = sorted((one, other), key=len)
    if len(shorter) >= SHORTENED_MIN_LENGTH and longer.startswith(shorter):
        return f"“{shorter}” short for “{longer}”"
    if len(longer) >= TYPO_MIN_LENGTH and _one_edit_apart(one, other):
        return f"“{one}” and “{other}” one letter apart"
    return None


def spelling_difference(one: Sequence[str], other: Sequence[str]) -> str | None:
    """How two names' loose words (likely_duplicate_words) differ if the names are spelled alike.

    Alike: every word of the shorter name pairs with a word of the other, the same, shortened
    ("Tech", "Technology") or one letter apart ("Nationl", "National"), in any order; no fewer
    words are the same than differ, so that names sharing only their common words stay apart
    ("Consumer Technology Association", "Consumer Brands Association"). Or the longer name has
    one word more and the rest are the same ("National Trade Council", "National Foreign Trade
    Council"). None for names that are not alike, and for names with the same loose key
    (matched as such).
    """
    if not one or not other or abs(len(one) - len(other)) > 1 or "".join(one) == "".join(other):
        return None
    shorter, longer = (one, other) if len(one) <= len(other) else (other, one)
    rest = list(longer)
    unpaired = []
    for word in shorter:
        if word in rest:
            rest.remove(word)
        else:
            unpaired.append(word)
    same = len(shorter) - len(unpaired)
    if unpaired and (len(longer) > len(shorter) or (same < len(unpaired) and len(longer) > 1)):
        return None  # as below, without comparing the words: most names fail here
    differences = []
    for word in unpaired:
        for candidate in rest:
            # In the order given: "one" and "other" name the words as they were passed.
            alike = _word_alike(word, candidate) if shorter is one else _word_alike(candidate, word)
            if alike:
                rest.remove(candidate)
                differences.append(alike)
                break
        else:
            return None
    if rest:
        [left_out] = rest
        if (
            differences
            or len(shorter) < DROPPED_KEEPS
            or len(left_out) < DROPPED_MIN_LENGTH
            or _has_digit(left_out)
        ):
            return None
        differences.append(f"with or without “{left_out}”")
    if not differences:
        return "the same words in another order"
    # One word alone may be mistyped ("Gogle"); cut short, it may be another name ("Micro").
    lone_typo = len(longer) == 1 and "one letter apart" in differences[0]
    if same < len(differences) and not lone_typo:
        return None
    return "spelled alike: " + "; ".join(differences)


def _spelling_keys(word: str) -> Iterable[str]:
    """Where a known word is filed, for the words spelled like it to find (`_spelling_probes`)."""
    yield "=" + word
    if _has_digit(word):
        return
    # Each beginning it may be shortened to.
    for end in range(SHORTENED_MIN_LENGTH, len(word)):
        yield "<" + word[:end]
    # The word and each of its one-letter deletions: two words one letter apart share one.
    if len(word) >= TYPO_MIN_LENGTH - 1:
        yield "~" + word
        for i in range(len(word)):
            yield "~" + word[:i] + word[i + 1 :]


def _spelling_probes(word: str) -> Iterable[str]:
    """The keys under which known words spelled like `word` are filed."""
    yield "=" + word
    if _has_digit(word):
        return
    if len(word) >= SHORTENED_MIN_LENGTH:
        yield "<" + word  # it shortens a known word
        for end in range(SHORTENED_MIN_LENGTH, len(word)):
            yield "=" + word[:end]  # a known word shortens it
    if len(word) >= TYPO_MIN_LENGTH - 1:
        yield "~" + word
        for i in range(len(word)):
            yield "~" + word[:i] + word[i + 1 :]


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

    def __init__(
        self, organizations: Iterable[tuple[int, str, str]], *, one_name: bool = False
    ) -> None:
        # Asked about one name only: its candidates are compared with it rather than filed.
        self.one_name = one_name
        self.by_key: dict[str, list[_Known]] = defaultdict(list)
        self.by_acronym: dict[str, list[_Known]] = defaultdict(list)
        self.known: dict[int, _Known] = {}
        # Each organization's loose words, for the names spelled alike.
        self.words: dict[int, tuple[str, ...]] = {}
        for pk, name, acronym in organizations:
            known = _Known(pk=pk, name=name, acronym=acronym or "")
            self.known[pk] = known
            words = likely_duplicate_words(name)
            self.words[pk] = words
            key = "".join(words) or name_key(name)
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
        if not any(match.certain for match in found.values()):
            # A name spelled alike may be a slip or another organization: shown, never matched.
            # Any two of its words hold one the other name shares, even if a word is left out.
            for pk, difference in self.spelled_alike(likely_duplicate_words(name), probes=2):
                add([self.known[pk]], difference, certain=False)
        return sorted(found.values(), key=lambda m: (not m.certain, m.name))

    @cached_property
    def _by_spelling(self) -> dict[str, list[int]]:
        """Known organizations by the keys their words are filed under (`_spelling_keys`)."""
        index: dict[str, list[int]] = defaultdict(list)
        for pk, words in self.words.items():
            for key in {key for word in words for key in _spelling_keys(word)}:
                index[key].append(pk)
        return index

    @cached_property
    def _word_counts(self) -> Counter[str]:
        """How many known names have each word."""
        return Counter(word for words in self.words.values() for word in set(words))

    def spelled_alike(
        self, words: Sequence[str], *, probes: int, look_up: bool = False
    ) -> list[tuple[int, str]]:
        """Known organizations whose names are spelled like these loose words, with how.

        The `probes` rarest words are looked up: each pairs with a word of a name spelled alike
        unless it is the one word left out. For an index of one name's candidates, each known
        name is compared instead, sooner than filed, unless asked to `look_up`.
        """
        if self.one_name and not look_up:
            candidates: Iterable[int] = self.words
        else:
            counts = self._word_counts
            rarest = sorted(set(words), key=lambda word: (counts[word], -len(word), word))
            candidates = {
                pk
                for word in rarest[:probes]
                for key in _spelling_probes(word)
                for pk in self._by_spelling.get(key, ())
            }
        found = []
        for pk in sorted(candidates):
            difference = spelling_difference(words, self.words[pk])
            if difference:
                found.append((pk, difference))
        return found

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
        # Names spelled alike: every word of the shorter name pairs with one of the other's,
        # its rarest word too, so that the shorter name's rarest word finds the pair.
        for pk, words in self.words.items():
            for found, _ in self.spelled_alike(words, probes=1, look_up=True):
                older, newer = min(pk, found), max(pk, found)
                if older != newer and (older, newer) not in seen:
                    # Told as the older and the newer are listed, whichever found the other.
                    difference = spelling_difference(self.words[older], self.words[newer])
                    seen[(older, newer)] = difference or ""
        return [(a, b, reason) for (a, b), reason in sorted(seen.items())]


def duplicate_index() -> DuplicateIndex:
    """Every organization staff can still find (pending ones too, not merged records), indexed."""
    return DuplicateIndex(
        Organization.objects.filter(merged_into__isnull=True)
        .values_list("pk", "name", "acronym")
        .iterator(chunk_size=5000)
    )


# Every spelling of a word that abbreviations stand for: "association" is "assn", "assoc", ….
SPELLINGS: dict[str, set[str]] = defaultdict(set)
for _short, _full in ABBREVIATIONS.items():
    SPELLINGS[_full].add(_short)


def _holding(words: Iterable[str], *, shortest: int = 1) -> models.Q:
    """Organizations whose strict key holds each of these loose words, in one of its spellings
    of at least `shortest` letters.

    The strict key is the name's folded words run together, so a word of the name, whatever its
    case, accents or punctuation, is a part of it: "Widget-Makers' Assn" is "widgetmakersassn".
    """
    query = models.Q()
    for word in words:
        spelled = models.Q()
        for spelling in sorted({word, *SPELLINGS.get(word, ())}):
            if len(spelling) >= shortest or spelling == word:
                spelled |= models.Q(name_key__contains=spelling)
        query &= spelled
    return query


def _with_words_of(text: str) -> models.Q:
    """Organizations that may share `text`'s loose key, or be spelled like it but for one word.

    All its words: the same loose key, or a word of it shortened in `text` ("Tech"). For three
    words or more, all but any one: a name that misspells, shortens or leaves out that one.
    """
    words = sorted({word for word in likely_duplicate_words(text) if name_key(word) == word})
    if not words:
        key = name_key(text)
        return models.Q(name_key__contains=key) if key else models.Q(pk__in=[])
    query = _holding(words)
    if len(words) >= 3:
        # Not "Nat" or "Fed": in a key without spaces three letters are part of too many words.
        for left_out in words:
            query |= _holding((word for word in words if word != left_out), shortest=4)
    return query


def _with_acronym(key: str) -> models.Q:
    """Organizations with this acronym (`acronym_key`) as theirs, or written after their name."""
    spelled = r"\W*".join(re.escape(ch) for ch in key)
    return models.Q(acronym__iregex=rf"^\W*{spelled}\W*$") | models.Q(
        name__iregex=rf"[(\[]\s*{spelled}\s*[)\]]\s*$"
    )


def _candidates(*, name: str, acronym: str) -> list[tuple[int, str, str]]:
    """The organizations `name` could be a likely duplicate of, without reading every one.

    All that share its loose key or its acronym; and, for names spelled alike, those holding all
    its words but one, and the nearest by trigrams.
    """
    base, written = split_acronym(name)
    acronym = acronym.strip() or written
    query = models.Q(pk__in=near_by_trigrams(name)) if name.strip() else models.Q(pk__in=[])
    for text in (name, acronym):
        if text.strip():
            query |= _with_words_of(text)
    if ACRONYM_LIKE.match(base.strip()) and acronym_key(base):
        query |= _with_acronym(acronym_key(base))
    if acronym_key(acronym):
        query |= _with_acronym(acronym_key(acronym))
    return list(
        Organization.objects.filter(merged_into__isnull=True)
        .filter(query)
        .values_list("pk", "name", "acronym")
    )


def likely_duplicates_of(
    *, name: str, acronym: str = "", exclude_pk: int | None = None
) -> list[tuple[Organization, LikelyMatch]]:
    """Existing organizations that this name (and acronym) likely means, surest first."""
    if not name.strip() and not acronym.strip():
        return []
    index = DuplicateIndex(_candidates(name=name, acronym=acronym), one_name=True)
    matches = index.matches(name=name, acronym=acronym, exclude_pk=exclude_pk)
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


def distinct_from(pk: int) -> set[int]:
    """The organizations staff found to be different from this one."""
    pairs = DistinctOrganizations.objects.filter(
        models.Q(first_id=pk) | models.Q(second_id=pk)
    ).values_list("first_id", "second_id")
    return {second if first == pk else first for first, second in pairs}


def mark_distinct(one: Organization, other: Organization, *, user: User | None) -> None:
    """Staff found these two to be different organizations: they are no longer offered as a pair."""
    first, second = _ordered(one.pk, other.pk)
    if first == second:
        return
    DistinctOrganizations.objects.get_or_create(
        first_id=first, second_id=second, defaults={"decided_by": user}
    )
