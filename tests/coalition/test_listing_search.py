"""A search of the CRM's listings costs the same however many rows match: a fixed number of
queries, a count that stops at SEARCH_COUNT_LIMIT (the listing then says "more than"), and on
PostgreSQL plans that read the trigram indexes rather than every row."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.crm.demo import generate_members
from coalition.crm.indexing import settle_bulk_writes
from coalition.crm.models import Contact, Organization
from coalition.crm.services import create_organizations
from coalition.crm.viewsets import listings
from tests.factories import ContactFactory, OrganizationFactory
from tests.support.crm import make_members

CONTACTS = "coalition_contacts:index"
ORGANIZATIONS = "coalition_organizations:index"


def listing_queries(client, url_name: str, query: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(url_name), {"q": query})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def counts_matches(sql: str) -> bool:
    """The query that reads the ids of a search's matches, at most one more than the listing
    counts (coalition.crm.viewsets.listings.CappedPaginator)."""
    return bool(re.match(r'SELECT "\w+"\."id" AS "pk" FROM .* LIMIT \d+$', sql, re.DOTALL))


def matches_said(html: str) -> str:
    return " ".join(re.search(r"(There (?:is|are)|More than)[^<]*", html)[0].split())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "query", "few_matches"),
    [(CONTACTS, "example", 4), (ORGANIZATIONS, "widget", 2)],
)
def test_it_searches_a_common_term_in_the_same_queries_however_many_match(
    manager_client,
    coalition,
    monkeypatch,
    django_assert_max_num_queries,
    url_name,
    query,
    few_matches,
):
    monkeypatch.setattr(listings, "SEARCH_COUNT_LIMIT", 5)
    make_members(2, coalition)
    listing_queries(manager_client, url_name, query)  # content types, permissions, site
    html, few = listing_queries(manager_client, url_name, query)
    assert matches_said(html) == f"There are {few_matches} matches"

    make_members(30, coalition)
    with django_assert_max_num_queries(len(few)):
        html, many = listing_queries(manager_client, url_name, query)
    assert len(many) == len(few)
    assert matches_said(html) == (
        "More than 5 matches: the first 5 are listed. Add a word to the search, or a filter, "
        "to find the others."
    )
    assert "Page 1 of 1" in html
    [count] = [sql for sql in many if counts_matches(sql)]
    assert "LIMIT 6" in count


@pytest.mark.django_db
def test_a_search_under_the_limit_counts_its_matches_exactly(manager_client, monkeypatch):
    monkeypatch.setattr(listings, "SEARCH_COUNT_LIMIT", 5)
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory.create_batch(5, organization=guild)
    html, _ = listing_queries(manager_client, CONTACTS, "WMG")
    assert matches_said(html) == "There are 5 matches"
    assert "5 contacts" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("franklin", {"Rosalind Franklin"}),  # her name
        ("guild.example", {"Rosalind Franklin"}),  # her email
        ("makers", {"Rosalind Franklin", "Ada Lovelace"}),  # their organization's name
        ("wmg", {"Rosalind Franklin", "Ada Lovelace"}),  # its acronym
        ("nobody", set()),
    ],
)
def test_a_contact_is_found_by_its_own_words_or_its_organizations(manager_client, query, found):
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory(organization=guild, name="Rosalind Franklin", email="rosalind@guild.example")
    ContactFactory(organization=guild, name="Ada Lovelace", email="ada@engines.example")
    ContactFactory(organization=OrganizationFactory(name="Unrelated Society", acronym="US1"))
    response = manager_client.get(reverse(CONTACTS), {"q": query})
    assert {c.name for c in response.context["object_list"]} == found


# PostgreSQL ------------------------------------------------------------------------------------


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        # A few hundred rows are cheapest to read whole, or in an order and filtered: forbid
        # both, to see which indexes find the matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "query", "table", "indexes"),
    [
        (
            CONTACTS,
            "franklin",
            "coalition_contact",
            ["contact_name_trgm", "contact_email_trgm", "contact_title_trgm"],
        ),
        (ORGANIZATIONS, "makers", "coalition_organization", ["org_name_trgm", "org_acronym_trgm"]),
    ],
)
def test_the_listings_search_reads_the_trigram_indexes(
    manager_client, url_name, query, table, indexes
):
    if connection.vendor != "postgresql":
        pytest.skip("The trigram indexes of migration 0006 exist on PostgreSQL only.")
    members = create_organizations(Organization(name=f"Member {i:04}") for i in range(3000))
    Contact.objects.bulk_create(
        Contact(organization=org, name=f"Person {org.pk}", email=f"p{org.pk}@members.example")
        for org in members
    )
    # With their statistics, as after any import: all of them members, few of them "makers".
    settle_bulk_writes([Organization, Contact])
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory(organization=guild, name="Rosalind Franklin", email="rosalind@guild.example")
    html, queries = listing_queries(manager_client, url_name, query)
    assert "Rosalind Franklin" in html or "Widget Makers Guild" in html

    [count] = [sql for sql in queries if counts_matches(sql)]
    plan = plan_of(count)
    for index in indexes:
        assert index in plan, plan
    # The matches are found through the indexes, not by reading every row, nor as a union of
    # ids joined back to the whole table.
    assert f"Seq Scan on {table}" not in plan, plan
    assert "UNION" not in count


@pytest.mark.django_db
def test_generated_members_leave_the_planner_statistics_of_their_size():
    if connection.vendor != "postgresql":
        pytest.skip("Planner statistics are PostgreSQL's.")
    generate_members(organizations=12, contacts=40, seed=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [["coalition_organization", "coalition_contact"]],
        )
        estimated = dict(cursor.fetchall())
    assert estimated == {
        "coalition_organization": Organization.objects.count(),
        "coalition_contact": Contact.objects.count(),
    }
