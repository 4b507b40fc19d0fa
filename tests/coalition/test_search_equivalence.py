"""The CRM's searches find what they found before they were made faster: on PostgreSQL a term
too short for the trigram indexes compares the upper-cased copies of migration 0013 instead of
upper-casing every row, and a listing reads its page among the ids of its matches; the rows and
their order stay those of the plain `icontains` search, in every script and case."""

# ruff: noqa: RUF001 (letters of other scripts that look like Latin ones, on purpose)
import itertools

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.crm.models import Contact, Organization
from coalition.crm.selectors import is_member, search_contacts, search_organizations
from coalition.crm.trigrams import has_trigrams
from coalition.crm.viewsets import listings
from tests.factories import ContactFactory, OrganizationFactory

CONTACTS = "coalition_contacts:index"
ORGANIZATIONS = "coalition_organizations:index"

# Names, acronyms, emails and titles in several scripts, with the letters that upper-case
# unlike their neighbours: ß, the Turkish dotless and dotted i, final sigma, ǆ (a digraph with a
# title case), ё, the ligature ﬁ, combining accents, and the characters LIKE treats specially.
ORGANIZATIONS_AND_CONTACTS = [
    ("Straße & Söhne Verband", "SSV", [("Jürgen Groß", "jg@strasse.example", "Geschäftsführer")]),
    ("İstanbul Sanayi Odası", "ISO", [("Işıl Yılmaz", "isil@iso.example", "Başkan")]),
    (
        "Ελληνική Ένωση Καταναλωτών",
        "ΕΕΚ",
        [("Σοφία Παπαδοπούλου", "sofia@eek.example", "Πρόεδρος")],
    ),
    ("Ассоциация Ёлка", "АЁ", [("Пётр Иванов", "petr@yolka.example", "Директор")]),
    ("جمعية حماية المستهلك", "", [("مَريم الحسن", "maryam@jhm.example", "مديرة")]),
    ("日本消費者協会", "JCA", [("山田 花子", "hanako@jca.example", "理事長")]),
    ("भारतीय उपभोक्ता संघ", "BUS", [("अनीता शर्मा", "anita@bus.example", "सचिव")]),
    ("Ǆemal ﬁnance Ltd", "DZ", [("Zoë Ñúñez", "zoe@dz.example", "CFO")]),
    ("Cafe\u0301 Société Coopérative", "CSC", [("Renée Maria Dupont", "renee@csc.example", "")]),
    ("100% Green_Energy\\Union", "GEU", [("Eu Lee", "eu.lee@geu.example", "Head of EU affairs")]),
    ("European Digital Rights", "EDRi", [("Maria Smith", "maria.smith@edri.example", "Policy")]),
    ("Leuven Tech Association", "LTA", [("Ann Smithers", "ann@leuven.example", "Membership")]),
]

TERMS = [
    # Two letters and less: the upper-cased copies on PostgreSQL.
    *["eu", "EU", "Eu", "an", "ma", "e", "ß", "ss", "SS", "ı", "i", "İ", "I", "σ", "ς", "Σ"],
    *["ё", "Ё", "е", "日本", "山", "ǆ", "ǅ", "Ǆ", "ﬁ", "fi", "é", "e\u0301", "ñ", "Ñ", "مَ", "ي"],
    *["%", "_", "\\", "e%", "%g", "y_", "_e", "0%", "a.", "@e", ".e", " s", "s ", "-", "&"],
    # Longer terms: the trigram indexes, unchanged.
    *["maria", "smith", "association", "straße", "strasse", "σοφία", "ΣΟΦΊΑ", "ёлка", "ЁЛКА"],
    *["消費者", "संघ", "example", "100%", "green_e", "a.e", "leuven", "zzqx", "é s"],
]


def _contains_before(query: str, *fields: str) -> models.Q:
    """The search's condition as it was: `icontains` on every field."""
    found = models.Q()
    for field in fields:
        found |= models.Q(**{f"{field}__icontains": query})
    return found


def organizations_found_before(queryset: models.QuerySet, query: str) -> models.QuerySet:
    query = query.strip()
    if not query:
        return queryset
    contacts = Contact.objects.filter(_contains_before(query, "name", "email"))
    return queryset.filter(
        _contains_before(query, "name", "acronym")
        | models.Q(pk__in=list(contacts.values_list("organization_id", flat=True)))
    )


def contacts_found_before(queryset: models.QuerySet, query: str) -> models.QuerySet:
    query = query.strip()
    if not query:
        return queryset
    organizations = Organization.objects.filter(_contains_before(query, "name", "acronym"))
    return queryset.filter(
        _contains_before(query, "name", "email", "title")
        | models.Q(organization_id__in=list(organizations.values_list("pk", flat=True)))
    )


@pytest.fixture
def varied_members(db) -> None:
    for name, acronym, contacts in ORGANIZATIONS_AND_CONTACTS:
        org = OrganizationFactory(name=name, acronym=acronym)
        for contact_name, email, title in contacts:
            ContactFactory(organization=org, name=contact_name, email=email, title=title)
    # Many of a common word, so that orderings and pages have something to order.
    for i, (first, last) in enumerate(itertools.product(["Maria", "Marie", "Anna"], "ABCDEFGH")):
        org = OrganizationFactory(name=f"Association {last}{i} Européenne", acronym=f"A{i}")
        ContactFactory(organization=org, name=f"{first} {last}eu", email=f"m{i}@eu{i}.example")


@pytest.mark.django_db
@pytest.mark.parametrize("term", TERMS)
def test_it_finds_the_same_rows_in_the_same_order_as_the_plain_search(varied_members, term):
    organizations = Organization.objects.filter(is_member())
    contacts = Contact.objects.filter(is_member("organization__")).select_related("organization")
    assert list(search_organizations(organizations, term)) == list(
        organizations_found_before(organizations, term)
    )
    assert list(search_contacts(contacts, term)) == list(contacts_found_before(contacts, term))


@pytest.mark.django_db
def test_the_terms_compared_find_something_in_every_script(varied_members):
    # Else the comparison above would prove little: most terms match some rows.
    organizations = Organization.objects.filter(is_member())
    found = [term for term in TERMS if search_organizations(organizations, term).exists()]
    assert len(found) >= len(TERMS) * 3 // 4
    for term in ["eu", "ß", "Ё", "日本", "ي", "%", "_", "\\"]:
        assert term in found, term


@pytest.mark.django_db
def test_a_short_term_compares_the_upper_cased_copies_on_postgresql(varied_members):
    if connection.vendor != "postgresql":
        pytest.skip("The upper-cased copies (migration 0013) exist on PostgreSQL only.")
    assert not has_trigrams("eu") and has_trigrams("maria") and not has_trigrams("a.e")
    contacts = Contact.objects.all()
    short = str(search_contacts(contacts, "eu").query)
    assert '"name_upper" LIKE UPPER(' in short and 'UPPER("coalition_contact"."name"' not in short
    long = str(search_contacts(contacts, "maria").query)
    assert "_upper" not in long  # the trigram indexes are on UPPER(column)
    # Written rows have their copies at once, as the database computes them.
    ContactFactory(organization=Organization.objects.first(), name="Zeynep Öztürk")
    assert [c.name for c in search_contacts(contacts, "öz")] == ["Zeynep Öztürk"]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "term"), [(CONTACTS, "eu"), (ORGANIZATIONS, "ma")])
@pytest.mark.parametrize("limit", [5, 1000])
def test_the_listing_pages_through_the_same_rows_in_the_same_order(
    manager_client, varied_members, monkeypatch, url_name, term, limit
):
    # Under the limit the page is read among the ids of the matches; over it, in the listing's
    # order as before: either way the pages hold the rows of the plain search, in order.
    monkeypatch.setattr(listings, "SEARCH_COUNT_LIMIT", limit)
    if url_name == CONTACTS:
        every = contacts_found_before(
            Contact.objects.filter(is_member("organization__")).order_by("name", "pk"), term
        )
    else:
        every = organizations_found_before(
            Organization.objects.filter(is_member()).order_by("sort_name", "name", "pk"), term
        )
    every_pk = list(every.values_list("pk", flat=True))
    assert len(every_pk) > 10
    expected = every_pk[:limit]
    shown = []
    for page in itertools.count(1):
        response = manager_client.get(reverse(url_name), {"q": term, "p": page})
        shown += [row.pk for row in response.context["object_list"]]
        if not response.context["page_obj"].has_next():
            break
    assert shown == expected


@pytest.mark.django_db
def test_a_page_of_few_matches_is_read_among_their_ids(manager_client, varied_members):
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(reverse(CONTACTS), {"q": "maria"})
    assert response.status_code == 200
    names = [c.name for c in response.context["object_list"]]
    assert names == sorted(names) and len(names) == 10
    [page] = [
        q["sql"]
        for q in queries.captured_queries
        if 'ORDER BY "coalition_contact"."name"' in q["sql"]
    ]
    assert '"coalition_contact"."id" = ANY(' in page or '"coalition_contact"."id" IN (' in page
