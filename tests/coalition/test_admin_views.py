import pytest
from django.urls import reverse

from coalition.crm.models import Interaction
from tests.factories import (
    ContactFactory,
    InteractionFactory,
    OrganizationFactory,
    SignatureFactory,
    make_letter,
)
from tests.support.crm import make_members

LISTINGS = [
    "coalition_organizations:index",
    "coalition_contacts:index",
    "coalition_memberships:index",
    "coalition_interactions:index",
    "coalition_coalitions:index",
]


def names_in(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", LISTINGS)
def test_it_lists_each_kind_of_record(manager_client, coalition, url_name):
    make_members(2, coalition)
    response = manager_client.get(reverse(url_name))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["Makers Guild", "MKG", "Rosalind Franklin", "rosalind@guild.example"],
)
def test_it_searches_organizations_by_name_acronym_contact_name_and_email(manager_client, query):
    org = OrganizationFactory(name="Widget Makers Guild", acronym="MKG")
    ContactFactory(organization=org, name="Rosalind Franklin", email="rosalind@guild.example")
    OrganizationFactory(name="Unrelated Society", acronym="US1")
    response = manager_client.get(reverse("coalition_organizations:index"), {"q": query})
    html = names_in(response)
    assert "Widget Makers Guild" in html
    assert "Unrelated Society" not in html


@pytest.mark.django_db
def test_it_filters_organizations_by_coalition_tier_kind_country_tag_and_status(
    manager_client, coalition
):
    [match, other] = make_members(2, coalition)
    match.country, match.kind = "CA", "ngo"
    match.tags.add("privacy")
    match.save()
    match.memberships.update(tier="steering")
    url = reverse("coalition_organizations:index")
    filters = {
        "coalition": coalition.pk,
        "tier": "steering",
        "kind": "ngo",
        "country": "CA",
        "tag": "privacy",
        "status": "active",
    }
    for name, value in filters.items():
        html = names_in(manager_client.get(url, {name: value}))
        assert match.name in html, name
        if name != "coalition" and name != "status":
            assert other.name not in html, name


@pytest.mark.django_db
def test_it_shows_the_organization_timeline_newest_first(manager_client, coalition):
    [org] = make_members(1, coalition)
    org.interactions.all().delete()
    InteractionFactory(organization=org, occurred_on="2024-01-10", summary="An old call")
    InteractionFactory(organization=org, occurred_on="2025-03-01", summary="A recent meeting")
    signed = make_letter(title="Letter on widgets", slug="widgets")
    declined = make_letter(title="Letter on gadgets", slug="gadgets")
    SignatureFactory(organization=org, letter=signed)
    SignatureFactory(organization=org, letter=declined, response="declined", reason="Not our issue")

    html = names_in(manager_client.get(reverse("coalition_organizations:inspect", args=[org.pk])))

    assert "Signed “Letter on widgets”" in html
    assert "Declined “Letter on gadgets”" in html
    assert "Not our issue" in html
    assert html.index("A recent meeting") < html.index("An old call")
    assert html.index("Letter on gadgets") < html.index("A recent meeting")


@pytest.mark.django_db
def test_it_logs_an_interaction_from_the_organization_page(manager_client, manager, coalition):
    [org] = make_members(1, coalition)
    contact = org.contacts.first()
    page = reverse("coalition_organizations:inspect", args=[org.pk])
    assert 'id="log-interaction"' in names_in(manager_client.get(page))

    response = manager_client.post(
        reverse("coalition_organizations:log_interaction", args=[org.pk]),
        {"kind": "call", "summary": "Agreed to sign.", "contact": contact.pk},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == page
    logged = org.interactions.get(summary="Agreed to sign.")
    assert (logged.kind, logged.author, logged.contact) == ("call", manager, contact)
    assert "Agreed to sign." in names_in(response)


@pytest.mark.django_db
def test_it_refuses_an_interaction_without_a_summary(manager_client, coalition):
    [org] = make_members(1, coalition)
    before = Interaction.objects.count()
    response = manager_client.post(
        reverse("coalition_organizations:log_interaction", args=[org.pk]),
        {"kind": "call", "summary": ""},
        follow=True,
    )
    assert Interaction.objects.count() == before
    assert "Summary: This field is required." in names_in(response)


@pytest.mark.django_db
def test_it_refuses_a_contact_from_another_organization(manager_client, coalition):
    [org, other] = make_members(2, coalition)
    response = manager_client.post(
        reverse("coalition_organizations:log_interaction", args=[org.pk]),
        {"kind": "call", "summary": "Hello", "contact": other.contacts.first().pk},
        follow=True,
    )
    assert not org.interactions.filter(summary="Hello").exists()
    assert "Contact:" in names_in(response)


@pytest.mark.django_db
def test_it_edits_contacts_and_memberships_inline(manager_client, coalition):
    response = manager_client.get(reverse("coalition_organizations:add"))
    html = names_in(response)
    assert 'name="contacts-TOTAL_FORMS"' in html
    assert 'name="memberships-TOTAL_FORMS"' in html


@pytest.mark.django_db
def test_the_timeline_shows_invitations_in_a_fixed_number_of_queries(
    manager_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.signing import make_members as make_signatory_members
    from tests.support.signing import open_new_sign_on

    members = make_signatory_members(1)
    org = members.organizations[0]
    url = reverse("coalition_organizations:inspect", args=[org.pk])
    open_new_sign_on(members, revision=None)
    manager_client.get(url)
    with CaptureQueriesContext(connection) as one:
        html = names_in(manager_client.get(url))
    # One entry per person invited, with the address the link went to.
    assert "Invited Pat Signer 0 to sign “A joint letter on widgets”" in html
    assert "pat0@awm0.example.org" in html

    from tests.support.signing import approved_revision

    for i in range(3):
        open_new_sign_on(members, revision=approved_revision(slug=f"more-{i}", title=f"More {i}"))
    with django_assert_max_num_queries(len(one)):
        html = names_in(manager_client.get(url))
    assert html.count("Invited Pat Signer 0 to sign") == 4
