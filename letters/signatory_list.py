"""A letter's signatory list on its web page at any size: a page of it at a time, with links
from page to page that need no script, and a search by name, title, affiliation or
organization. The PDF and the open data print the whole list from the same lines.

A published version's list never changes (letters.versions writes it once), so each process
parses it once and keeps it: a page of a list of 100,000 then costs a slice, not a parse of
megabytes of JSON, and a search a scan of words folded once.
"""

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.http import HttpRequest

from .lines import SignatoryLine

if TYPE_CHECKING:
    from .models import LetterPage, Publication

# Past this many lines the page shows one page of the list at a time, with a search; fewer
# when the lines are long, so that a page of the list stays under LIST_BYTES of HTML and the
# first view of a letter under 100 KB, whatever the size of its list.
PAGE_SIZE = 500
MIN_PAGE_SIZE = 50
LIST_BYTES = 80 * 1024
# What a line's markup costs beside its words (templates/letters/includes/letter_text.html):
# the item and its name, its detail, its link, its logo (whose alt text repeats the name).
LINE_MARKUP, DETAIL_MARKUP, LINK_MARKUP, LOGO_MARKUP = 70, 45, 32, 40
# The GET parameters the letter's page reads (declared to the page cache in letters.caching).
PAGE_PARAMETER = "signatories"
SEARCH_PARAMETER = "who"
# Longer is no name anybody typed; the rest is cut off, never an error.
MAX_TERM_LENGTH = 100
ANCHOR = "signatories"
# Pages linked either side of the one shown; the first and the last are always linked.
NEIGHBOURS = 2
# The parsed lists a process keeps, in lines: a letter of 100,000 and a few smaller ones.
KEPT_LINES = 250_000


def fold(text: str) -> str:
    """Text as a search compares it: compatibility forms and accents dropped, case folded, in
    any script ("José" is "jose", a full-width letter its plain one, an Arabic name without its
    vowel marks the same name). Both sides are folded alike, so a search never misses; at most
    it finds more (a Japanese kana with or without its voicing mark)."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def clean_term(raw: str) -> str:
    """A search term as typed, made safe to echo and to match: control characters become
    spaces, runs of spaces one, and it is cut to MAX_TERM_LENGTH."""
    visible = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in raw)
    return " ".join(visible[: MAX_TERM_LENGTH * 4].split())[:MAX_TERM_LENGTH].strip()


@dataclass
class FrozenList:
    """A published version's lines as parsed once, and what the page works out of them once:
    their folded words, the size of a page with and without logos."""

    lines: list[SignatoryLine]
    folded: list[str] | None = None
    page_sizes: dict[bool, int] = field(default_factory=dict)

    def searchable(self) -> list[str]:
        if self.folded is None:
            self.folded = folded(self.lines)
        return self.folded

    def page_size(self, *, logos: bool) -> int:
        if logos not in self.page_sizes:
            self.page_sizes[logos] = page_size(self.lines, logos=logos)
        return self.page_sizes[logos]


def folded(lines: list[SignatoryLine]) -> list[str]:
    return [fold(f"{line.text}\n{line.detail}") for line in lines]


def _line_bytes(line: SignatoryLine, *, logos: bool) -> int:
    size = LINE_MARKUP + len(line.text.encode())
    if line.detail:
        size += DETAIL_MARKUP + len(line.detail.encode())
    if line.url:
        size += LINK_MARKUP + len(line.url)
    if logos and line.logo_url:
        size += LOGO_MARKUP + len(line.logo_url) + len(line.text.encode())
    return size


def page_size(lines: list[SignatoryLine], *, logos: bool) -> int:
    """How many lines a page of this list shows: PAGE_SIZE, or fewer (a multiple of 50) when
    its lines are long (a logo, a link, a signer and title each), so that a page of them, at their average length, fits LIST_BYTES."""
    if not lines:
        return PAGE_SIZE
    average = sum(_line_bytes(line, logos=logos) for line in lines) / len(lines)
    return max(MIN_PAGE_SIZE, min(PAGE_SIZE, int(LIST_BYTES / average) // 50 * 50))


class _Kept:
    """The lists this process parsed last, bounded by their lines (the newest always kept)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lists: OrderedDict[tuple[int, str], FrozenList] = OrderedDict()
        self.size = 0

    def get(self, key: tuple[int, str]) -> FrozenList | None:
        with self.lock:
            found = self.lists.get(key)
            if found is not None:
                self.lists.move_to_end(key)
            return found

    def put(self, key: tuple[int, str], frozen: FrozenList) -> None:
        with self.lock:
            if key in self.lists:
                return
            self.lists[key] = frozen
            self.size += len(frozen.lines)
            while self.size > KEPT_LINES and len(self.lists) > 1:
                _, dropped = self.lists.popitem(last=False)
                self.size -= len(dropped.lines)

    def forget(self) -> None:
        with self.lock:
            self.lists.clear()
            self.size = 0


KEPT = _Kept()


def _parsed(signatories: list[dict[str, str]]) -> list[SignatoryLine]:
    return [SignatoryLine(**line) for line in signatories]


def frozen_list(publication: "Publication") -> FrozenList:
    """A published version's list, parsed once per process. Keyed by its id and moment of
    publication too, so that an id used again (a restored database) is never read as another."""
    if publication.pk is None:
        return FrozenList(_parsed(publication.signatories))
    key = (publication.pk, publication.published_at.isoformat())
    found = KEPT.get(key)
    if found is None:
        if "signatories" in publication.get_deferred_fields():
            # Read here alone: the page's query of the versions leaves the lists out.
            signatories = (
                type(publication)
                ._default_manager.filter(pk=publication.pk)
                .values_list("signatories", flat=True)
                .get()
            )
        else:
            signatories = publication.signatories
        found = FrozenList(_parsed(signatories))
        KEPT.put(key, found)
    return found


@dataclass(frozen=True)
class PageLink:
    number: int
    url: str
    current: bool = False


@dataclass(frozen=True)
class ListPage:
    """The part of a long list the page shows: one page of it, or of the lines a search found."""

    lines: list[SignatoryLine]
    number: int
    pages: int
    # The lines the search found, or every line when there is no search.
    found: int
    # The first line shown, counted from 1 among those found.
    first: int
    term: str
    # The numbered links, with None where pages are left out between them.
    links: list[PageLink | None] = field(default_factory=list)
    previous_url: str = ""
    next_url: str = ""
    # The list without the search, when one is made.
    clear_url: str = ""

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1


def _page_number(raw: str, pages: int) -> int:
    """The page asked for, within the list: page 1 for anything that is not a number, the last
    page for a number past it."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        return 1
    return max(1, min(int(raw[:9]), pages))


def _url(path: str, term: str, number: int) -> str:
    query = {SEARCH_PARAMETER: term} if term else {}
    if number > 1:
        query[PAGE_PARAMETER] = str(number)
    return f"{path}?{urlencode(query)}#{ANCHOR}" if query else f"{path}#{ANCHOR}"


def _links(path: str, term: str, number: int, pages: int) -> list[PageLink | None]:
    shown = {1, pages, *range(number - NEIGHBOURS, number + NEIGHBOURS + 1)}
    links: list[PageLink | None] = []
    for n in sorted(shown):
        if not 1 <= n <= pages:
            continue
        if links and (previous := links[-1]) is not None and n > previous.number + 1:
            links.append(None)  # a gap
        links.append(PageLink(n, _url(path, term, n), current=n == number))
    return links


def list_page(
    request: HttpRequest,
    lines: list[SignatoryLine],
    frozen: FrozenList | None = None,
    *,
    logos: bool = False,
) -> ListPage | None:
    """The page of the list this request asks for (?signatories=N, ?who=…), or None when the
    list fits on one page and shows whole, as it always has (under PAGE_SIZE lines of common
    length). `frozen` holds the same lines parsed once, with what is worked out of them, when
    they are a published version's."""
    if len(lines) <= MIN_PAGE_SIZE:
        return None
    size = frozen.page_size(logos=logos) if frozen is not None else page_size(lines, logos=logos)
    if len(lines) <= size:
        return None
    term = clean_term(request.GET.get(SEARCH_PARAMETER, ""))
    found = lines
    if term:
        haystack = frozen.searchable() if frozen is not None else folded(lines)
        # Every word, anywhere in the line: each narrows what the next one scans.
        matching: list[int] | range = range(len(lines))
        for word in fold(term).split():
            matching = [i for i in matching if word in haystack[i]]
        found = [lines[i] for i in matching]
    pages = max(1, -(-len(found) // size))
    number = _page_number(request.GET.get(PAGE_PARAMETER, ""), pages)
    start = (number - 1) * size
    path = request.path
    return ListPage(
        lines=found[start : start + size],
        number=number,
        pages=pages,
        found=len(found),
        first=start + 1,
        term=term,
        links=_links(path, term, number, pages) if pages > 1 else [],
        previous_url=_url(path, term, number - 1) if number > 1 else "",
        next_url=_url(path, term, number + 1) if number < pages else "",
        clear_url=_url(path, "", 1) if term else "",
    )


def letter_list_page(
    letter: "LetterPage", request: HttpRequest, lines: list[SignatoryLine]
) -> ListPage | None:
    """The page of a letter's list to show, its published version's words folded once."""
    record = letter.translation_source or letter
    publication = record.publication
    frozen = None
    if publication is not None and len(lines) > MIN_PAGE_SIZE:
        frozen = frozen_list(publication)
        if len(frozen.lines) != len(lines):
            frozen = None  # not the lines shown (cannot happen, but never mismatch a search)
    return list_page(request, lines, frozen, logos=letter.show_logos)
