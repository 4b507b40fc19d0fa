"""Every listing, search and organization page costs the same number of queries at any size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import SignatureFactory, make_letter
from tests.support.crm import make_members

PAGES = {
    "organizations": ("coalition_organizations:index", {}),
    "organizations search": ("coalition_organizations:index", {"q": "widget"}),
    "organizations search by contact": ("coalition_organizations:index", {"q": "members.example"}),
    "organizations filtered": (
        "coalition_organizations:index",
        {"tier": "member", "tag": "tech", "country": "US", "kind": "trade_association"},
    ),
    "organizations by contacts": ("coalition_organizations:index", {"ordering": "-contact_count"}),
    "organizations csv": ("coalition_organizations:index", {"export": "csv"}),
    "organizations xlsx": ("coalition_organizations:index", {"export": "xlsx"}),
    "contacts": ("coalition_contacts:index", {}),
    "contacts search": ("coalition_contacts:index", {"q": "example"}),
    "contacts search by organization": ("coalition_contacts:index", {"q": "widget"}),
    "contacts filtered": ("coalition_contacts:index", {"is_authorized_signer": "false"}),
    "contacts csv": ("coalition_contacts:index", {"export": "csv"}),
    "memberships": ("coalition_memberships:index", {}),
    "memberships search": ("coalition_memberships:index", {"q": "widget"}),
    "interactions": ("coalition_interactions:index", {}),
    "interactions search": ("coalition_interactions:index", {"q": "spring"}),
    "coalitions": ("coalition_coalitions:index", {}),
}


def count_queries(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("listing", PAGES)
def test_it_answers_in_the_same_number_of_queries_with_more_rows(
    manager_client, coalition, listing, django_assert_max_num_queries
):
    url_name, params = PAGES[listing]
    url = reverse(url_name)
    make_members(2, coalition)
    manager_client.get(url, params)  # warm caches (content types, permissions, site)
    few = count_queries(manager_client, url, params)

    make_members(12, coalition, tag="tech")
    with django_assert_max_num_queries(few):
        many = count_queries(manager_client, url, params)
    assert many == few


@pytest.mark.django_db
def test_the_organization_page_costs_the_same_with_a_long_history(
    manager_client, coalition, django_assert_max_num_queries
):
    [org] = make_members(1, coalition)
    url = reverse("coalition_organizations:inspect", args=[org.pk])
    manager_client.get(url)
    few = count_queries(manager_client, url, {})

    org.tags.add("ai", "trade")
    org.save()
    for i in range(5):
        letter = make_letter(title=f"Letter {i}", slug=f"letter-{i}")
        SignatureFactory(
            organization=org, letter=letter, response="declined" if i % 2 else "signed"
        )
    from tests.factories import ContactFactory, InteractionFactory

    ContactFactory.create_batch(5, organization=org)
    InteractionFactory.create_batch(8, organization=org)
    with django_assert_max_num_queries(few):
        many = count_queries(manager_client, url, {})
    assert many == few
