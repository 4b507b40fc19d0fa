"""The CRM reads back what it writes: the organizations and contacts exports, in CSV and XLSX,
import as they are, into an empty database (the same members again) or into the same one
(nothing changes, and the report says so).

Each membership keeps its tier and the day it began ("Name (lead; joined 2021-03-01)").
"""

import datetime

import pytest
from django.urls import reverse

from coalition.crm.imports import import_members
from coalition.crm.models import Coalition, Contact, Membership, Organization
from tests.factories import CoalitionFactory, ContactFactory, MembershipFactory, OrganizationFactory

ORGANIZATION_FIELDS = [
    "name",
    "acronym",
    "display",
    "sort_name",
    "kind",
    "country",
    "website",
    "public_page",
    "status",
    "description",
]
CONTACT_FIELDS = [
    "name",
    "email",
    "title",
    "phone",
    "is_authorized_signer",
    "is_primary",
    "email_opt_out",
]


@pytest.fixture
def members(coalition) -> None:
    """Members with everything an export carries, in several scripts, with awkward values."""
    alliance = CoalitionFactory(name="Global Data Alliance", slug="gda")
    # A comma in a coalition's name, inside a cell that lists coalitions separated by commas.
    fair_trade = CoalitionFactory(name="Coalition for Open, Fair Trade", slug="open-fair-trade")

    ccia = OrganizationFactory(
        name="Computer & Communications Industry Association",
        acronym="CCIA",
        country="US",
        website="https://ccianet.example",
        description="Open markets, open systems.\nSince 1972.",
    )
    ccia.tags.add("tech", "Digital")
    ccia.save()
    MembershipFactory(
        organization=ccia, coalition=coalition, tier="steering", joined_on=datetime.date(2019, 3, 1)
    )
    MembershipFactory(organization=ccia, coalition=alliance, tier="observer")
    ContactFactory(
        organization=ccia,
        name="Ann Lee",
        email="ann@ccianet.example",
        title="President",
        phone="+1 202 555 0100",
        is_authorized_signer=True,
        is_primary=True,
    )
    ContactFactory(
        organization=ccia,
        name="Bo Chen",
        email="bo@ccianet.example",
        title="",
        email_opt_out=True,
    )

    act = OrganizationFactory(
        name="The App Association",
        acronym="ACT",
        display="ACT | The App Association",
        kind=Organization.Kind.NGO,
        public_page=False,
        status=Organization.Status.ARCHIVED,
    )
    MembershipFactory(
        organization=act, coalition=fair_trade, tier="lead", joined_on=datetime.date(2021, 11, 30)
    )
    MembershipFactory(organization=act, coalition=coalition, tier="member")
    ContactFactory(organization=act, name="Zoë Müller", email="zoe@act.example", title="CEO")

    union = OrganizationFactory(name="Союз промышленников", acronym="", country="RU")
    MembershipFactory(organization=union, coalition=coalition, tier="member")
    ContactFactory(organization=union, name="Иван Петров", email="ivan@union.example")

    # Starts like a formula: the CSV export quotes it, and the import takes the quote off.
    OrganizationFactory(name="@Home Network", acronym="=AHN", website="")


def snapshot() -> dict:
    """Every member as the exports describe it: details, tags, coalitions with tiers and the days
    they joined, contacts."""
    found = {}
    for org in Organization.objects.prefetch_related("tags", "contacts", "memberships"):
        found[org.name] = {
            **{name: getattr(org, name) for name in ORGANIZATION_FIELDS},
            "tags": sorted(tag.name.lower() for tag in org.tags.all()),
            "memberships": sorted(
                (Coalition.objects.get(pk=m.coalition_id).name, m.tier, m.joined_on)
                for m in org.memberships.all()
                if m.left_on is None
            ),
            "contacts": sorted(
                tuple(getattr(contact, name) for name in CONTACT_FIELDS)
                for contact in org.contacts.all()
            ),
        }
    return found


def export(client, listing: str, fmt: str) -> bytes:
    response = client.get(reverse(listing), {"export": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_exports_import_into_an_empty_database_as_the_same_members(
    manager_client, members, fmt
):
    before = snapshot()
    organizations = export(manager_client, "coalition_organizations:index", fmt)
    contacts = export(manager_client, "coalition_contacts:index", fmt)
    Organization.objects.all().delete()
    assert not Contact.objects.exists() and not Membership.objects.exists()

    report = import_members(data=organizations, filename=f"organizations.{fmt}", dry_run=False)
    assert report.ok, report.errors
    assert report.organizations_created == 4
    report = import_members(data=contacts, filename=f"contacts.{fmt}", dry_run=False)
    assert report.ok, report.errors
    assert (report.organizations_created, report.contacts_created) == (0, 4)

    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_exports_imported_into_the_same_database_change_nothing_and_say_so(
    manager_client, members, fmt
):
    before = snapshot()
    updated = dict(Organization.objects.values_list("pk", "updated_at"))
    for listing, rows in (
        ("coalition_organizations:index", 4),
        ("coalition_contacts:index", 4),
    ):
        data = export(manager_client, listing, fmt)
        for dry_run in (True, False):
            report = import_members(data=data, filename=f"export.{fmt}", dry_run=dry_run)
            assert report.ok, report.errors
            assert [row.action for row in report.rows] == ["skip"] * rows
            assert not any(row.warnings for row in report.rows)
            assert (
                report.organizations_created,
                report.organizations_updated,
                report.contacts_created,
                report.contacts_updated,
                report.memberships_created,
                report.memberships_updated,
            ) == (0, 0, 0, 0, 0, 0)
            assert "every row matches what the database holds" in report.summary()

    assert snapshot() == before
    assert dict(Organization.objects.values_list("pk", "updated_at")) == updated


@pytest.mark.django_db
def test_the_exports_print_booleans_as_yes_and_no(manager_client, members):
    organizations = export(manager_client, "coalition_organizations:index", "csv").decode()
    contacts = export(manager_client, "coalition_contacts:index", "csv").decode()
    assert "True" not in organizations + contacts and "False" not in organizations + contacts
    assert contacts.splitlines()[0].endswith("Authorized signer,Primary contact,Opted out of email")
    assert "ann@ccianet.example,President,'+1 202 555 0100," in contacts
    assert contacts.count(",yes,yes,no") == 1  # Ann: a signer, the primary contact, not opted out


@pytest.mark.django_db
def test_a_join_date_in_the_coalitions_cell_that_is_no_date_is_named(coalition):
    data = f'name,coalitions\nWidget Guild,"{coalition.name} (lead; joined soon)"\n'.encode()
    report = import_members(data=data, filename="members.csv", dry_run=True)
    assert report.errors == [
        f"Row 2: “joined soon” in coalitions, for {coalition.name}, should read “joined” and a "
        "date like 2024-05-31."
    ]
    good = f'name,coalitions\nWidget Guild,"{coalition.name} (lead; joined 2021-03-01)"\n'
    report = import_members(data=good.encode(), filename="members.csv", dry_run=False)
    assert report.ok, report.errors
    membership = Membership.objects.get(organization__name="Widget Guild")
    assert (membership.tier, membership.joined_on) == ("lead", datetime.date(2021, 3, 1))
