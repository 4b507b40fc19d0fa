"""Trigram similarity as PostgreSQL's pg_trgm computes it, and the names nearest a name by it.

On PostgreSQL the trigram index on the upper-cased name (migration 0006) finds them; on SQLite,
which has neither pg_trgm nor the index, the same measure is computed here over every name, so
that both databases offer the same names to compare (coalition/crm/duplicates.py decides).
"""

import re
import unicodedata

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection, models, transaction
from django.db.models.functions import Upper

from coalition.crm.models import Organization

#: pg_trgm's similarity from which a name is worth comparing (its `%` operator's default).
NEAR_SIMILARITY = 0.3
#: How many of the nearest names are compared, at most.
NEAR_LIMIT = 200


def _one_for_one(text: str, change: str) -> str:
    """`text` upper- or lower-cased a letter at a time, as PostgreSQL does: where Python would
    write one letter as two ("ß" upper-cased is "SS"), the letter stays as it is."""
    if text.isascii():
        return getattr(text, change)()
    changed = (getattr(ch, change)() for ch in text)
    return "".join(new if len(new) == 1 else ch for ch, new in zip(text, changed, strict=True))


ASCII_WORD = re.compile("[A-Za-z0-9]+")
# Marks that accent any letter (and variation selectors): no part of a word to pg_trgm, where a
# script's own marks (Arabic vowels, Devanagari vowel signs) are.
GENERIC_MARKS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
    "\U000e0100-\U000e01ef]"
)


def _trigram_words(text: str) -> list[str]:
    """The words pg_trgm takes trigrams of: runs of what the C library calls alphanumeric in a
    UTF-8 locale, which is Unicode's letters, a script's own marks and its digits."""
    if text.isascii():
        return ASCII_WORD.findall(text)
    words, word = [], []
    for ch in text:
        category = unicodedata.category(ch)
        if (
            category[0] == "L"
            or category in ("Nd", "Nl", "Mc")
            or (category == "Mn" and not GENERIC_MARKS.match(ch))
        ):
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of `text`: each word lower-cased, two spaces before it and one after."""
    found: set[str] = set()
    # As the index has it: the name upper-cased (then lower-cased by pg_trgm). A final sigma
    # upper-cased and lower-cased again is a sigma.
    for word in _trigram_words(_one_for_one(_one_for_one(text, "upper"), "lower")):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(word) + 1))
    return found


def has_trigrams(text: str) -> bool:
    """Whether a trigram index helps find `text` in a `LIKE '%text%'`: pg_trgm looks up the
    trigrams of its words, and a word of fewer than three letters has none of its own."""
    return any(len(word) >= 3 for word in _trigram_words(text))


def trigram_similarity(one: set[str], other: set[str]) -> float:
    """pg_trgm's similarity: the trigrams two texts share, over all the trigrams of either."""
    shared = len(one & other)
    total = len(one) + len(other) - shared
    return shared / total if total else 0.0


def near_by_trigrams(name: str) -> list[int]:
    """Organizations whose names are nearest `name` by trigrams, nearest first.

    PostgreSQL's `%` finds them through the trigram index on the upper-cased name; elsewhere
    each name is compared here with the same measure, threshold and limit. Records merged away
    are among them (the caller leaves them out): on a filter of its own, the planner would
    rather read the merged column's index than the names'.
    """
    organizations = Organization.objects.all()
    if connection.vendor == "postgresql":
        typed = Upper(models.Value(name))
        with transaction.atomic(), connection.cursor() as cursor:
            # `%` reads its threshold from the session: set for this transaction only, so that a
            # server configured otherwise still answers as SQLite does. The planner takes `%`
            # for a cheap test and scans every name rather than use the index once many names
            # share a common word ("Association"): four times slower at 10,000 names.
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), "
                "set_config('pg_trgm.similarity_threshold', %s, true), "
                "set_config('enable_seqscan', 'off', true)",
                [str(NEAR_SIMILARITY)],
            )
            [(seqscan, *_)] = cursor.fetchall()
            near = list(
                organizations.alias(upper_name=Upper("name"))
                .filter(upper_name__trigram_similar=typed)
                # Django takes an expression where the stubs allow only a string.
                .annotate(similarity=TrigramSimilarity(Upper("name"), typed))  # type: ignore[arg-type]
                .order_by("-similarity", "pk")
                .values_list("pk", flat=True)[:NEAR_LIMIT]
            )
            # Until the end of the transaction it would hold for every query after this one.
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [seqscan])
        return near
    wanted = trigrams(name)
    scored = []
    for pk, other in organizations.values_list("pk", "name").iterator(chunk_size=5000):
        similarity = trigram_similarity(wanted, trigrams(other))
        if similarity >= NEAR_SIMILARITY:
            scored.append((-similarity, pk))
    return [pk for _, pk in sorted(scored)[:NEAR_LIMIT]]
