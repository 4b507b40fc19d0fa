import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from coalition.crm.imports import import_members
from coalition.crm.models import Contact, Membership, Organization
from tests.factories import ContactFactory, MembershipFactory, OrganizationFactory

HEADER = [
    "name",
    "acronym",
    "country",
    "tags",
    "contact_name",
    "contact_email",
    "authorized_signer",
    "coalition",
    "tier",
]
ROWS = [
    [
        "Société Générale des Électriciens",
        "SGE",
        "FR",
        "energy; trade",
        "Zoë Müller",
        "zoe@sge.example",
        "yes",
        "Digital Trade Coalition",
        "lead",
    ],
    [
        "Société Générale des Électriciens",
        "",
        "",
        "",
        "José Núñez",
        "jose@sge.example",
        "no",
        "",
        "",
    ],
    [
        "The Widget Council",
        "TWC",
        "US",
        "",
        "Ann Lee",
        "ann@twc.example",
        "",
        "digital-trade",
        "Member",
    ],
]


def csv_bytes(
    rows: list[list[str]], *, header: list[str] = HEADER, encoding: str = "utf-8"
) -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[str]], *, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ENCODINGS = {
    "utf-8": lambda: csv_bytes(ROWS),
    "utf-8 with BOM": lambda: csv_bytes(ROWS, encoding="utf-8-sig"),
    "latin-1": lambda: csv_bytes(ROWS, encoding="latin-1"),
    "utf-16": lambda: csv_bytes(ROWS, encoding="utf-16"),
    "xlsx": lambda: xlsx_bytes(ROWS),
}


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_it_imports_every_supported_encoding_and_format(coalition, encoding):
    data = ENCODINGS[encoding]()
    report = import_members(
        data=data, filename=f"members.{'xlsx' if encoding == 'xlsx' else 'csv'}", dry_run=False
    )

    assert report.ok, report.errors
    sge = Organization.objects.get(acronym="SGE")
    assert sge.name == "Société Générale des Électriciens"
    assert sorted(sge.contacts.values_list("name", flat=True)) == ["José Núñez", "Zoë Müller"]
    assert sge.contacts.get(email="zoe@sge.example").is_authorized_signer
    assert sorted(t.name for t in sge.tags.all()) == ["energy", "trade"]
    assert Membership.objects.get(organization=sge).tier == "lead"
    twc = Organization.objects.get(acronym="TWC")
    assert (twc.sort_name, twc.country) == ("Widget Council", "US")
    assert Membership.objects.get(organization=twc, coalition=coalition).tier == "member"


@pytest.mark.django_db
def test_a_dry_run_reports_row_by_row_and_writes_nothing(coalition):
    existing = OrganizationFactory(name="The Widget Council", acronym="TWC", country="US")
    ContactFactory(organization=existing, name="Ann Lee", email="ANN@twc.example", title="")
    MembershipFactory(organization=existing, coalition=coalition, tier="member")

    report = import_members(data=csv_bytes(ROWS), dry_run=True)

    assert report.ok, report.errors
    assert [(r.number, r.action) for r in report.rows] == [
        (2, "create"),
        (3, "update"),
        (4, "skip"),
    ]
    assert "new organization" in report.rows[0].changes
    assert "new contact jose@sge.example" in report.rows[1].changes
    assert "1 would be created, 1 would be updated, 1 skipped" in report.summary()
    assert not Organization.objects.filter(acronym="SGE").exists()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_it_updates_existing_organizations_and_contacts(coalition):
    existing = OrganizationFactory(name="Widget Council", acronym="TWC", country="GB")
    ContactFactory(organization=existing, email="ann@twc.example", name="Ann", title="")
    report = import_members(data=csv_bytes(ROWS[2:]), dry_run=False)
    assert report.ok, report.errors
    existing.refresh_from_db()
    assert existing.country == "US"
    assert Contact.objects.get(email="ann@twc.example").name == "Ann Lee"
    assert Organization.objects.count() == 1


def bad(rows: list[list[str]], header: list[str] = HEADER) -> list[str]:
    report = import_members(data=csv_bytes(rows, header=header), dry_run=False)
    assert not report.ok
    assert Organization.objects.count() == 0 and Contact.objects.count() == 0
    return report.errors


@pytest.mark.django_db
def test_a_missing_column_is_reported_and_nothing_imported(coalition):
    header = [h for h in HEADER if h != "name"]
    errors = bad([row[1:] for row in ROWS], header=header)
    assert errors[0].startswith("Missing column: name")


@pytest.mark.django_db
def test_a_bad_email_is_reported_with_its_row_and_nothing_imported(coalition):
    rows = [ROWS[0], [*ROWS[2][:5], "ann-at-twc.example", *ROWS[2][6:]]]
    assert bad(rows) == ["Row 3: contact_email “ann-at-twc.example” is not a valid email address."]


@pytest.mark.django_db
def test_an_unknown_coalition_is_reported_with_its_row_and_nothing_imported(coalition):
    rows = [ROWS[0], [*ROWS[2][:7], "Imaginary Alliance", "member"]]
    assert bad(rows) == ["Row 3: coalition “Imaginary Alliance” does not exist."]


@pytest.mark.django_db
def test_an_unknown_tier_is_reported_with_its_row_and_nothing_imported(coalition):
    rows = [ROWS[0], [*ROWS[2][:8], "platinum"]]
    assert bad(rows) == ["Row 3: tier “platinum” is not one of: lead, steering, member, observer."]


@pytest.mark.django_db
def test_a_duplicate_contact_in_the_file_is_reported_and_nothing_imported(coalition):
    rows = [ROWS[0], [*ROWS[2][:5], "ZOE@sge.example", *ROWS[2][6:]]]
    assert bad(rows) == ["Row 3: contact_email ZOE@sge.example is also on row 2 (a duplicate)."]


@pytest.mark.django_db
def test_a_duplicate_organization_in_the_file_is_reported_and_nothing_imported(coalition):
    rows = [ROWS[2], ["the widget council!", "", "", "", "", "", "", "", ""]]
    errors = bad(rows)
    assert errors == [
        "Row 3: organization “the widget council!” is already on row 2 and this row adds no "
        "contact or membership (a duplicate)."
    ]


@pytest.mark.django_db
def test_a_duplicate_membership_in_the_file_is_reported(coalition):
    rows = [
        ROWS[2],
        [
            "The Widget Council",
            "",
            "",
            "",
            "Bo",
            "bo@twc.example",
            "",
            "Digital Trade Coalition",
            "lead",
        ],
    ]
    assert bad(rows) == [
        "Row 3: the membership of “The Widget Council” in Digital Trade Coalition is also on row 2 (a duplicate)."
    ]


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(coalition):
    rows = [
        [*ROWS[0][:5], "not-an-email", *ROWS[0][6:]],
        [*ROWS[2][:7], "Nowhere", "member"],
        ["", "X", "", "", "", "", "", "", ""],
        ["Bad Country", "", "USA", "", "", "", "", "", ""],
    ]
    errors = bad(rows)
    assert [e.split(":")[0] for e in errors] == ["Row 2", "Row 3", "Row 4", "Row 5"]


@pytest.mark.django_db
def test_an_email_of_another_organizations_contact_is_refused(coalition):
    ContactFactory(email="ann@twc.example")
    errors = import_members(data=csv_bytes(ROWS[2:]), dry_run=False).errors
    assert errors[0].startswith("Row 2: contact_email ann@twc.example belongs to")


@pytest.mark.django_db
def test_a_file_that_is_not_a_spreadsheet_is_refused(coalition):
    report = import_members(data=b"PK\x03\x04garbage", filename="members.xlsx", dry_run=False)
    assert report.errors[0].startswith("The file is not a readable XLSX workbook")


@pytest.mark.django_db
def test_it_warns_about_a_likely_duplicate_of_an_existing_organization(coalition):
    OrganizationFactory(name="Twin Widget Council", acronym="TWC")
    report = import_members(data=csv_bytes(ROWS[2:]), dry_run=True)
    assert report.rows[0].warnings == ["same acronym as the existing “Twin Widget Council”"]


@pytest.mark.django_db
def test_the_command_dry_runs_then_commits(coalition, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(csv_bytes(ROWS))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_members", str(path), "--no-input", stdout=out, stderr=err)
    assert "row 2: create Société Générale des Électriciens" in out.getvalue()
    assert "nothing was written" in out.getvalue()
    assert Organization.objects.count() == 0

    call_command("import_members", str(path), "--commit", stdout=out, stderr=err)
    assert Organization.objects.count() == 2
    assert "Imported members.csv" in out.getvalue()
    assert "Writing" in err.getvalue()  # the progress bar


@pytest.mark.django_db
def test_the_command_fails_with_the_row_numbers(coalition, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(csv_bytes([[*ROWS[2][:8], "platinum"]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_members", str(path), "--commit", stdout=io.StringIO(), stderr=err)
    assert "Row 2: tier" in err.getvalue()
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_the_admin_import_shows_a_dry_run_then_imports(manager_client, coalition):
    url = reverse("coalition_import:index")
    upload = io.BytesIO(xlsx_bytes(ROWS))
    upload.name = "members.xlsx"
    response = manager_client.post(url, {"file": upload})
    html = response.content.decode()
    assert "Dry run: nothing has been written yet." in html
    assert "will create" in html
    assert Organization.objects.count() == 0
    token = response.context["token"]

    response = manager_client.post(url, {"token": token}, follow=True)
    assert Organization.objects.count() == 2
    assert "Imported." in response.content.decode()

    response = manager_client.post(url, {"token": token}, follow=True)
    assert "already been imported" in response.content.decode()
    assert Organization.objects.count() == 2


@pytest.mark.django_db
def test_the_admin_import_lists_the_errors(manager_client, coalition):
    upload = io.BytesIO(csv_bytes([[*ROWS[2][:7], "Nowhere", "member"]]))
    upload.name = "members.csv"
    response = manager_client.post(reverse("coalition_import:index"), {"file": upload})
    html = response.content.decode()
    assert "Nothing was imported." in html
    assert "Row 2: coalition “Nowhere” does not exist." in html
    assert not response.context["token"]
