"""The archive at /letters/: cards, search, filters, pages, and what never shows there."""

import datetime
import html as html_lib
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction, Site

from coalition.crm.models import Coalition, Organization
from letters.archive import excerpt, shorten
from letters.caching import LOCAL
from letters.models import Letterhead, LetterIndexPage, LetterPage
from tests.factories import (
    CoalitionFactory,
    OrganizationFactory,
    SignatureFactory,
    letter_index,
    make_letter,
    publish,
)

pytestmark = pytest.mark.django_db

# 13 today on both databases: Wagtail's site, routing and view restrictions, the letterhead, the
# site root paths, and the archive's six (letters' facets, signatory organizations, count, page,
# publications, private sections).
# Wagtail's locale of the request (its locales are on: letters/translations.py) and the cards'
# other languages, one query for the page of cards, are two more.
MAX_QUERIES = 16

PARAGRAPH_1 = (
    "We write on behalf of the undersigned associations to urge a careful approach to the "
    "regulation of artificial intelligence, one that keeps the gains of open research within "
    "reach of every small manufacturer across the country and abroad."
)


def body(first: str, *more: str) -> list[dict]:
    return [{"type": "paragraph", "value": f"<p>{text}</p>"} for text in (first, *more)]


def letter(slug: str, *, on: datetime.date | None = None, signers: int = 0, **fields) -> LetterPage:
    """A published letter with `signers` approved signatures, frozen in its publication."""
    page = make_letter(
        slug=slug,
        title=fields.pop("title", slug.replace("-", " ").capitalize()),
        letter_date=on,
        live=False,
        **fields,
    )
    for _ in range(signers):
        SignatureFactory(letter=page)
    return publish(page)


def archive(client, query: str = "") -> str:
    response = client.get(f"/letters/{query}")
    assert response.status_code == 200
    return response.content.decode()


def titles(html: str) -> list[str]:
    return [html_lib.unescape(t) for t in re.findall(r'<h2><a href="[^"]*">([^<]+)</a></h2>', html)]


def cards(html: str) -> dict[str, str]:
    """Each card's HTML by its title."""
    found = re.findall(r"<article.*?</article>", html, flags=re.DOTALL)
    return {titles(card)[0]: card for card in found}


def text(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def selected(html: str, name: str) -> str | None:
    select = re.search(
        rf'<select id="archive-{name}" name="{name}">(.*?)</select>', html, re.DOTALL
    )
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return html_lib.unescape(chosen.group(1)) if chosen else None


def options(html: str, name: str) -> list[str]:
    select = re.search(
        rf'<select id="archive-{name}" name="{name}">(.*?)</select>', html, re.DOTALL
    )
    assert select is not None
    return [html_lib.unescape(v) for v in re.findall(r'<option value="([^"]+)"', select.group(1))]


# What is listed, in what order


def test_it_lists_live_public_letters_of_this_archive_newest_first(client):
    letter("older", on=datetime.date(2023, 5, 1))
    letter("newest", on=datetime.date(2025, 3, 12))
    letter("undated")
    letter("middle", on=datetime.date(2024, 1, 9))
    make_letter(slug="a-draft", title="A draft", live=False)
    private = letter("private", on=datetime.date(2025, 6, 1), title="A private letter")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    letter("withdrawn-from-site", on=datetime.date(2025, 7, 1), title="Taken down").unpublish()
    home = Site.objects.get(is_default_site=True).root_page
    other = home.add_child(instance=LetterIndexPage(title="Other archive", slug="other"))
    other.add_child(
        instance=LetterPage(
            title="Elsewhere", slug="elsewhere", body=body("Elsewhere."), letter_date=None
        )
    )

    html = archive(client)

    assert titles(html) == ["Newest", "Middle", "Older", "Undated"]
    assert "<strong>4 letters</strong>" in html
    for hidden in ("A draft", "A private letter", "Taken down", "Elsewhere"):
        assert hidden not in html


def test_an_empty_archive_says_so_and_offers_no_search(client):
    letter_index()

    html = archive(client)

    assert "No letters have been published yet." in html
    assert 'role="search"' not in html


# The card


def test_a_card_shows_title_date_addressee_coalition_excerpt_and_the_frozen_count(client):
    coalition = CoalitionFactory(name="Widget Trade Coalition")
    page = make_letter(
        slug="ai",
        title="Joint letter on AI",
        letter_date=datetime.date(2025, 3, 12),
        recipients="The Honorable Jane Roe\nSecretary of Commerce\n1401 Constitution Ave",
        coalition=coalition,
        body=[
            {"type": "heading", "value": "Not the excerpt"},
            {
                "type": "paragraph",
                "value": f"<p>{PARAGRAPH_1.replace('careful', '<b>careful</b>')}</p><p>Second.</p>",
            },
            {"type": "paragraph", "value": "<p>Another paragraph.</p>"},
        ],
        live=False,
    )
    for n in range(3):
        SignatureFactory(letter=page, organization=OrganizationFactory(name=f"Signed {n}"))
    SignatureFactory(letter=page, status="pending_review")
    SignatureFactory(letter=page, response="declined")
    publish(page)
    # Approved after publication: the published list is frozen until a correction prints it.
    SignatureFactory(letter=page)

    card = cards(archive(client))["Joint letter on AI"]

    assert '<time datetime="2025-03-12">March 12, 2025</time>' in card
    assert "To The Honorable Jane Roe, Secretary of Commerce</p>" in card
    assert "1401 Constitution" not in card
    assert "Widget Trade Coalition" in card
    assert "3 signatories" in card
    assert f'href="{page.url}"' in card
    shown = re.search(r'<p class="archive-card-excerpt">(.*?)</p>', card).group(1)
    assert shown.endswith("…") and len(shown) <= 201
    assert PARAGRAPH_1.startswith(shown[:-1])
    assert PARAGRAPH_1[len(shown) - 1] == " "  # cut between words
    assert "Not the excerpt" not in card and "Second." not in card


def test_a_card_prints_the_date_as_the_letter_does(client):
    letterhead = Letterhead.for_site(Site.objects.get(is_default_site=True))
    letterhead.date_format = Letterhead.DateFormat.INTERNATIONAL
    letterhead.save()
    letter("plain", on=datetime.date(2025, 3, 12), signers=1)
    letter("with-dateline", on=datetime.date(2024, 2, 1), dateline="Brussels, 1 February 2024")
    letter("dateline-only", dateline="Spring 2023")

    found = cards(archive(client))

    assert '<time datetime="2025-03-12">12 March 2025</time>' in found["Plain"]
    assert "1 signatory<" in found["Plain"]
    assert '<time datetime="2024-02-01">Brussels, 1 February 2024</time>' in found["With dateline"]
    assert "<span>Spring 2023</span>" in found["Dateline only"]
    assert "<time" not in found["Dateline only"]


def test_the_excerpt_is_the_first_paragraphs_plain_text_shortened_at_a_word():
    blocks = [
        {"type": "heading", "value": "Heading"},
        {
            "type": "paragraph",
            "value": "<p> </p><p>Fish &amp; chips<br/>and <a href='/x'>peas</a></p>",
        },
    ]

    assert excerpt(blocks) == "Fish & chips and peas"
    assert excerpt([{"type": "bullets", "value": ["<p>Only a list</p>"]}]) == ""
    assert shorten("one two three", 9) == "one two…"
    assert shorten("x" * 300, 200) == "x" * 200 + "…"
    assert shorten("short", 200) == "short"


def test_text_on_the_cards_is_escaped(client):
    letter(
        "escaped",
        title="<script>alert(1)</script>",
        recipients="<img src=x onerror=alert(1)>",
        body=body("&lt;script&gt;alert(2)&lt;/script&gt;"),
    )

    html = archive(client)

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# Search


@pytest.fixture
def searchable(db):
    letter(
        "tariffs",
        on=datetime.date(2025, 3, 12),
        title="On widget tariffs",
        recipients="The Honorable Jane Roe\nSecretary of Commerce",
        body=body("Tariffs on imported sprockets harm manufacturers."),
    )
    letter(
        "privacy",
        on=datetime.date(2024, 6, 1),
        title="On data privacy",
        recipients="Senator John Public\nCommittee on Commerce",
        body=body("A federal privacy law should preempt the patchwork of state laws."),
    )
    letter(
        "sprockets",
        on=datetime.date(2023, 1, 15),
        title="On sprocket standards",
        recipients="Administrator Alex Smith\nStandards Agency",
        body=body("Open standards for sprockets help small manufacturers."),
    )


def test_search_finds_a_word_of_the_body(client, searchable):
    html = archive(client, "?q=sprockets")

    assert titles(html) == ["On widget tariffs", "On sprocket standards"]
    assert "<strong>2 letters</strong> matching “sprockets”" in html
    assert 'value="sprockets"' in html


def test_search_finds_a_word_of_the_recipients(client, searchable):
    html = archive(client, "?q=Administrator")

    assert titles(html) == ["On sprocket standards"]
    assert "<strong>1 letter</strong>" in html


def test_search_needs_every_word_and_keeps_newest_first(client, searchable):
    assert titles(archive(client, "?q=commerce")) == ["On widget tariffs", "On data privacy"]
    assert titles(archive(client, "?q=commerce+privacy")) == ["On data privacy"]


def test_a_search_that_finds_nothing_says_so(client, searchable):
    html = archive(client, "?q=zeppelin")

    assert titles(html) == []
    assert "No letters match “zeppelin”. Try other words." in text(html)
    assert "Clear the search" in html
    assert "No letters match “?!”." in text(archive(client, "?q=%3F%21"))


def test_search_combines_with_filters(client, searchable):
    html = archive(client, "?q=manufacturers&year=2023")

    assert titles(html) == ["On sprocket standards"]
    assert selected(html, "year") == "2023"
    # Each form carries the other's state: a new search keeps the filters and vice versa.
    assert '<input type="hidden" name="year" value="2023">' in html
    assert '<input type="hidden" name="q" value="manufacturers">' in html
    nothing = archive(client, "?q=privacy&year=2023")
    assert (
        "No letters match “privacy” with these filters. Try other words or fewer filters."
        in text(nothing)
    )


@pytest.mark.parametrize(
    "query",
    ['"', "AND", "sprock*", "(tariffs", "NOT", "a OR", "-privacy", "'", "^", "x" * 1000, "%2B"],
)
def test_search_syntax_in_the_query_is_only_text(client, searchable, query):
    archive(client, f"?q={query}")


# Filters


def test_the_year_filter(client, searchable):
    html = archive(client, "?year=2024")

    assert titles(html) == ["On data privacy"]
    assert options(html, "year") == ["2025", "2024", "2023"]
    assert "Filters: Year <em>2024</em>." in html


def test_the_coalition_filter(client):
    widgets = CoalitionFactory(name="Widget Coalition", slug="widgets")
    gadgets = CoalitionFactory(name="Alliance for Gadgets", slug="gadgets")
    CoalitionFactory(name="Without letters", slug="idle")
    letter("w", title="Widget letter", coalition=widgets)
    letter("g", title="Gadget letter", coalition=gadgets)
    letter("n", title="No coalition")

    html = archive(client, "?coalition=widgets")

    assert titles(html) == ["Widget letter"]
    assert options(html, "coalition") == ["gadgets", "widgets"]
    assert selected(html, "coalition") == "widgets"


def test_the_recipient_filter_matches_the_first_line(client):
    letter("a", title="To Roe", recipients="The Honorable Jane Roe\nSecretary of Commerce")
    letter("b", title="To Roe again", recipients="\n  The Honorable Jane Roe  \nWashington")
    letter("c", title="Mentions Roe", recipients="Senator Smith\nThe Honorable Jane Roe")

    html = archive(client, "?recipient=The+Honorable+Jane+Roe")

    assert sorted(titles(html)) == ["To Roe", "To Roe again"]
    assert options(html, "recipient") == ["Senator Smith", "The Honorable Jane Roe"]
    assert selected(html, "recipient") == "The Honorable Jane Roe"


def test_the_signatory_organization_filter(client):
    acme = OrganizationFactory(name="Acme Widgets", acronym="ACME")
    hidden = OrganizationFactory(name="Quiet Industries", acronym="QI", public_page=False)
    pending = OrganizationFactory(name="Pending Works", acronym="PW")
    signed = make_letter(slug="signed", title="Signed by Acme", live=False)
    SignatureFactory(letter=signed, organization=acme)
    SignatureFactory(letter=signed, organization=hidden)
    publish(signed)
    declined = make_letter(slug="declined", title="Declined by Acme", live=False)
    SignatureFactory(letter=declined, organization=acme, response="declined")
    SignatureFactory(letter=declined, organization=pending, status="pending_review")
    publish(declined)
    withdrawn = make_letter(slug="withdrawn", title="Withdrawn by Acme", live=False)
    SignatureFactory(letter=withdrawn, organization=acme, status="withdrawn")
    publish(withdrawn)

    html = archive(client, f"?organization={acme.slug}")

    assert titles(html) == ["Signed by Acme"]
    assert options(html, "organization") == [acme.slug]
    assert "Acme Widgets (ACME)</option>" in html
    refused = archive(client, f"?organization={hidden.slug}")
    assert sorted(titles(refused)) == ["Declined by Acme", "Signed by Acme", "Withdrawn by Acme"]
    assert "No letter in the archive lists a signatory “qi”." in text(refused)


def test_filters_combine(client):
    acme = OrganizationFactory(name="Acme Widgets", acronym="ACME")
    coalition = CoalitionFactory(slug="widgets")
    for slug, year, coalition_of in (
        ("a", 2025, coalition),
        ("b", 2024, coalition),
        ("c", 2025, None),
    ):
        page = make_letter(
            slug=slug,
            title=f"Letter {slug}",
            letter_date=datetime.date(year, 2, 1),
            coalition=coalition_of,
            recipients="Secretary Roe",
            live=False,
        )
        SignatureFactory(letter=page, organization=acme)
        publish(page)

    html = archive(
        client, f"?year=2025&coalition=widgets&organization={acme.slug}&recipient=Secretary+Roe"
    )

    assert titles(html) == ["Letter a"]
    assert "<strong>1 letter</strong>" in html
    assert len(re.findall(r"<option value=\"[^\"]+\" selected>", html)) == 4


def test_filters_that_match_nothing_say_so(client):
    coalition = CoalitionFactory(slug="widgets")
    letter("a", on=datetime.date(2025, 1, 1), coalition=coalition)
    letter("b", on=datetime.date(2024, 1, 1))

    html = archive(client, "?year=2024&coalition=widgets")

    assert titles(html) == []
    assert "No letters match these filters." in html
    assert "Clear the filters" in html


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("?year=abc", "There are no letters from abc."),
        ("?year=1999", "There are no letters from 1999."),
        ("?year=99999999999999999999999", "There are no letters from 99999999999999999999999."),
        ("?coalition=nope", "There is no coalition “nope” in the archive."),
        ("?recipient=Nobody", "No letter is addressed to “Nobody”."),
        ("?organization=nope", "No letter in the archive lists a signatory “nope”."),
    ],
)
def test_an_unknown_filter_value_is_set_aside_with_a_notice(client, searchable, query, notice):
    html = archive(client, query)

    assert len(titles(html)) == 3
    assert f"{notice} Showing letters without that filter." in text(html)


def test_a_nul_in_a_parameter_is_dropped(client, searchable):
    # PostgreSQL refuses NUL in a string: unfiltered, it would be a 500 there.
    html = archive(client, "?year=2025%00&organization=%00&q=tariffs%00")

    assert titles(html) == ["On widget tariffs"]
    assert "archive-notices" not in html


# Pages


@pytest.fixture
def five_letters(db, monkeypatch):
    monkeypatch.setattr(LetterIndexPage, "letters_per_page", 2)
    for day in range(1, 6):
        letter(
            f"letter-{day}",
            on=datetime.date(2025, 1, day),
            title=f"Letter {day}",
            body=body("About sprockets."),
        )


def test_letters_are_paginated_with_links_that_keep_the_search(client, five_letters):
    first = archive(client, "?q=sprockets&year=2025")
    second = archive(client, "?q=sprockets&year=2025&page=2")
    last = archive(client, "?q=sprockets&year=2025&page=3")

    assert titles(first) == ["Letter 5", "Letter 4"]
    assert titles(second) == ["Letter 3", "Letter 2"]
    assert titles(last) == ["Letter 1"]
    assert "<strong>5 letters</strong>" in second
    nav = re.search(r'<nav class="pagination" aria-label="Pagination">.*?</nav>', second, re.DOTALL)
    assert nav is not None
    assert 'rel="prev" href="?q=sprockets&amp;year=2025&amp;page=1"' in nav.group(0)
    assert 'rel="next" href="?q=sprockets&amp;year=2025&amp;page=3"' in nav.group(0)
    assert 'aria-current="page" href="?q=sprockets&amp;year=2025&amp;page=2"' in nav.group(0)
    assert 'rel="prev"' not in first and 'rel="next"' not in last


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("99", ["Letter 1"]),
        ("abc", ["Letter 5", "Letter 4"]),
        ("0", ["Letter 1"]),
        ("-1", ["Letter 1"]),
        ("2.5", ["Letter 5", "Letter 4"]),
        ("%00", ["Letter 5", "Letter 4"]),
        ("", ["Letter 5", "Letter 4"]),
    ],
)
def test_a_bad_page_number_shows_a_page_like_get_page(client, five_letters, number, shown):
    assert titles(archive(client, f"?page={number}")) == shown


def test_one_page_has_no_pagination(client):
    letter("only")

    assert "Pagination" not in archive(client)


# Queries


def many_letters(count: int, *, start: int = 0) -> None:
    """Letters of one coalition and year, each signed by ACME and two others."""
    coalition = Coalition.objects.filter(slug="widgets").first() or CoalitionFactory(slug="widgets")
    acme = Organization.objects.filter(slug="acme").first() or OrganizationFactory(
        name="Acme Widgets", acronym="ACME"
    )
    for n in range(start, start + count):
        page = make_letter(
            slug=f"letter-{n}",
            title=f"Letter {n} on sprockets",
            letter_date=datetime.date(2025, 1 + n % 12, 1 + n % 28),
            coalition=coalition,
            recipients=f"Secretary {n}\nDepartment of Sprockets",
            body=body(f"Letter {n} asks for sprockets. " + PARAGRAPH_1),
            live=False,
        )
        SignatureFactory(letter=page, organization=acme)
        SignatureFactory.create_batch(2, letter=page)
        publish(page)


def queries(client, url: str) -> int:
    # A cached page costs nothing: measure the render.
    cache.clear()
    LOCAL.forget()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/letters/",
        "/letters/?q=sprockets",
        "/letters/?q=sprockets&year=2025&coalition=widgets&organization=acme",
    ],
)
def test_the_archive_renders_in_queries_that_do_not_grow_with_its_letters(
    client, django_assert_max_num_queries, url
):
    many_letters(3)
    client.get("/letters/")  # warm the per-process caches (content types)
    with_3 = queries(client, url)
    many_letters(17, start=3)
    with_20 = queries(client, url)

    assert with_3 == with_20
    cache.clear()
    LOCAL.forget()
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    assert len(titles(html)) == 20
    assert html.count("3 signatories") == 20


def signed_by(slug: str, on: datetime.date, *lines: tuple[str, str], **fields) -> LetterPage:
    """A published letter that prints these (display name, detail) lines."""
    page = make_letter(
        slug=slug, title=fields.pop("title", slug), letter_date=on, live=False, **fields
    )
    for display_name, detail in lines:
        if detail:  # an individual, with an affiliation
            # Its line as an individual's prints: name, title, affiliation.
            SignatureFactory(
                letter=page,
                organization=None,
                display_name=f"{display_name}, 教授, {detail}",
                signer_name=display_name,
                signer_title="教授",
                affiliation=detail,
            )
        else:
            SignatureFactory(
                letter=page,
                organization=OrganizationFactory(name=display_name, acronym=""),
                display_name=display_name,
            )
    return publish(page)


@pytest.fixture
def signed(db):
    signed_by(
        "ai-agenda",
        datetime.date(2024, 3, 12),
        ("Software & Information Industry Association (SIIA)", ""),
        ("Consumer Technology Association (CTA)", ""),
        ("Ελληνική Ένωση Επιχειρήσεων Λογισμικού", ""),
        ("山田 花子", "東京大学"),
        title="On the AI agenda",
    )
    # Newer, and names the same words in its body only.
    signed_by(
        "consumer-goods",
        datetime.date(2025, 5, 1),
        ("Widget Guild", ""),
        title="On consumer goods",
        body=[
            {
                "type": "paragraph",
                "value": "<p>Consumer technology needs open standards; SIIA agrees.</p>",
            }
        ],
    )


@pytest.mark.parametrize(
    ("query", "found"),
    [
        # An acronym, a name, a name in Greek and an individual's affiliation in Japanese.
        ("SIIA", ["On the AI agenda", "On consumer goods"]),
        ("Consumer Technology", ["On the AI agenda", "On consumer goods"]),
        ("Ελληνική", ["On the AI agenda"]),
        ("東京大学", ["On the AI agenda"]),
        # In the title of one and the body of the other: the title first.
        ("consumer", ["On consumer goods", "On the AI agenda"]),
        # Only in a body: as found, newest first.
        ("standards", ["On consumer goods"]),
    ],
)
def test_search_finds_letters_by_their_signatories_and_ranks_them_above_the_body(
    client, signed, query, found
):
    assert titles(archive(client, f"?q={query}")) == found
