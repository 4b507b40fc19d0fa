"""Staff of the coalition in its two roles, and the coalition they keep."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import CoalitionFactory, UserFactory


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
