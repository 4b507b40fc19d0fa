"""Pending requests and records kept after a merge stay out of member listings, exports and counts."""

import csv
import io

import pytest
from django.urls import reverse

from coalition.crm.models import Organization
from coalition.crm.selectors import find_duplicate_organizations, organizations_named
from tests.factories import ContactFactory, MembershipFactory, OrganizationFactory
from tests.support.crm import make_members


@pytest.fixture
def outsiders(db, coalition):
    """A member, a pending request and a merged record, each with a contact and a membership."""
    [member] = make_members(1, coalition)
    member.name = "Member Guild"
    member.save()
    pending = OrganizationFactory(
        name="Pending Guild", acronym="PG", status=Organization.Status.PENDING
    )
    merged = OrganizationFactory(
        name="Merged Guild",
        acronym="MG",
        status=Organization.Status.ARCHIVED,
        merged_into=member,
    )
    for org in (pending, merged):
        ContactFactory(organization=org, name=f"Person at {org.name}")
        MembershipFactory(organization=org, coalition=coalition)
    return member, pending, merged


def html_of(response) -> str:
    return response.content.decode()


def csv_of(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db
def test_the_organization_listing_shows_members_only(manager_client, outsiders):
    html = html_of(manager_client.get(reverse("coalition_organizations:index")))
    assert "Member Guild" in html
    assert "Pending Guild" not in html
    assert "Merged Guild" not in html


@pytest.mark.django_db
def test_staff_find_pending_requests_by_their_status(manager_client, outsiders):
    url = reverse("coalition_organizations:index")
    html = html_of(manager_client.get(url, {"status": "pending"}))
    assert "Pending Guild" in html
    assert "Member Guild" not in html
    assert "Pending approval" in html
    # Archived lists archived members, never the records kept after a merge.
    assert "Merged Guild" not in html_of(manager_client.get(url, {"status": "archived"}))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_organization_export_leaves_them_out(manager_client, outsiders, fmt):
    response = manager_client.get(reverse("coalition_organizations:index"), {"export": fmt})
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(csv_of(response))))
        assert [row[0] for row in rows[1:]] == ["Member Guild"]
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Member Guild"]


@pytest.mark.django_db
def test_their_contacts_and_memberships_are_not_listed(manager_client, outsiders):
    for url_name in ("coalition_contacts:index", "coalition_memberships:index"):
        html = html_of(manager_client.get(reverse(url_name)))
        assert "Member Guild" in html, url_name
        assert "Pending Guild" not in html, url_name
        assert "Merged Guild" not in html, url_name
    exported = csv_of(manager_client.get(reverse("coalition_contacts:index"), {"export": "csv"}))
    assert "Person at" not in exported
    exported = csv_of(manager_client.get(reverse("coalition_memberships:index"), {"export": "csv"}))
    assert "Pending Guild" not in exported
    assert "Merged Guild" not in exported


@pytest.mark.django_db
def test_they_do_not_count_as_members_of_a_coalition(manager_client, outsiders, coalition):
    response = manager_client.get(reverse("coalition_coalitions:index"), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(csv_of(response))))
    assert rows[1][0] == coalition.name
    assert rows[1][-1] == "1"


@pytest.mark.django_db
def test_the_duplicate_finder_still_matches_pending_requests_but_not_merged_records(outsiders):
    _, pending, _ = outsiders
    assert find_duplicate_organizations(name="Pending Guild") == [(pending, "same name")]
    assert find_duplicate_organizations(name="Merged Guild", acronym="MG") == []
    assert not organizations_named(names=["Merged Guild"], acronyms=["MG"])


@pytest.mark.django_db
def test_the_chooser_offers_no_merged_record(manager_client, outsiders):
    html = html_of(manager_client.get(reverse("coalition_organization_chooser:choose")))
    assert "Member Guild" in html
    assert "Merged Guild" not in html


@pytest.mark.django_db
def test_the_merge_form_offers_pending_requests_but_no_merged_record(manager_client, outsiders):
    member, _, merged = outsiders
    url = reverse("coalition_organizations:merge", args=[member.pk])
    html = html_of(manager_client.get(url, {"q": "Guild"}))
    assert "Pending Guild" in html
    assert "Merged Guild" not in html
    response = manager_client.post(url, {"duplicate": merged.pk})
    assert "Choose one of the organizations listed." in html_of(response)
    assert Organization.objects.get(pk=merged.pk).merged_into == member
