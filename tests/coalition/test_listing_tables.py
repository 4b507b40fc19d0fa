"""The CRM listings print their rows from Python (coalition/crm/viewsets/tables.py) exactly as
Wagtail's per-cell templates would, for staff who may change records and for those who may only
look; and their filters offer no organization or contact as a choice."""

import datetime
import re

import pytest
from django.test.html import parse_html
from django.urls import reverse
from wagtail.admin.ui.tables import Column, Table, TitleColumn

from coalition.crm.viewsets.tables import ListingTable, PlainColumn, PlainTitleColumn
from tests.factories import (
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
)
from tests.support.crm import make_members

LISTINGS = [
    ("coalition_organizations:index", {}),
    ("coalition_organizations:index", {"q": "widget"}),
    ("coalition_contacts:index", {}),
    ("coalition_memberships:index", {}),
    ("coalition_interactions:index", {}),
    ("coalition_coalitions:index", {}),
]


def listing_table(client, url_name: str, params: dict) -> str:
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<table class="listing')
    return html[start : html.index("</table>", start) + len("</table>")]


def as_wagtail_prints_it(monkeypatch) -> None:
    """Wagtail's own rendering: a template per cell, per button and per menu, and for the rows."""
    monkeypatch.setattr(PlainColumn, "render_cell_html", Column.render_cell_html)
    monkeypatch.setattr(PlainTitleColumn, "render_cell_html", TitleColumn.render_cell_html)
    monkeypatch.setattr(ListingTable, "template_name", Table.template_name)
    monkeypatch.setattr(ListingTable, "get_context_data", Table.get_context_data)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_client", "viewer_client"])
@pytest.mark.parametrize(("url_name", "params"), LISTINGS)
def test_it_prints_the_rows_as_wagtails_templates_do(
    request, monkeypatch, coalition, persona, url_name, params
):
    client = request.getfixturevalue(persona)
    make_members(3, coalition)
    # What a template escapes, an empty cell, a date, a number, a word for a yes.
    odd = OrganizationFactory(name='Widgets <b>&</b> "Gadgets" O\'Brien', acronym="", country="")
    ContactFactory(organization=odd, name="<i>Ann</i> & Co", title="", is_primary=True)
    MembershipFactory(organization=odd, coalition=coalition, joined_on=datetime.date(2024, 2, 29))
    InteractionFactory(organization=odd, summary="Said <yes> & more")

    ours = listing_table(client, url_name, params)
    as_wagtail_prints_it(monkeypatch)
    wagtails = listing_table(client, url_name, params)

    assert ours != wagtails  # two renderings, not one twice
    assert parse_html(ours) == parse_html(wagtails)
    assert ours.count("<tr") == wagtails.count("<tr") > 1


@pytest.mark.django_db
def test_each_row_offers_the_actions_the_user_may_take(client, manager, viewer, coalition):
    [org] = make_members(1, coalition)
    client.force_login(manager)
    table = listing_table(client, "coalition_organizations:index", {})
    for action in ("edit", "inspect", "delete"):
        assert reverse(f"coalition_organizations:{action}", args=[org.pk]) in table
    assert "More options for" in table

    client.force_login(viewer)
    table = listing_table(client, "coalition_organizations:index", {})
    assert reverse("coalition_organizations:inspect", args=[org.pk]) in table
    assert reverse("coalition_organizations:edit", args=[org.pk]) not in table
    assert reverse("coalition_organizations:delete", args=[org.pk]) not in table


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "coalition_organizations:index",
        "coalition_contacts:index",
        "coalition_memberships:index",
        "coalition_interactions:index",
    ],
)
def test_no_filter_lists_every_organization_or_contact(manager_client, coalition, url_name):
    # A select of every record would grow with the members file: 10,000 options on each page.
    orgs = make_members(3, coalition)
    html = manager_client.get(reverse(url_name)).content.decode()
    offered = {option.strip() for option in re.findall(r"<option[^>]*>([^<]*)<", html)}
    names = {org.name for org in orgs} | {c.name for org in orgs for c in org.contacts.all()}
    assert not offered & names
