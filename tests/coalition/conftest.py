import pytest
from django.contrib.auth.models import Group

from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.fixture
def manager(db):
    user = UserFactory(username="manager", email="manager@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Coalition managers"))
    return user


@pytest.fixture
def viewer(db):
    user = UserFactory(username="viewer", email="viewer@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Coalition viewers"))
    return user


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def coalition(db):
    return CoalitionFactory(name="Digital Trade Coalition", slug="digital-trade")


def make_members(count: int, coalition, *, tag: str = "tech") -> list:
    """`count` organizations, each with two contacts, a membership, a tag and an interaction."""
    orgs = []
    for _ in range(count):
        org = OrganizationFactory(country="US", website="")
        org.tags.add(tag)
        org.save()
        ContactFactory.create_batch(2, organization=org)
        MembershipFactory(organization=org, coalition=coalition)
        InteractionFactory(organization=org)
        orgs.append(org)
    return orgs
