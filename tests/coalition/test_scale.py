"""The CRM at scale: listings, searches, filters and exports in a constant number of queries,
exports read while they stream, searches that PostgreSQL's trigram indexes can serve, and an
import whose search indexing waits for the worker.

tests/coalition/test_query_counts.py covers the first page of each listing; this file adds pages
past the first, sorting, every filter and every export (across the chunks it is read in).
"""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from coalition.crm.imports import import_members
from coalition.crm.models import Contact, Organization
from coalition.crm.selectors import search_contacts, search_organizations
from coalition.crm.viewsets import listings
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
)
from tests.support.crm import make_members

LISTINGS = {
    "organizations": "coalition_organizations:index",
    "contacts": "coalition_contacts:index",
    "memberships": "coalition_memberships:index",
    "interactions": "coalition_interactions:index",
    "coalitions": "coalition_coalitions:index",
}


def pages(coalition) -> dict[str, tuple[str, dict]]:
    organizations = LISTINGS["organizations"]
    return {
        "organizations page 2": (organizations, {"p": 2}),
        "organizations by contacts": (organizations, {"ordering": "-contact_count"}),
        "organizations by country": (organizations, {"ordering": "country"}),
        "organizations search by contact name": (organizations, {"q": "a"}),
        "organizations coalition+tier": (
            organizations,
            {"coalition": coalition.pk, "tier": "member"},
        ),
        "organizations status": (organizations, {"status": "active"}),
        "organizations search and filter": (organizations, {"q": "widget", "country": "US"}),
        "contacts page 2": (LISTINGS["contacts"], {"p": 2}),
        "contacts search by organization": (LISTINGS["contacts"], {"q": "AWM"}),
        "contacts filtered": (
            LISTINGS["contacts"],
            {"coalition": coalition.pk, "is_authorized_signer": "false"},
        ),
        "memberships filtered": (LISTINGS["memberships"], {"tier": "member", "active": "true"}),
        "interactions filtered": (LISTINGS["interactions"], {"kind": "note"}),
        "coalitions search": (LISTINGS["coalitions"], {"q": "digital"}),
        **{
            f"{name} {fmt}": (url_name, {"export": fmt})
            for name, url_name in LISTINGS.items()
            for fmt in ("csv", "xlsx")
        },
        "organizations csv, searched and filtered": (
            organizations,
            {"export": "csv", "q": "widget", "tag": "tech"},
        ),
    }


def count_queries(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        assert response.status_code == 200, (url, params)
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.django_db
def test_every_listing_search_filter_and_export_costs_the_same_queries_with_more_rows(
    manager_client, coalition, monkeypatch
):
    # Exports read their rows in chunks; small ones here, so that more rows span several.
    monkeypatch.setattr(listings, "EXPORT_CHUNK", 7)
    cases = pages(coalition)
    make_members(3, coalition)
    for url_name, params in cases.values():
        manager_client.get(reverse(url_name), params)  # content types, permissions, site
    few = {label: count_queries(manager_client, reverse(u), p) for label, (u, p) in cases.items()}

    # More than a page of 50 organizations, and of contacts.
    make_members(52, coalition)
    many = {label: count_queries(manager_client, reverse(u), p) for label, (u, p) in cases.items()}
    assert many == few


def read_csv(response) -> list[dict[str, str]]:
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def members(coalition):
    """A member in two coalitions (and one it left) with three contacts and two tags; one alone."""
    guild = OrganizationFactory(name="Widget Guild", acronym="WG")
    guild.tags.add("zeta", "alpha")
    guild.save()
    MembershipFactory(
        organization=guild,
        coalition=coalition,
        tier="steering",
        joined_on=datetime.date(2022, 5, 2),
    )
    MembershipFactory(
        organization=guild,
        coalition=CoalitionFactory(name="Another Coalition"),
        tier="observer",
        joined_on=datetime.date(2024, 9, 30),
    )
    MembershipFactory(
        organization=guild,
        coalition=CoalitionFactory(name="Left Coalition"),
        joined_on=datetime.date(2020, 1, 1),
        left_on=datetime.date(2021, 1, 1),
    )
    ContactFactory.create_batch(3, organization=guild)
    alone = OrganizationFactory(name="Lonely Society", acronym="")
    OrganizationFactory(name="Pending Society", status=Organization.Status.PENDING)
    OrganizationFactory(name="Merged Society", merged_into=guild)
    return guild, alone


@pytest.mark.django_db
def test_the_organization_export_has_coalitions_tags_and_contacts_of_members_only(
    manager_client, members
):
    url = reverse("coalition_organizations:index")
    rows = {row["Name"]: row for row in read_csv(manager_client.get(url, {"export": "csv"}))}

    assert set(rows) == {"Widget Guild", "Lonely Society"}
    guild = rows["Widget Guild"]
    # With the day each membership began, which the import reads back (the listing leaves it out).
    assert guild["Coalitions"] == (
        "Another Coalition (observer; joined 2024-09-30), "
        "Digital Trade Coalition (steering; joined 2022-05-02)"
    )
    assert guild["Tags"] == "alpha, zeta"
    assert guild["Contacts"] == "3"
    assert guild["Kind"] == "trade_association"
    alone = rows["Lonely Society"]
    assert (alone["Coalitions"], alone["Tags"], alone["Contacts"], alone["Acronym"]) == (
        "",
        "",
        "0",
        "",
    )

    response = manager_client.get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *values = list(sheet.values)
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in values}
    assert set(by_name) == {"Widget Guild", "Lonely Society"}
    assert by_name["Widget Guild"]["Coalitions"] == guild["Coalitions"]
    assert by_name["Widget Guild"]["Tags"] == "alpha, zeta"
    assert by_name["Widget Guild"]["Contacts"] == 3
    assert isinstance(by_name["Widget Guild"]["Created at"], datetime.datetime)


@pytest.mark.django_db
def test_the_listing_shows_the_same_coalitions_and_contacts_as_the_export(manager_client, members):
    html = manager_client.get(reverse("coalition_organizations:index")).content.decode()
    assert "Another Coalition (observer), Digital Trade Coalition (steering)" in html

    by_contacts = manager_client.get(
        reverse("coalition_organizations:index"), {"ordering": "-contact_count"}
    )
    listed = [org.name for org in by_contacts.context["object_list"]]
    counts = [org.contact_count for org in by_contacts.context["object_list"]]
    assert listed == ["Widget Guild", "Lonely Society"]
    assert counts == [3, 0]
    page = manager_client.get(reverse("coalition_organizations:index"))
    assert {org.name: org.contact_count for org in page.context["object_list"]} == {
        "Widget Guild": 3,
        "Lonely Society": 0,
    }


@pytest.mark.django_db
def test_an_export_follows_the_search_and_filters(manager_client, members, coalition):
    url = reverse("coalition_organizations:index")
    searched = read_csv(manager_client.get(url, {"export": "csv", "q": "guild"}))
    assert [row["Name"] for row in searched] == ["Widget Guild"]
    filtered = read_csv(manager_client.get(url, {"export": "csv", "coalition": coalition.pk}))
    assert [row["Name"] for row in filtered] == ["Widget Guild"]
    contacts = read_csv(manager_client.get(reverse("coalition_contacts:index"), {"export": "csv"}))
    assert len(contacts) == 3
    assert {row["Organization"] for row in contacts} == {"Widget Guild"}


@pytest.mark.django_db
def test_an_export_reads_its_rows_while_it_streams(manager_client, coalition, monkeypatch):
    make_members(12, coalition)
    monkeypatch.setattr(listings, "CSV_BLOCK", 500)
    url = reverse("coalition_organizations:index")
    with CaptureQueriesContext(connection) as before:
        response = manager_client.get(url, {"export": "csv"})
    assert response.streaming
    assert not [q for q in before.captured_queries if "exported_tags" in q["sql"]]

    with CaptureQueriesContext(connection) as during:
        chunks = list(response.streaming_content)
    assert [q for q in during.captured_queries if "exported_tags" in q["sql"]]
    assert len(chunks) > 2
    assert len(list(csv.reader(io.StringIO(b"".join(chunks).decode())))) == 13


@pytest.mark.django_db
def test_the_interactions_export_names_the_author_and_leaves_no_contact_blank(
    manager_client, manager, coalition
):
    [org] = make_members(1, coalition)
    org.interactions.update(author=manager, contact=None)
    rows = read_csv(manager_client.get(reverse("coalition_interactions:index"), {"export": "csv"}))
    assert [(row["By"], row["Contact"]) for row in rows] == [("manager", "")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["Rosalind", "rosalind@GUILD", "chief whip", "widget makers", "wmg"]
)
def test_it_searches_contacts_by_name_email_title_and_organization(manager_client, query):
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory(
        organization=guild,
        name="Rosalind Franklin",
        email="rosalind@guild.example",
        title="Chief Whip",
    )
    ContactFactory(organization=OrganizationFactory(name="Unrelated Society", acronym="US1"))
    response = manager_client.get(reverse("coalition_contacts:index"), {"q": query})
    assert [c.name for c in response.context["object_list"]] == ["Rosalind Franklin"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("coalition_memberships:index", "makers"),
        ("coalition_memberships:index", "wmg"),
        ("coalition_interactions:index", "wmg"),
        ("coalition_interactions:index", "rosalind"),
        ("coalition_interactions:index", "budget"),
    ],
)
def test_it_searches_memberships_and_interactions_through_their_organization(
    manager_client, coalition, url_name, query
):
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    rosalind = ContactFactory(organization=guild, name="Rosalind Franklin")
    MembershipFactory(organization=guild, coalition=coalition)
    InteractionFactory(organization=guild, contact=rosalind, summary="Talked about the budget")
    other = OrganizationFactory(name="Unrelated Society", acronym="US1")
    MembershipFactory(organization=other, coalition=coalition)
    InteractionFactory(organization=other, summary="Nothing of note")
    response = manager_client.get(reverse(url_name), {"q": query})
    assert [row.organization for row in response.context["object_list"]] == [guild]


@pytest.mark.django_db
def test_the_searches_can_use_postgresqls_trigram_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("The trigram indexes of migration 0006 exist on PostgreSQL only.")
    guild = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory(organization=guild, name="Rosalind Franklin", email="rosalind@guild.example")
    with connection.cursor() as cursor:
        # A handful of rows is cheapest to scan, or to read in the listing's order and filter:
        # forbid both, to see which indexes can find the matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    organizations = search_organizations(Organization.objects.all(), "makers").order_by().explain()
    contacts = search_contacts(Contact.objects.all(), "franklin").order_by().explain()
    for index in ("org_name_trgm", "org_acronym_trgm", "contact_name_trgm", "contact_email_trgm"):
        assert index in organizations + contacts, index
    assert "contact_title_trgm" in contacts
    assert [o.name for o in search_organizations(Organization.objects.all(), "GUILD.EX")] == [
        "Widget Makers Guild"
    ]


def members_csv(*names: str) -> bytes:
    lines = ["name,contact_name,contact_email"]
    lines += [f"{name},Person at {name},person@{name.split()[0].lower()}.example" for name in names]
    return "\n".join(lines).encode()


@pytest.mark.django_db
def test_an_import_is_indexed_for_the_contact_chooser_once_committed(
    manager_client, django_capture_on_commit_callbacks
):
    data = members_csv("Zebrafish Alliance", "Quokka Union")
    url = reverse("coalition_contact_chooser:choose_results")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        report = import_members(data=data, filename="members.csv", dry_run=False)
    assert report.ok, report.errors
    assert "Person at Zebrafish" not in manager_client.get(url, {"q": "Zebrafish"}).content.decode()

    for callback in pending:  # the commit: the jobs run (at once, in tests)
        callback()
    html = manager_client.get(url, {"q": "Zebrafish"}).content.decode()
    assert "Person at Zebrafish Alliance" in html
    assert "Person at Quokka Union" not in html


@pytest.mark.django_db
def test_the_organization_chooser_searches_as_the_listing_does(manager_client, members):
    url = reverse("coalition_organization_chooser:choose_results")
    guild, _ = members
    for query in ("widget", "WG", guild.contacts.first().email.upper()):
        html = manager_client.get(url, {"q": query}).content.decode()
        assert "Widget Guild" in html, query
        assert "Lonely Society" not in html, query
        assert "Merged Society" not in html, query
