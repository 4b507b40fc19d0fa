"""The public archive of letters: a search, filters and a page of cards, read from the GET
parameters of /letters/.

Every filter is plain ORM on the archive's letters; a search only narrows them to the letters
Wagtail's search finds (PostgreSQL's full-text search, or FTS5 on SQLite), so both databases
answer the same filters the same way and the order stays newest first.
"""

import datetime
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Lower
from django.utils.html import strip_tags

from coalition.crm.models import Organization

from .models import Letterhead, LetterIndexPage, LetterPage
from .translations import Language, languages_of_many, translation_url

EXCERPT_LENGTH = 200
# Longer input is no search anybody typed, and a long query is slow to match on both databases.
MAX_QUERY_LENGTH = 200
# A letter prints under an organization's name when that organization's signature is live; the
# sign-on app owns these values, which this app may not import (see DESIGN.md, "Layout").
# Who signed, as the letter prints it now: its current version's frozen organizations.
SIGNED = {"publications__is_current": True}

NEWEST_FIRST: tuple[OrderBy, ...] = (
    # Undated letters last on both databases (PostgreSQL puts NULLs first when descending).
    F("letter_date").desc(nulls_last=True),
    F("first_published_at").desc(nulls_last=True),
    F("id").desc(),
)


PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.IGNORECASE | re.DOTALL)
LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Facet:
    """One filter of the archive: its GET parameter, the values on offer and the one chosen."""

    name: str
    label: str
    any_label: str
    choices: list[Choice]
    selected: Choice | None = None


@dataclass(frozen=True)
class Card:
    """What the archive shows of one letter."""

    letter: LetterPage
    printed_date: str
    date: datetime.date | None
    addressees: list[str]
    coalition: str
    # None for a letter live without a publication record, whose list was never frozen.
    signatory_count: int | None
    excerpt: str
    # The languages it is also in (letters.translations), each with its address.
    languages: list[Language] = field(default_factory=list)


@dataclass(frozen=True)
class Archive:
    query: str
    facets: list[Facet]
    page: Page[Any]
    cards: list[Card]
    # Parameters that named nothing in the archive, said in words; the archive shows without them.
    notices: list[str]
    # Whether the archive holds any letter at all, whatever the search and filters.
    has_letters: bool

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def active_facets(self) -> list[Facet]:
        return [facet for facet in self.facets if facet.selected is not None]

    @property
    def page_range(self) -> list[int | str]:
        """Page numbers to link to, with an ellipsis for long runs."""
        return list(
            self.page.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1)
        )


# A listed letter as the filters read it: pk, date, recipients, coalition's slug and name.
Row = tuple[int, datetime.date | None, str, str | None, str | None]


def find_letters(
    index: LetterIndexPage,
    params: Mapping[str, str],
    *,
    letterhead: Letterhead,
    per_page: int,
) -> Archive:
    """The page of letters that `params` (q, year, coalition, recipient, organization, page) asks
    for, newest first, with the choices of each filter; parameters that name nothing are set aside
    with a notice rather than failing."""
    listed = LetterPage.objects.live().public().child_of(index)
    rows = list(
        listed.values_list("pk", "letter_date", "recipients", "coalition__slug", "coalition__name")
    )
    addressed: dict[str, list[int]] = {}
    for pk, _date, recipients, _slug, _name in rows:
        addressee = first_line(recipients)
        if addressee:
            addressed.setdefault(addressee, []).append(pk)
    notices: list[str] = []
    facets = [_select(facet, params, notices) for facet in _on_offer(listed, rows, addressed)]
    letters = _filtered(listed, facets, addressed)
    query = clean(params.get("q", ""))[:MAX_QUERY_LENGTH].strip()
    found = _searched(letters, query)
    page = Paginator(found, per_page).get_page(clean(params.get("page", "")) or None)
    return Archive(
        query=query,
        facets=facets,
        page=page,
        cards=_with_languages([card(letter, letterhead) for letter in page.object_list]),
        notices=notices,
        has_letters=bool(rows),
    )


def _on_offer(
    listed: QuerySet[LetterPage], rows: list[Row], addressed: dict[str, list[int]]
) -> list[Facet]:
    """Each filter with the choices the listed letters give it."""
    years = sorted({date.year for _pk, date, *_rest in rows if date is not None}, reverse=True)
    coalitions = sorted(
        {(slug, name) for *_rest, slug, name in rows if slug is not None and name is not None},
        key=lambda coalition: coalition[1].casefold(),
    )
    signers = (
        Organization.objects.filter(
            public_page=True,
            status=Organization.Status.ACTIVE,
            merged_into__isnull=True,
            pk__in=listed.filter(**SIGNED).values("publications__organizations"),
        )
        .order_by(Lower("sort_name"), "pk")
        .only("slug", "name", "acronym", "display", "sort_name")
    )
    return [
        Facet("year", "Year", "Any year", [Choice(str(y), str(y)) for y in years]),
        Facet("coalition", "Coalition", "Any coalition", [Choice(s, n) for s, n in coalitions]),
        Facet(
            "recipient",
            "Addressed to",
            "Anyone",
            [Choice(a, a) for a in sorted(addressed, key=str.casefold)],
        ),
        Facet(
            "organization",
            "Signed by",
            "Any organization",
            [Choice(org.slug, org.printed_name) for org in signers],
        ),
    ]


def _filtered(
    listed: QuerySet[LetterPage], facets: list[Facet], addressed: dict[str, list[int]]
) -> QuerySet[LetterPage]:
    """The listed letters narrowed by each filter chosen."""
    year, coalition, recipient, organization = (facet.selected for facet in facets)
    letters = listed
    if year is not None:
        letters = letters.filter(letter_date__year=int(year.value))
    if coalition is not None:
        letters = letters.filter(coalition__slug=coalition.value)
    if recipient is not None:
        letters = letters.filter(pk__in=addressed[recipient.value])
    if organization is not None:
        letters = letters.filter(
            pk__in=LetterPage.objects.filter(
                publications__organizations__slug=organization.value, **SIGNED
            ).values("pk")
        )
    return letters


def _searched(letters: QuerySet[LetterPage], query: str) -> Any:
    """The letters newest first, narrowed to those holding every word of the query: those that
    name it in their title or signatories first (the search weighs those fields double)."""
    ordered = (
        LetterPage.objects.filter(id__in=letters.values("id"))
        .order_by(*NEWEST_FIRST)
        .select_related("coalition")
        .prefetch_related("publications")
    )
    if not query:
        return ordered
    # Only the words: both databases index nothing else, and the FTS5 backend passes a double
    # quote through unescaped, a syntax error on SQLite (wagtail/wagtail#13227).
    words = " ".join(WORD.findall(query))
    # Wagtail's search sees one filter, on the page id (a FilterField of every page): the
    # filters it cannot express (signatures, a recipient's first line) are already applied.
    if not words:
        return ordered.none()
    found = list(ordered.search(words, operator="and", order_by_relevance=False))
    # Letters whose title or signatories hold every word come first, each part newest first.
    return sorted(found, key=lambda letter: not _named(letter, words))


def _named(letter: LetterPage, words: str) -> bool:
    """Whether every word of the query stands in the letter's title or its signatories."""
    named = f"{letter.title}\n{letter.signatory_search_text()}".casefold()
    return all(word in named for word in words.casefold().split())


def card(letter: LetterPage, letterhead: Letterhead) -> Card:
    publication = letter.latest_of_versions_read()
    return Card(
        letter=letter,
        printed_date=letter.printed_date(letterhead),
        date=letter.letter_date,
        addressees=[line.strip() for line in letter.recipient_lines[:2]],
        coalition=letter.coalition.name if letter.coalition is not None else "",
        signatory_count=len(publication.lines()) if publication is not None else None,
        excerpt=excerpt(letter.body.raw_data),
    )


def _with_languages(cards: list[Card]) -> list[Card]:
    """The cards with the other languages each letter reads in, found in one query."""
    found = languages_of_many([card.letter for card in cards])
    return [
        replace(
            card,
            languages=[
                Language.of(code, translation_url(card.letter, code))
                for code in found.get(card.letter.pk, [])
            ],
        )
        for card in cards
    ]


def excerpt(blocks: Iterable[Mapping[str, Any]], length: int = EXCERPT_LENGTH) -> str:
    """The first paragraph of a letter's body as plain text, shortened at a word."""
    for block in blocks:
        if block.get("type") != "paragraph" or not isinstance(block.get("value"), str):
            continue
        source = LINE_BREAK.sub(" ", block["value"])
        for paragraph in PARAGRAPH.findall(source) or [source]:
            text = " ".join(html.unescape(strip_tags(paragraph)).split())
            if text:
                return shorten(text, length)
    return ""


def shorten(text: str, length: int = EXCERPT_LENGTH) -> str:
    if len(text) <= length:
        return text
    cut = text[: length + 1]
    space = cut.rfind(" ")
    # One very long word (a URL) is cut where it reaches the length rather than dropped whole.
    cut = cut[:space] if space > length // 2 else text[:length]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "…"


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def clean(value: str) -> str:
    # PostgreSQL refuses NUL in a string parameter: a query string with %00 would be a 500.
    return value.replace("\x00", "").strip()


UNKNOWN = {
    "year": "There are no letters from {value}.",
    "coalition": "There is no coalition “{value}” in the archive.",
    "recipient": "No letter is addressed to “{value}”.",
    "organization": "No letter in the archive lists a signatory “{value}”.",
}


def _select(facet: Facet, params: Mapping[str, str], notices: list[str]) -> Facet:
    """The facet with the choice its parameter names; a value it does not offer adds a notice."""
    value = clean(params.get(facet.name, ""))
    if not value:
        return facet
    for choice in facet.choices:
        if choice.value == value:
            return replace(facet, selected=choice)
    notices.append(
        UNKNOWN[facet.name].format(value=value[:100]) + " Showing letters without that filter."
    )
    return facet
