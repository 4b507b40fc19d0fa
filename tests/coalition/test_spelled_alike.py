"""Names spelled alike: a letter wrong, missing or swapped, a word shortened, left out or moved.

The same cases give the same answers on SQLite and on PostgreSQL: run this module on both
(`DATABASE_URL=postgres://… pytest tests/coalition/test_spelled_alike.py`). PostgreSQL finds the
names worth comparing through the trigram index on the name; SQLite computes the same trigram
similarity in Python; both then decide with `spelling_difference`.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.crm.duplicates import (
    DuplicateIndex,
    likely_duplicate_pairs,
    likely_duplicate_words,
    spelling_difference,
)
from coalition.crm.indexing import merge_pending_index_entries
from coalition.crm.models import DistinctOrganizations, Organization, assign_slugs, name_key
from coalition.crm.selectors import find_duplicate_organizations
from coalition.crm.trigrams import NEAR_SIMILARITY, near_by_trigrams, trigram_similarity, trigrams
from tests.coalition.test_duplicates import organization_post
from tests.factories import OrganizationFactory

#: (existing name, name typed, how they differ)
ALIKE = [
    (
        "National Foreign Trade Council",
        "Nationl Foreign Trade Council",
        "“nationl” and “national” one letter apart",
    ),
    (
        "National Foreign Trade Council",
        "Natoinal Foreign Trade Council",
        "“natoinal” and “national” one letter apart",
    ),
    (
        "Consumer Technology Association",
        "Consumer Tech Association",
        "“tech” short for “technology”",
    ),
    ("National Foreign Trade Council", "National Trade Council", "with or without “foreign”"),
    ("Widget Makers Association", "Association of Widget Makers", "in another order"),
    ("Google", "Gogle Inc.", "“gogle” and “google” one letter apart"),
    (
        "Российский союз промышленников",
        "Российский союз промышлеников",
        "“промышлеников” and “промышленников” one letter apart",
    ),
    (
        "Ελληνική Ένωση Βιομηχανιών",
        "Ελληνικη Ενωση Βιομηχανων",
        "“βιομηχανων” and “βιομηχανιων” one letter apart",
    ),
    ("東京商工会議所", "東京商工会義所", "“東京商工会義所” and “東京商工会議所” one letter apart"),
    (
        "اتحاد الصناعات المصرية",
        "اتحاد الصناعات المصريه",
        "“المصريه” and “المصرية” one letter apart",
    ),
]
#: Names that share words, or differ by a letter, and are still other organizations.
APART = [
    ("Consumer Technology Association", "Consumer Brands Association"),
    ("Widget Makers Association", "Widget Makers Foundation"),
    ("Hill Association", "Hall Association"),  # one letter makes another short word
    ("Smith Association", "Smyth Association"),
    ("Steel Industry Council", "Industry Council"),  # what is left is common words only
    ("Microsoft", "Micro"),  # one word cut short is another name
    ("Teamsters Local 1234", "Teamsters Local 1243"),  # numbers are never slips
    ("Co-operative Alliance", "Operative Alliance"),
    ("Information Technology Council", "Intl Tech Council"),  # "Intl" is "International"
    ("Союз промышленников", "Союз предпринимателей"),
    ("東京商工会議所", "大阪商工会議所"),
    ("اتحاد الصناعات", "اتحاد التجارة"),
    ("Ελληνική Ένωση", "Κυπριακή Ένωση"),
]


@pytest.mark.parametrize(("existing", "typed", "difference"), ALIKE)
def test_names_spelled_alike_are_told_apart_from_other_names(existing, typed, difference):
    found = spelling_difference(likely_duplicate_words(typed), likely_duplicate_words(existing))
    assert found is not None and found.endswith(difference), found


@pytest.mark.parametrize(("existing", "typed"), APART)
def test_other_organizations_are_not_spelled_alike(existing, typed):
    one, other = likely_duplicate_words(typed), likely_duplicate_words(existing)
    assert spelling_difference(one, other) is None
    assert spelling_difference(other, one) is None


def _typed_with_neighbours(existing: str) -> Organization:
    org = OrganizationFactory(name=existing, acronym="")
    # Names sharing its words, that it must be picked out from.
    OrganizationFactory(name="Consumer Goods Association", acronym="")
    OrganizationFactory(name="Foreign Policy Council", acronym="")
    OrganizationFactory(name="Российский союз предпринимателей", acronym="")
    return org


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed", "difference"), ALIKE)
def test_the_editor_finds_a_name_spelled_alike_on_either_database(existing, typed, difference):
    org = _typed_with_neighbours(existing)
    found = find_duplicate_organizations(name=typed)
    assert [(each, reason.endswith(difference)) for each, reason in found] == [(org, True)]


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "typed"), APART)
def test_the_editor_leaves_other_organizations_alone_on_either_database(existing, typed):
    _typed_with_neighbours(existing)
    assert find_duplicate_organizations(name=typed) == []


@pytest.mark.django_db
def test_the_likely_duplicates_page_lists_names_spelled_alike(manager_client):
    real = OrganizationFactory(name="National Foreign Trade Council", acronym="")
    typo = OrganizationFactory(name="Nationl Foreign Trade Council", acronym="")
    cta = OrganizationFactory(name="Consumer Technology Association", acronym="")
    short = OrganizationFactory(name="Consumer Tech Association", acronym="")
    OrganizationFactory(name="Consumer Brands Association", acronym="")
    assert [(a, b) for a, b, _ in likely_duplicate_pairs()] == [(real, typo), (cta, short)]

    html = manager_client.get(reverse("coalition_organizations:duplicates")).content.decode()
    assert "spelled alike: “national” and “nationl” one letter apart" in html
    assert "spelled alike: “tech” short for “technology”" in html

    manager_client.post(
        reverse("coalition_organizations:not_duplicates"), {"older": cta.pk, "newer": short.pk}
    )
    assert [(a, b) for a, b, _ in likely_duplicate_pairs()] == [(real, typo)]


def test_pairs_are_found_whichever_of_the_two_is_listed_first():
    names = [
        "National Foreign Trade Council",
        "Nationl Foreign Trade Council",
        "National Trade Council",
        "Consumer Brands Association",
        "Consumer Technology Association",
        "Consumer Tech Association",
    ]
    expected = {(0, 1), (0, 2), (4, 5)}
    for order in (names, names[::-1]):
        index = DuplicateIndex((pk, name, "") for pk, name in enumerate(order))
        found = {(a, b) for a, b, _ in index.pairs()}
        # Indexes in `names`, whatever the order the index was given them in.
        as_names = {frozenset((order[a], order[b])) for a, b in found}
        assert as_names == {frozenset((names[a], names[b])) for a, b in expected}


def test_names_looked_up_are_those_compared_one_by_one():
    names = [(pk, name, "") for pk, (name, *_) in enumerate(ALIKE + APART)]
    filed = DuplicateIndex(names)
    compared = DuplicateIndex(names, one_name=True)
    for _, typed, *_ in ALIKE + APART:
        assert filed.matches(name=typed) == compared.matches(name=typed)


# The trigrams: PostgreSQL's own, on either database ---------------------------------------------

SCRIPTS = [
    "National Foreign Trade Council",
    "Nationl Foreign Trade Council",
    "The App Association (ACT)",
    "Computer & Communications Industry Assn.",
    "Société Générale d'Entreprises",
    "Ελληνική Ένωση Βιομηχανιών",
    "Российский союз промышленников",
    "東京商工会議所",
    "اتحاد الصناعات المصرية",
    "Σύνδεσμος Επιχειρήσεων και Βιομηχανιών",
    "Verband der Straßenbauer",
    "भारतीय उद्योग परिसंघ",
    "भारतीय उद्योग परिसंघा",
    "اتِّحَاد الصناعات",
    "Socie\u0301te\u0301 Ge\u0301ne\u0301rale",
    "Local² 12½ Ⅻ ٢٠٢٤ O\u02bcahu · the_union",
    "x",
]


@pytest.mark.django_db
def test_python_computes_the_trigram_similarity_postgresql_computes():
    if connection.vendor != "postgresql":
        pytest.skip("Compares with pg_trgm, on PostgreSQL.")
    with connection.cursor() as cursor:
        for one in SCRIPTS:
            for other in SCRIPTS:
                cursor.execute("SELECT similarity(upper(%s), upper(%s))", [one, other])
                [(expected,)] = cursor.fetchall()
                computed = trigram_similarity(trigrams(one), trigrams(other))
                assert computed == pytest.approx(expected, abs=1e-6), (one, other)


@pytest.mark.django_db
def test_the_nearest_names_are_the_same_on_either_database():
    orgs = {name: OrganizationFactory(name=name, acronym="") for name in SCRIPTS}
    for typed in ["Nationl Foreign Trade Councel", "Российский союз промышлеников", "東京商工会議"]:
        expected = sorted(
            (
                (-trigram_similarity(trigrams(typed), trigrams(name)), org.pk)
                for name, org in orgs.items()
            ),
        )
        assert near_by_trigrams(typed) == [
            pk for similarity, pk in expected if -similarity >= NEAR_SIMILARITY
        ]


@pytest.mark.django_db
def test_postgresql_finds_the_nearest_names_through_the_trigram_index():
    if connection.vendor != "postgresql":
        pytest.skip("The trigram index (migration 0006) exists on PostgreSQL only.")
    # Enough names for the index to be worth its while, as with a real member file.
    names = [f"Association of Widget Makers {n}" for n in range(2000)]
    orgs = [Organization(name=name, name_key=name_key(name), sort_name=name) for name in names]
    assign_slugs(orgs)
    Organization.objects.bulk_create(orgs)
    # As the members import leaves the index, and autovacuum would.
    merge_pending_index_entries([Organization])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE coalition_organization")
    plans = []

    def explain(execute, sql, params, many, context):
        # The query with pg_trgm's `%` operator, not the EXPLAIN of it.
        if "%%" in sql and not sql.startswith("EXPLAIN"):
            with context["connection"].cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        near_by_trigrams("Nationl Foreign Trade Council")
    [plan] = plans
    assert "org_name_trgm" in plan, plan


@pytest.mark.django_db
def test_the_check_costs_the_same_queries_however_many_organizations_there_are():
    OrganizationFactory(name="National Foreign Trade Council", acronym="")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            found = find_duplicate_organizations(name="Nationl Foreign Trade Council")
        assert len(found) == 1
        return len(captured)

    few = queries()
    OrganizationFactory.create_batch(40)
    assert queries() == few


# On entry ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_warning_on_entry_is_a_link_to_the_other_record(manager_client):
    existing = OrganizationFactory(name="National Foreign Trade Council", acronym="")
    url = reverse("coalition_organizations:add")
    html = manager_client.post(
        url, organization_post(name="Nationl Foreign Trade Council")
    ).content.decode()
    inspect = reverse("coalition_organizations:inspect", args=[existing.pk])
    assert f'<a href="{inspect}">National Foreign Trade Council</a>' in html
    assert "&lt;a href" not in html
    assert "This looks like an organization we already have" in html
    # A record not yet saved cannot be merged: only the link is offered.
    assert reverse("coalition_organizations:merge", args=[existing.pk]) not in html
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_the_warning_on_edit_offers_to_merge_the_record_into_the_other(manager_client):
    existing = OrganizationFactory(name="Consumer Technology Association", acronym="CTA")
    edited = OrganizationFactory(name="Consumer Brands Association", acronym="")
    url = reverse("coalition_organizations:edit", args=[edited.pk])
    html = manager_client.post(
        url, organization_post(name="Consumer Tech Association")
    ).content.decode()
    merge = reverse("coalition_organizations:merge", args=[existing.pk])
    assert f'<a href="{merge}?duplicate={edited.pk}">merge this record into it…</a>' in html
    assert "“tech” short for “technology”" in html
    assert "&lt;a href" not in html
    edited.refresh_from_db()
    assert edited.name == "Consumer Brands Association"

    # The offer leads to the two records side by side.
    page = manager_client.get(f"{merge}?duplicate={edited.pk}").content.decode()
    assert "side by side" in page


@pytest.mark.django_db
def test_the_same_name_error_links_to_the_existing_record(manager_client):
    existing = OrganizationFactory(name="The App Association", acronym="ACT")
    html = manager_client.post(
        reverse("coalition_organizations:add"),
        organization_post(name="App association", acronym="ACT"),
    ).content.decode()
    inspect = reverse("coalition_organizations:inspect", args=[existing.pk])
    assert f'<a href="{inspect}">' in html
    assert "&lt;a href" not in html


@pytest.mark.django_db
def test_an_organization_staff_said_is_different_is_not_offered_again(manager_client):
    existing = OrganizationFactory(name="American Bankers Association", acronym="")
    url = reverse("coalition_organizations:add")
    response = manager_client.post(
        url, organization_post(name="American Bakers Association", not_a_duplicate="on")
    )
    assert response.status_code == 302
    bakers = Organization.objects.get(name="American Bakers Association")
    assert DistinctOrganizations.objects.filter(first=existing, second=bakers).exists()
    assert likely_duplicate_pairs() == []

    # Nor warned about when the name is edited again.
    edit = reverse("coalition_organizations:edit", args=[bakers.pk])
    response = manager_client.post(
        edit, organization_post(name="American Bakers Association of America")
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
