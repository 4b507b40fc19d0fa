import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.text import slugify

from letters.services import approve_for_circulation
from signatories import services
from signatories.inputs import Signing
from signatories.services import Actor
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    make_letter,
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


STAFF_ACTOR = Actor.system("staff@example.org")
SIGNER = Actor(label="signer", ip_address="203.0.113.77", user_agent="Test/1.0")


def open_sign_on_for(*organizations, title: str = "A joint letter on widgets", slug: str = ""):
    """An open sign-on of a new letter, inviting these organizations' contacts (events and all)."""
    letter = make_letter(live=False, title=title, slug=slug or slugify(title))
    approve_for_circulation(revision=letter.latest_revision, user=None)
    sign_on = services.create_sign_on(
        revision=letter.latest_revision,
        deadline=timezone.now() + datetime.timedelta(days=3),
        organizations=organizations,
        actor=STAFF_ACTOR,
    )
    return services.open_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)


def sign(invitation, **signing):
    """Sign through the sign-on's service as the invited person."""
    fields = {"display_name": invitation.organization.printed_name, "signer_name": invitation.name}
    return services.sign_letter(
        invitation=invitation,
        signing=Signing(**{**fields, **signing}),
        text_hash=invitation.sign_on.text_hash,
        actor=SIGNER,
    )
