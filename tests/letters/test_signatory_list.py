"""A long signatory list on a letter's page: a page at a time with links that need no script, a
search by name, affiliation or organization in any script, a first view that stays small at
any size, queries that do not grow with the list, and a page cache keyed by the list's page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.caching import LOCAL
from letters.lines import SignatoryLine
from letters.pdf import letter_pdf_html
from letters.signatory_list import KEPT, MAX_TERM_LENGTH, PAGE_SIZE, clean_term, fold
from tests.factories import make_letter
from tests.support.letters import people, published_with_lines
from tests.support.pdf import body

pytestmark = pytest.mark.django_db

FULL_WIDTH = "\uff26\uff55\uff4c\uff4c \uff37\uff49\uff44\uff54\uff48"  # "Full Width"
DASH = "\u2013"

SPECIAL = [
    SignatoryLine(text="José Álvarez", group="Individuals", detail="Universidad de Sevilla"),
    SignatoryLine(text="محمد الأمين", group="Individuals", detail="جامعة القاهرة"),
    SignatoryLine(text="山田 太郎", group="Individuals", detail="東京大学"),
    SignatoryLine(text=FULL_WIDTH, group="Individuals", detail="Example Lab"),
]


def names(html: str) -> list[str]:
    return re.findall(r'<span class="sig-name" dir="auto">([^<]+)</span>', html)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.fixture
def long_letter():
    """A letter of 1,200 lines in two groups: 700 organizations, then 500 individuals."""
    organizations = [
        SignatoryLine(text=f"Association {n:04d}", group="Organizations", detail=f"Chair {n}")
        for n in range(700)
    ]
    individuals = [*SPECIAL, *people(496)]
    letter = make_letter(live=False, slug="long", group_signatories=True)
    published_with_lines(letter, organizations + individuals)
    return letter


def test_a_long_list_shows_a_page_at_a_time_with_links_that_need_no_script(client, long_letter):
    first = page(client, long_letter.url)

    assert "1200 signatories" in first  # the whole count, where it always was
    assert names(first) == [f"Association {n:04d}" for n in range(PAGE_SIZE)]
    assert f"Signatories 1{DASH}500 of 1200." in first
    assert 'href="/letters/long/?signatories=2#signatories"' in first
    assert 'href="/letters/long/?signatories=3#signatories"' in first
    assert 'rel="next" href="/letters/long/?signatories=2#signatories"' in first
    assert 'rel="prev"' not in first
    assert 'id="signatories"' in first

    second = page(client, f"{long_letter.url}?signatories=2")
    shown = names(second)
    assert len(shown) == PAGE_SIZE
    assert shown[0] == "Association 0500" and shown[199] == "Association 0699"
    assert shown[200] == "José Álvarez"
    # Each group's heading shows on the page where its lines are.
    assert second.count('<h3 class="signatory-group">') == 2
    assert 'rel="prev" href="/letters/long/#signatories"' in second

    third = page(client, f"{long_letter.url}?signatories=3")
    assert len(names(third)) == 200
    assert third.count('<h3 class="signatory-group">Individuals</h3>') == 1
    assert '<h3 class="signatory-group">Organizations</h3>' not in third
    assert 'rel="next"' not in third
    assert '<a aria-current="page" href="/letters/long/?signatories=3#signatories">' in third
    every = names(first) + shown + names(third)
    assert len(every) == len(set(every)) == 1200


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("abc", 1), ("999", 3), ("0", 1), ("-2", 1), ("2.5", 1), ("9" * 40, 3), ("%00", 1)],
)
def test_a_bad_page_number_shows_the_first_or_the_last_page(client, long_letter, asked, shown):
    html = page(client, f"{long_letter.url}?signatories={asked}")
    first_line = {
        1: "Association 0000",
        3: names(page(client, f"{long_letter.url}?signatories=3"))[0],
    }
    assert names(html)[0] == first_line[shown]


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("jose", "José Álvarez"),
        ("ÁLVAREZ", "José Álvarez"),
        ("sevilla", "José Álvarez"),  # the affiliation
        ("محمد", "محمد الأمين"),
        ("القاهرة", "محمد الأمين"),
        ("山田", "山田 太郎"),
        ("東京", "山田 太郎"),
        ("full width", FULL_WIDTH),
    ],
)
def test_the_search_finds_a_name_or_affiliation_in_any_script_and_accent(
    client, long_letter, term, found
):
    html = page(client, f"{long_letter.url}?who={term}")

    assert names(html) == [found]
    assert f"1 signatory matches “{term}”." in html
    assert f'value="{term}"' in html
    assert "1200 signatories" in html  # the count is still of the whole list


def test_a_search_finds_organizations_by_their_signer_and_pages_its_results(client, long_letter):
    # Every word of the term, anywhere in the line.
    html = page(client, f"{long_letter.url}?who=000+association")
    assert names(html) == [f"Association {n:04d}" for n in range(10)]
    assert "10 signatories match “000 association”." in html
    assert 'class="pagination' not in html  # one page of results

    html = page(client, f"{long_letter.url}?who=chair")
    assert f"700 signatories match “chair”: 1{DASH}500 below." in html
    assert 'href="/letters/long/?who=chair&amp;signatories=2#signatories"' in html
    following = page(client, f"{long_letter.url}?who=chair&signatories=2")
    assert len(names(following)) == 200


def test_a_search_that_finds_nobody_says_so(client, long_letter):
    html = page(client, f"{long_letter.url}?who=Zebediah")

    assert "No signatory matches “Zebediah”." in html
    assert names(html) == []
    assert "No signatories yet" not in html
    assert '<a href="/letters/long/#signatories">Show every signatory</a>' in html


@pytest.mark.parametrize(
    "term",
    ["x" * 5000, "jose\x00\x07\x1b[31m", "<script>alert(1)</script>", "%ff%fe", "\u202ejose"],
)
def test_an_odd_term_is_bounded_escaped_and_never_an_error(client, long_letter, term):
    response = client.get(long_letter.url, {"who": term})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "\x00" not in html and "\x1b" not in html
    assert "x" * (MAX_TERM_LENGTH + 1) not in html


def test_a_term_is_cleaned_and_folded():
    assert clean_term("  José\x00\n\tÁlvarez  ") == "José Álvarez"
    assert len(clean_term("é" * 10_000)) == MAX_TERM_LENGTH
    assert fold("José ÁLVAREZ") == "jose alvarez"
    assert fold(FULL_WIDTH) == "full width"
    assert fold("Straße") == "strasse"


def test_a_short_grouped_list_reads_as_it_always_has(client):
    lines = [
        SignatoryLine(text="Widget Makers", group="Members"),
        SignatoryLine(text="Gadget Guild", group="Members"),
        SignatoryLine(text="Jane Doe", group="Supporters"),
    ]
    letter = make_letter(live=False, slug="short", group_signatories=True)
    published_with_lines(letter, lines)

    html = page(client, f"{letter.url}?who=jane&signatories=2")

    assert names(html) == ["Widget Makers", "Gadget Guild", "Jane Doe"]
    assert html.count('<h3 class="signatory-group">') == 2
    for absent in ('id="signatories"', "signatory-search", 'class="pagination', "Signatories 1"):
        assert absent not in html


def test_the_first_view_of_20000_lines_is_under_100_kb(client):
    letter = make_letter(live=False, slug="twenty-thousand")
    published_with_lines(letter, people(20_000))

    response = client.get(letter.url)

    assert response.status_code == 200
    assert len(response.content) < 100 * 1024
    assert "20000 signatories" in response.content.decode()


def test_long_lines_make_shorter_pages_so_the_first_view_stays_under_100_kb(client):
    lines = [
        SignatoryLine(
            text=f"National Association of Example Manufacturers and Makers {n:04d} (NAEMM)",
            detail="Jane Placeholder-Example, Senior Vice President for Government Affairs",
            url=f"/organizations/national-association-of-example-manufacturers-{n:04d}/",
            logo_url=f"/media/images/national-association-of-example-{n:04d}.original.png",
        )
        for n in range(2000)
    ]
    letter = make_letter(live=False, slug="logos", show_logos=True)
    published_with_lines(letter, lines)

    response = client.get(letter.url)

    assert len(response.content) < 100 * 1024
    html = response.content.decode()
    assert "2000 signatories" in html
    shown = html.count('class="sig"')
    assert 50 <= shown < PAGE_SIZE
    assert html.count('class="sig-logo"') == shown
    assert f"Signatories 1{DASH}{shown} of 2000." in html


def miss_queries(client, url: str) -> int:
    client.get(url)  # per-process caches warm (site root paths, the parsed list)
    LOCAL.forget()
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_queries_of_the_page_do_not_grow_with_the_list(client):
    small = make_letter(live=False, slug="small", title="Small")
    published_with_lines(small, people(PAGE_SIZE + 1))
    large = make_letter(live=False, slug="large", title="Large")
    published_with_lines(large, people(20_000))

    assert miss_queries(client, small.url) == miss_queries(client, large.url)
    assert miss_queries(client, f"{large.url}?signatories=7&who=person") == miss_queries(
        client, small.url
    )


def test_a_list_is_read_from_the_database_once_per_process(client, long_letter):
    page(client, long_letter.url)
    LOCAL.forget()
    with CaptureQueriesContext(connection) as warm:
        page(client, f"{long_letter.url}?signatories=2")
    KEPT.forget()
    with CaptureQueriesContext(connection) as cold:
        page(client, f"{long_letter.url}?signatories=3")

    assert len(cold) == len(warm) + 1
    assert not any('"signatories"' in q["sql"] and "version" not in q["sql"] for q in warm)


def test_each_page_of_the_list_is_cached_and_other_parameters_are_not_keys(client, long_letter):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, url)
        return len(captured)

    first = page(client, long_letter.url)
    second = page(client, f"{long_letter.url}?signatories=2")
    assert first != second

    assert queries(long_letter.url) == 0
    assert queries(f"{long_letter.url}?signatories=2") == 0
    for same in ("?utm_source=x&signatories=2", "?signatories=02", "?signatories=2&page=5"):
        assert queries(long_letter.url + same) == 0, same
        assert page(client, long_letter.url + same) == second
    for first_again in ("?signatories=abc", "?signatories=", "?fbclid=y"):
        assert queries(long_letter.url + first_again) == 0, first_again
    assert queries(f"{long_letter.url}?signatories=3") > 0
    # A search is rendered each time, as the archive's is: searches are endless.
    page(client, f"{long_letter.url}?who=jose")
    assert queries(f"{long_letter.url}?who=jose") > 0


def test_the_pdf_and_the_open_data_still_hold_the_whole_list(client, long_letter):
    html = letter_pdf_html(long_letter, long_letter.signatory_lines())
    assert html.count('class="sig"') == 1200
    assert "signatory-search" not in html and 'id="signatories"' not in html

    data = body(client.get(f"{long_letter.url}signatories.json")).decode()
    assert "Person Number 000495" in data and "Association 0000" in data
