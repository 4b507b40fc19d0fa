"""Likely duplicates: spellings of one organization that its strict name key keeps apart, found on
entry, on import and among the organizations already there, and offered for merging."""

import io

import pytest
from django.urls import reverse

from coalition.crm.duplicates import DuplicateIndex, likely_duplicate_key
from coalition.crm.imports import import_members
from coalition.crm.models import DistinctOrganizations, Organization
from tests.coalition.test_duplicates import organization_post
from tests.factories import ContactFactory, OrganizationFactory


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "Computer and Communications Industry Assn",
            "Computer & Communications Industry Association",
        ),
        ("National Association of Manufacturers Inc.", "National Association of Manufacturers"),
        ("Natl. Ass'n of Manufacturers", "National Association of Manufacturers (NAM)"),
        ("The Widget Makers Assoc.", "Widget Makers Association"),
        ("Acme Corp.", "ACME Corporation"),
        ("Acme Co., Ltd.", "Acme Company Limited"),
        ("Acme, LLC", "Acme"),
        ("Intl Fed. of Journalists", "International Federation of Journalists"),
        ("U.S. Chamber of Commerce", "US Chamber of Commerce"),
        ("Joint Trade Cttee", "Joint Trade Committee"),
        ("Widget-Makers\u2019 Guild", "Widget Makers Guild"),
        ("Союз промышленников, Ltd", "СОЮЗ ПРОМЫШЛЕННИКОВ"),
        ("Ελληνική Ένωση & Σύνδεσμος", "ελληνικη ενωση and συνδεσμος"),
        ("東京商工会議所 Co., Ltd.", "東京商工会議所"),
        ("اتحاد الصناعات Inc.", "اتحاد الصناعات"),
    ],
)
def test_spellings_of_one_name_share_a_likely_duplicate_key(one, other):
    assert likely_duplicate_key(one) == likely_duplicate_key(other) != ""


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Widget Makers Association", "Widget Makers Foundation"),
        ("Acme Company", "Acme Holdings"),
        ("Союз промышленников", "Союз предпринимателей"),
        ("東京商工会議所", "大阪商工会議所"),
        ("اتحاد الصناعات", "اتحاد التجارة"),
        ("Ελληνική Ένωση", "Κυπριακή Ένωση"),
        # A word of its own, not a legal form at the end.
        ("Co-operative Alliance", "Operative Alliance"),
    ],
)
def test_different_names_keep_different_keys(one, other):
    assert likely_duplicate_key(one) != likely_duplicate_key(other)


def test_an_acronym_matches_the_organization_it_abbreviates():
    index = DuplicateIndex(
        [
            (1, "National Association of Manufacturers (NAM)", ""),
            (2, "Computer & Communications Industry Association", "CCIA"),
            (3, "The App Association", "ACT"),
            (4, "American Council of Trade", "ACT"),
        ]
    )

    [nam] = index.matches(name="NAM")
    assert (nam.pk, nam.certain) == (1, True)
    [by_column] = index.matches(name="Natl Assn of Manufacturers", acronym="NAM")
    assert (by_column.pk, by_column.certain) == (1, True)
    [ccia] = index.matches(name="ccia")
    assert (ccia.pk, ccia.reason) == (2, "its acronym is this name")
    # Only an acronym in common, under another name: shown, never matched.
    [shared] = index.matches(name="Something Else", acronym="NAM")
    assert (shared.pk, shared.certain) == (1, False)
    assert {m.pk for m in index.matches(name="ACT")} == {3, 4}
    assert index.matches(name="Widget Makers Guild", acronym="WMG") == []


@pytest.fixture
def existing(coalition):
    ccia = OrganizationFactory(name="Computer & Communications Industry Association", acronym="")
    nam = OrganizationFactory(name="National Association of Manufacturers (NAM)", acronym="")
    ContactFactory(organization=nam, email="jay@nam.example", name="Jay Timmons")
    return ccia, nam


MEMBERS_FILE = "\n".join(
    [
        "name,acronym,contact_name,contact_email,coalition,tier",
        "Computer and Communications Industry Assn,,Ann Lee,ann@ccianet.example,"
        "Digital Trade Coalition,steering",
        "National Association of Manufacturers Inc.,,Bo Chen,bo@nam.example,,",
        "NAM,,,,Digital Trade Coalition,lead",
        "Natl. Ass'n of Mfrs,NAM,Cy Diaz,cy@nam.example,,",
        "Brand New Guild,,Di Eze,di@guild.example,,",
    ]
).encode()


@pytest.mark.django_db
def test_the_import_lists_likely_duplicates_then_adds_to_the_existing_organizations(existing):
    ccia, nam = existing
    dry = import_members(data=MEMBERS_FILE, filename="members.csv", dry_run=True)
    assert dry.ok, dry.errors
    warnings = {row.number: row.warnings for row in dry.rows}
    assert warnings == {
        2: [
            "taken as the existing “Computer & Communications Industry Association” "
            "(similar name), not created"
        ],
        3: [
            "taken as the existing “National Association of Manufacturers (NAM)” "
            "(similar name), not created"
        ],
        4: [],  # the same organization as row 3: reported there
        5: [],
        6: [],
    }
    assert [row.action for row in dry.rows] == ["update", "update", "update", "update", "create"]
    assert "2 organizations spelled differently matched existing ones" in dry.summary()
    assert Organization.objects.count() == 2

    report = import_members(data=MEMBERS_FILE, filename="members.csv", dry_run=False)
    assert report.ok, report.errors
    assert report.organizations_created == 1
    assert sorted(Organization.objects.values_list("name", flat=True)) == [
        "Brand New Guild",
        "Computer & Communications Industry Association",
        "National Association of Manufacturers (NAM)",
    ]
    assert [c.email for c in ccia.contacts.all()] == ["ann@ccianet.example"]
    assert sorted(c.email for c in nam.contacts.all()) == [
        "bo@nam.example",
        "cy@nam.example",
        "jay@nam.example",
    ]
    assert ccia.memberships.get().tier == "steering"
    assert nam.memberships.get().tier == "lead"


@pytest.mark.django_db
def test_an_ambiguous_likely_duplicate_is_listed_and_not_guessed(coalition):
    OrganizationFactory(name="The App Association", acronym="ACT")
    OrganizationFactory(name="American Council of Trade", acronym="ACT")
    data = b"name,contact_name,contact_email\nACT,Ann Lee,ann@act.example\n"
    dry = import_members(data=data, filename="members.csv", dry_run=True)
    assert dry.rows[0].warnings == [
        "looks like the existing “American Council of Trade” (its acronym is this name)",
        "looks like the existing “The App Association” (its acronym is this name)",
        "not matched: more than one existing organization fits; write its name as the database "
        "has it to add to one",
    ]
    assert dry.rows[0].action == "create"
    report = import_members(data=data, filename="members.csv", dry_run=False)
    assert report.ok and report.organizations_matched == 0
    assert Organization.objects.get(name="ACT").contacts.get().email == "ann@act.example"


@pytest.mark.django_db
def test_likely_duplicates_within_the_file_are_pointed_out(coalition):
    data = b"name\nWidget Makers Assn\nThe Widget Makers Association, Inc.\n"
    report = import_members(data=data, filename="members.csv", dry_run=True)
    assert [row.warnings for row in report.rows] == [
        [],
        ["looks like “Widget Makers Assn” on row 2"],
    ]


@pytest.mark.django_db
def test_the_dry_run_page_shows_each_likely_duplicate_by_row(manager_client, existing):
    upload = io.BytesIO(MEMBERS_FILE)
    upload.name = "members.csv"
    html = manager_client.post(reverse("coalition_import:index"), {"file": upload}).content
    html = html.decode()
    assert "taken as the existing “Computer &amp; Communications Industry Association”" in html
    assert "2 organizations spelled differently matched existing ones" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "Computer and Communications Industry Assn"}, "similar name"),
        ({"name": "CCIA"}, "acronym matches the name"),
        ({"name": "Something Else", "acronym": "ccia"}, "same acronym"),
    ],
)
def test_the_editor_warns_of_a_likely_duplicate_until_staff_confirm(manager_client, fields, reason):
    existing = OrganizationFactory(
        name="Computer & Communications Industry Association", acronym="CCIA"
    )
    url = reverse("coalition_organizations:add")
    html = manager_client.post(url, organization_post(**fields)).content.decode()
    assert "This looks like an organization we already have" in html
    assert reverse("coalition_organizations:inspect", args=[existing.pk]) in html
    assert f"({reason})" in html
    assert Organization.objects.count() == 1

    response = manager_client.post(url, organization_post(**fields, not_a_duplicate="on"))
    assert response.status_code == 302
    created = Organization.objects.exclude(pk=existing.pk).get()

    # Confirmed once: editing something else does not ask again.
    edit = reverse("coalition_organizations:edit", args=[created.pk])
    response = manager_client.post(
        edit, organization_post(**{**fields, "country": "US", "acronym": created.acronym})
    )
    assert response.status_code == 302, response.content.decode()[-2000:]


@pytest.mark.django_db
def test_the_admin_offers_likely_duplicate_pairs_for_merging(
    manager_client, django_assert_max_num_queries
):
    ccia = OrganizationFactory(name="Computer & Communications Industry Association", acronym="")
    assn = OrganizationFactory(name="Computer and Communications Industry Assn", acronym="")
    nam = OrganizationFactory(name="National Association of Manufacturers (NAM)", acronym="")
    nam_short = OrganizationFactory(name="NAM", acronym="")
    OrganizationFactory(name="Unrelated Society", acronym="US1")
    merged = OrganizationFactory(name="Computer & Communications Industry Assoc.", acronym="")
    merged.merged_into = ccia
    merged.save()

    listing = manager_client.get(reverse("coalition_organizations:index")).content.decode()
    assert reverse("coalition_organizations:duplicates") in listing

    url = reverse("coalition_organizations:duplicates")
    manager_client.get(url)
    with django_assert_max_num_queries(12):
        response = manager_client.get(url)
    pairs = [(p["older"], p["newer"], p["reason"]) for p in response.context["pairs"]]
    assert pairs == [
        (ccia, assn, "similar name"),
        (nam, nam_short, "one is named as the other's acronym"),
    ]
    merge_url = response.context["pairs"][0]["merge_url"]
    html = response.content.decode()
    assert merge_url.replace("&", "&amp;") in html or merge_url in html

    # The merge view opens with the pair chosen, and merges it.
    page = manager_client.get(merge_url).content.decode()
    assert f'value="{assn.pk}" checked' in page
    response = manager_client.post(merge_url, {"duplicate": assn.pk})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=assn.pk).exists()
    pairs = manager_client.get(url).context["pairs"]
    assert [(p["older"], p["newer"]) for p in pairs] == [(nam, nam_short)]


@pytest.mark.django_db
def test_only_staff_who_may_merge_see_likely_duplicates(viewer_client):
    OrganizationFactory(name="Computer & Communications Industry Association")
    OrganizationFactory(name="Computer and Communications Industry Assn")
    response = viewer_client.get(reverse("coalition_organizations:duplicates"))
    assert response.status_code == 302  # Wagtail's answer to a permission denied
    assert response.context is None or "pairs" not in response.context


@pytest.mark.django_db
def test_staff_keep_apart_a_pair_that_only_looks_alike(manager_client):
    first = OrganizationFactory(name="National Association of Manufacturers (NAM)", acronym="")
    second = OrganizationFactory(name="NAM", acronym="")
    url = reverse("coalition_organizations:duplicates")
    assert [(p["older"], p["newer"]) for p in manager_client.get(url).context["pairs"]] == [
        (first, second)
    ]
    assert "Not the same: keep both" in manager_client.get(url).content.decode()

    keep_apart = reverse("coalition_organizations:not_duplicates")
    response = manager_client.post(keep_apart, {"older": first.pk, "newer": second.pk}, follow=True)
    assert "are kept apart" in response.content.decode()
    assert response.context["pairs"] == []
    assert Organization.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    # Once only, in either order.
    manager_client.post(keep_apart, {"older": second.pk, "newer": first.pk})
    assert DistinctOrganizations.objects.count() == 1

    bad = manager_client.post(keep_apart, {"older": first.pk, "newer": "x"}, follow=True)
    assert "Choose the two organizations from the list." in bad.content.decode()


@pytest.mark.django_db
def test_only_staff_who_may_merge_keep_pairs_apart(viewer_client):
    first = OrganizationFactory(name="Computer & Communications Industry Association")
    second = OrganizationFactory(name="Computer and Communications Industry Assn")
    viewer_client.post(
        reverse("coalition_organizations:not_duplicates"), {"older": first.pk, "newer": second.pk}
    )
    assert not DistinctOrganizations.objects.exists()


@pytest.mark.django_db
def test_keeping_apart_a_pair_that_is_no_ids_says_so(manager_client):
    first = OrganizationFactory(name="National Association of Manufacturers (NAM)", acronym="")
    keep_apart = reverse("coalition_organizations:not_duplicates")
    response = manager_client.post(keep_apart, {"older": first.pk, "newer": "²"}, follow=True)
    assert "Choose the two organizations from the list." in response.content.decode()
    assert not DistinctOrganizations.objects.exists()
