import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from wagtail.models import ModelLogEntry

from coalition.models import Contact, Interaction, Membership, Organization
from coalition.services import MergeError, merge_organizations
from signatories.models import Signature
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
    SignatureFactory,
    make_letter,
)


@pytest.fixture
def pair(db, coalition):
    survivor = OrganizationFactory(name="Information Technology Industry Council", acronym="ITI")
    duplicate = OrganizationFactory(
        name="Info Tech Industry Council", acronym="ITIC", website="https://itic.example"
    )
    MembershipFactory(organization=survivor, coalition=coalition, tier="member")
    MembershipFactory(organization=duplicate, coalition=coalition, tier="steering")
    MembershipFactory(
        organization=duplicate, coalition=CoalitionFactory(name="AI Group"), tier="observer"
    )
    ContactFactory(organization=survivor, email="a@iti.example")
    ContactFactory.create_batch(2, organization=duplicate)
    InteractionFactory(organization=duplicate, summary="Old call")
    duplicate.tags.add("ai")
    duplicate.save()
    return survivor, duplicate


@pytest.mark.django_db
def test_it_moves_everything_to_the_survivor_and_records_it(pair, staff):
    survivor, duplicate = pair
    letter = make_letter()
    SignatureFactory(organization=duplicate, letter=letter)

    result = merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    assert not Organization.objects.filter(pk=duplicate.pk).exists()
    assert Contact.objects.filter(organization=survivor).count() == 3
    assert Interaction.objects.get(summary="Old call").organization == survivor
    assert Signature.objects.get(letter=letter).organization == survivor
    assert [t.name for t in survivor.tags.all()] == ["ai"]
    tiers = dict(
        Membership.objects.filter(organization=survivor).values_list("coalition__name", "tier")
    )
    assert tiers == {"Digital Trade Coalition": "steering", "AI Group": "observer"}
    survivor.refresh_from_db()
    assert survivor.website == "https://itic.example"  # filled from the duplicate
    entry = ModelLogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Organization),
        object_id=str(survivor.pk),
        action="coalition.merge_organizations",
    )
    assert entry.user == staff
    assert entry.data["merged"] == "Info Tech Industry Council"
    assert result.moved["contacts"] == 2


@pytest.mark.django_db
def test_it_changes_nothing_when_both_signed_the_same_letter(pair, staff):
    survivor, duplicate = pair
    letter = make_letter()
    SignatureFactory(organization=survivor, letter=letter)
    SignatureFactory(organization=duplicate, letter=letter)

    with pytest.raises(
        MergeError, match="both organizations have a signature with the same letter"
    ):
        merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    assert Organization.objects.filter(pk=duplicate.pk).exists()
    assert duplicate.contacts.count() == 2
    assert duplicate.memberships.count() == 2
    assert Signature.objects.filter(organization=duplicate).count() == 1


@pytest.mark.django_db
def test_a_withdrawn_signature_does_not_block_the_merge(pair, staff):
    survivor, duplicate = pair
    letter = make_letter()
    SignatureFactory(organization=survivor, letter=letter)
    SignatureFactory(organization=duplicate, letter=letter, status="withdrawn")
    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)
    assert Signature.objects.filter(organization=survivor).count() == 2


@pytest.mark.django_db
def test_it_refuses_to_merge_an_organization_into_itself(pair, staff):
    survivor, _ = pair
    with pytest.raises(MergeError, match="two different organizations"):
        merge_organizations(survivor=survivor, duplicate=survivor, user=staff)


@pytest.mark.django_db
def test_staff_merge_from_the_organization_page(manager_client, pair):
    survivor, duplicate = pair
    url = reverse("coalition_organizations:merge", args=[survivor.pk])
    html = manager_client.get(url, {"q": "Info Tech"}).content.decode()
    assert "Info Tech Industry Council" in html

    response = manager_client.post(url, {"duplicate": duplicate.pk}, follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "coalition_organizations:inspect", args=[survivor.pk]
    )
    assert "Merged Info Tech Industry Council into" in response.content.decode()
    assert "Merged Info Tech Industry Council into this organization" in response.content.decode()
    assert not Organization.objects.filter(pk=duplicate.pk).exists()


@pytest.mark.django_db
def test_a_refused_merge_shows_why(manager_client, pair):
    survivor, duplicate = pair
    letter = make_letter()
    SignatureFactory(organization=survivor, letter=letter)
    SignatureFactory(organization=duplicate, letter=letter)
    response = manager_client.post(
        reverse("coalition_organizations:merge", args=[survivor.pk]), {"duplicate": duplicate.pk}
    )
    assert "Cannot merge" in response.content.decode()
    assert Organization.objects.filter(pk=duplicate.pk).exists()
