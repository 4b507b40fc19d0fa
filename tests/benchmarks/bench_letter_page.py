"""A letter of 100,000 individuals on its page (`make bench`): the size of the first view and
the time of a page-cache miss, in process, beside the targets of issue 20.

The list is made directly as a published version (no sign-on, no PDF). A miss in a process that
has already read the version's list costs a slice of it; the first in a process also parses the
frozen JSON (letters.signatory_list keeps it), and the first search folds its words once.
"""

import statistics
import time

import pytest
from django.core.cache import cache

from letters.caching import LOCAL
from letters.signatory_list import KEPT
from tests.factories import make_letter
from tests.support.letters import people, published_with_lines

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

LINES = 100_000
RUNS = 5
SIZE_TARGET = 100 * 1024
MISS_TARGET_MS = 300


def miss_ms(client, url: str, *, forget_lists: bool = False) -> tuple[float, int]:
    """One render with the page cache empty: milliseconds and bytes."""
    cache.clear()
    LOCAL.forget()
    if forget_lists:
        KEPT.forget()
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(response.content)


def median_miss_ms(client, url: str) -> float:
    return statistics.median(miss_ms(client, url)[0] for _ in range(RUNS))


def test_a_letter_of_100000_on_its_page(client, bench_row) -> None:
    letter = make_letter(live=False, slug="open-letter", title="An open letter")
    published_with_lines(letter, people(LINES))
    client.get("/letters/")  # per-process caches warm (site root paths, templates)

    first_in_process, size = miss_ms(client, letter.url, forget_lists=True)
    shown = client.get(letter.url).content.count(b'class="sig"')
    miss = median_miss_ms(client, letter.url)
    middle = median_miss_ms(client, f"{letter.url}?signatories=100")
    first_search, _ = miss_ms(client, f"{letter.url}?who=example+42")
    search = median_miss_ms(client, f"{letter.url}?who=number+0999")
    client.get(letter.url)
    start = time.perf_counter()
    for _ in range(RUNS):
        client.get(letter.url)
    hit = (time.perf_counter() - start) * 1000 / RUNS

    print(f"\nA letter of {LINES:,} individuals, its page in process (median of {RUNS}):")
    print(f"  first view                          {size:>9,} bytes  (target under {SIZE_TARGET:,})")
    print(f"  lines on the first view             {shown:>9,}")
    print(
        f"  page-cache miss                     {miss:>9.0f} ms     (target under {MISS_TARGET_MS})"
    )
    print(f"  miss of page 100 of the list        {middle:>9.0f} ms")
    print(f"  search (rendered each time)         {search:>9.0f} ms")
    print(f"  first miss in a process (parses)    {first_in_process:>9.0f} ms")
    print(f"  first search in a process (folds)   {first_search:>9.0f} ms")
    print(f"  page-cache hit                      {hit:>9.1f} ms")
    section = f"A letter's page with {LINES:,} individuals (in process, median of {RUNS})"
    bench_row(
        section,
        f"first view ({shown} lines)",
        f"{size / 1024:.1f} KB",
        f"under {SIZE_TARGET // 1024} KB",
    )
    bench_row(section, "page-cache miss", f"{miss:.0f} ms", f"under {MISS_TARGET_MS} ms")
    bench_row(section, "page-cache miss, page 100 of the list", f"{middle:.0f} ms", "")
    bench_row(section, "search in the list", f"{search:.0f} ms", "")
    bench_row(
        section, "first miss in a process (parses the list)", f"{first_in_process:.0f} ms", ""
    )
    bench_row(section, "page-cache hit", f"{hit:.1f} ms", "")
