import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from coalition.crm.viewsets import neutralise_formula
from tests.factories import ContactFactory, OrganizationFactory

EXPORTS = [
    "coalition_organizations:index",
    "coalition_contacts:index",
    "coalition_memberships:index",
    "coalition_interactions:index",
    "coalition_coalitions:index",
]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 202 555 0100", "'+1 202 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Plain name", "Plain name"),
        (42, 42),
    ],
)
def test_it_neutralises_cells_that_spreadsheets_would_run(value, expected):
    assert neutralise_formula(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_listing_exports(manager_client, coalition, url_name, fmt):
    from tests.support.crm import make_members

    make_members(2, coalition)
    response = manager_client.get(reverse(url_name), {"export": fmt})
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].endswith(f'.{fmt}"')
        or fmt in response["Content-Disposition"]
    )


@pytest.mark.django_db
def test_the_csv_export_neutralises_formulas(manager_client):
    org = OrganizationFactory(name='=HYPERLINK("http://evil.example","click")', acronym="@EVIL")
    ContactFactory(organization=org, name="-Minus", email="minus@example.org", phone="+1 555")

    rows = read_csv(manager_client.get(reverse("coalition_organizations:index"), {"export": "csv"}))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[1][1] == "'@EVIL"

    rows = read_csv(manager_client.get(reverse("coalition_contacts:index"), {"export": "csv"}))
    assert rows[1][0] == "'-Minus"
    assert rows[1][3] == "'+1 555"


@pytest.mark.django_db
def test_the_xlsx_export_keeps_formulas_as_text(manager_client):
    OrganizationFactory(name="=1+1", acronym="X")
    response = manager_client.get(reverse("coalition_organizations:index"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cell = sheet["A2"]
    assert cell.value == "=1+1"
    assert cell.data_type == "s"
