import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from wagtail.models import ModelLogEntry

from coalition.crm.models import Contact, Interaction, Membership, Organization
from coalition.crm.selectors import find_duplicate_organizations, organizations_named
from coalition.crm.services import MergeError, merge_organizations
from signatories import services
from signatories.inputs import OrganizationRequest
from signatories.models import Action, Event, Signature
from signatories.selectors import verify_event_chain
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
    SignatureFactory,
    make_letter,
)
from tests.support.crm import open_sign_on_for, sign
from tests.support.signing import SIGNER, STAFF_ACTOR


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
        MergeError,
        match="both organizations have an active response to “A joint letter on widgets”",
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


# Organizations with a sign-on history ------------------------------------------------------------


@pytest.mark.django_db
def test_merging_an_invited_organization_keeps_it_as_a_record_of_the_merge(pair, staff):
    survivor, duplicate = pair
    sign_on = open_sign_on_for(duplicate)
    signature = sign(sign_on.invitations.first())
    history = list(Event.objects.filter(organization=duplicate).values_list("pk", "hash"))
    # These append-only events made the merge fail with ProtectedError when it deleted the
    # duplicate: they can neither move nor go.
    assert history

    result = merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    assert result.kept
    tombstone = Organization.objects.get(pk=duplicate.pk)
    assert tombstone.status == Organization.Status.ARCHIVED
    assert tombstone.merged_into == survivor
    assert tombstone.name_key == f"merged:{duplicate.pk}"
    assert list(Event.objects.filter(organization=duplicate).values_list("pk", "hash")) == history
    assert set(sign_on.invitations.values_list("organization", flat=True)) == {survivor.pk}
    assert Signature.objects.get(pk=signature.pk).organization == survivor
    assert result.moved["invitations"] == 2
    assert result.moved["signatures"] == 1
    assert Contact.objects.filter(organization=survivor).count() == 3


@pytest.mark.django_db
def test_the_sign_on_records_each_moved_row_and_its_chain_still_verifies(pair, staff):
    survivor, duplicate = pair
    first = open_sign_on_for(duplicate, survivor, title="First letter")
    second = open_sign_on_for(duplicate, title="Second letter")
    sign(first.invitations.filter(organization=duplicate).first())
    imported = SignatureFactory(organization=duplicate, letter=make_letter(slug="imported"))

    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    for sign_on, rows in ((first, 3), (second, 2)):
        moves = Event.objects.filter(sign_on=sign_on, action=Action.ORGANIZATION_MERGED)
        assert moves.count() == rows  # one event per invitation or signature moved
        for event in moves:
            assert event.detail == {
                "from": duplicate.pk,
                "into": survivor.pk,
                "from_name": "Info Tech Industry Council",
            }
            assert (event.organization_id, event.user, event.actor) == (survivor.pk, staff, "staff")
        assert verify_event_chain(sign_on=sign_on) == []
    imported.refresh_from_db()
    assert imported.organization == survivor


@pytest.mark.django_db
def test_a_refused_merge_leaves_the_sign_on_untouched(pair, staff):
    survivor, duplicate = pair
    sign_on = open_sign_on_for(survivor, duplicate)
    sign(sign_on.invitations.filter(organization=survivor).first())
    sign(sign_on.invitations.filter(organization=duplicate).first())
    head = (sign_on.invitations.count(), Event.objects.filter(sign_on=sign_on).count())

    with pytest.raises(MergeError, match="active response to “A joint letter on widgets”"):
        merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    duplicate.refresh_from_db()
    assert duplicate.merged_into is None
    assert sign_on.invitations.filter(organization=duplicate).count() == 2
    assert (sign_on.invitations.count(), Event.objects.filter(sign_on=sign_on).count()) == head
    assert verify_event_chain(sign_on=sign_on) == []


@pytest.mark.django_db
def test_a_pending_request_merges_into_the_member_it_duplicates(pair, staff):
    survivor, _ = pair
    sign_on = open_sign_on_for(survivor)
    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    request = services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest(
            organization_name="I.T. Industry Council",
            acronym="ITI Council",
            display_name="ITI",
            signer_name="Sam Asker",
            signer_title="CEO",
            signer_email="sam@iti.example",
        ),
        text_hash=sign_on.text_hash,
        actor=SIGNER,
    )
    pending = request.organization
    assert pending.status == Organization.Status.PENDING

    merge_organizations(survivor=survivor, duplicate=pending, user=staff)

    request.refresh_from_db()
    assert request.organization == survivor
    assert Organization.objects.get(pk=pending.pk).merged_into == survivor
    assert verify_event_chain(sign_on=sign_on) == []


@pytest.mark.django_db
def test_an_organization_without_history_is_deleted_as_before(pair, staff):
    survivor, duplicate = pair
    result = merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)
    assert not result.kept
    assert not Organization.objects.filter(pk=duplicate.pk).exists()


@pytest.mark.django_db
def test_a_merged_record_cannot_be_merged_again(pair, staff):
    survivor, duplicate = pair
    open_sign_on_for(duplicate)
    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)
    other = OrganizationFactory(name="Another Council")

    for pair_ in ((other, duplicate), (duplicate, other)):
        with pytest.raises(MergeError, match="already merged into another organization"):
            merge_organizations(survivor=pair_[0], duplicate=pair_[1], user=staff)


@pytest.mark.django_db
def test_records_merged_earlier_follow_a_later_merge(pair, staff):
    survivor, duplicate = pair
    open_sign_on_for(duplicate)
    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)
    final = OrganizationFactory(name="Tech Industry Council")
    open_sign_on_for(survivor, title="Later letter")

    merge_organizations(survivor=final, duplicate=survivor, user=staff)

    assert set(final.merged_organizations.values_list("pk", flat=True)) == {
        survivor.pk,
        duplicate.pk,
    }


@pytest.mark.django_db
def test_a_merged_record_is_history_only(pair, staff):
    survivor, duplicate = pair
    open_sign_on_for(duplicate)
    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    # It matches nothing any more: its acronym is not looked up, its website leads to the survivor.
    assert not organizations_named(names=["Info Tech Industry Council"], acronyms=["ITIC"])
    assert find_duplicate_organizations(
        name="Info Tech Industry Council", acronym="ITIC", website="https://itic.example"
    ) == [(survivor, "same website")]
    # Its name is free for a newcomer.
    newcomer = OrganizationFactory(name="Info Tech Industry Council", acronym="")
    assert newcomer.name_key == "infotechindustrycouncil"


@pytest.mark.django_db
def test_staff_merge_an_invited_organization_from_its_page(manager_client, pair):
    survivor, duplicate = pair
    open_sign_on_for(duplicate)
    url = reverse("coalition_organizations:merge", args=[survivor.pk])

    response = manager_client.post(url, {"duplicate": duplicate.pk}, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Info Tech Industry Council is kept, archived, as a record of the merge" in html
    assert "Merged Info Tech Industry Council into this organization" in html
    assert "kept as a record of the merge" in html.split('id="org-timeline"')[1]
    # The record itself says where it went, and offers no edit or merge.
    page = reverse("coalition_organizations:inspect", args=[duplicate.pk])
    html = manager_client.get(page).content.decode()
    assert "Merged into" in html
    assert reverse("coalition_organizations:inspect", args=[survivor.pk]) in html
    assert reverse("coalition_organizations:edit", args=[duplicate.pk]) not in html
    edit = manager_client.get(reverse("coalition_organizations:edit", args=[duplicate.pk]))
    assert edit.status_code == 404
    merge = manager_client.get(reverse("coalition_organizations:merge", args=[duplicate.pk]))
    assert merge.status_code == 404


@pytest.mark.django_db
def test_a_member_merged_into_its_pending_request_stays_a_member(pair, staff):
    survivor, duplicate = pair
    Organization.objects.filter(pk=survivor.pk).update(status=Organization.Status.PENDING)

    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)

    survivor.refresh_from_db()
    assert survivor.status == Organization.Status.ACTIVE


# The two records side by side, before the merge --------------------------------------------------


def _rows(preview) -> dict:
    return {
        **{f.label: (f.survivor, f.duplicate, f.after, f.source) for f in preview.fields},
        **{r.label: (r.survivor, r.duplicate, r.after, r.note) for r in preview.relations},
    }


@pytest.mark.django_db
def test_the_merge_page_shows_both_records_side_by_side_before_it_merges(manager_client, pair):
    survivor, duplicate = pair
    SignatureFactory(organization=duplicate, letter=make_letter())
    url = reverse("coalition_organizations:merge", args=[survivor.pk])

    response = manager_client.get(url, {"duplicate": duplicate.pk})

    rows = _rows(response.context["preview"])
    assert rows["Name"] == (
        "Information Technology Industry Council",
        "Info Tech Industry Council",
        "Information Technology Industry Council",
        "survivor",
    )
    assert rows["Acronym"] == ("ITI", "ITIC", "ITI", "survivor")
    assert rows["Website"] == ("", "https://itic.example", "https://itic.example", "duplicate")
    assert rows["Prints on letters as"][2] == "Information Technology Industry Council (ITI)"
    assert rows["Tags"] == ("", "ai", "ai", "duplicate")
    assert rows["Kind"][3] == "same"
    assert rows["Contacts"] == (1, 2, 3, "")
    assert rows["Memberships"] == (
        1,
        2,
        2,
        "1 of the same coalition combined into one, with the higher tier and the earlier date "
        "joined",
    )
    assert rows["Interactions"] == (0, 1, 1, "")
    assert rows["Signatures"] == (0, 1, 1, "")
    html = response.content.decode()
    assert "side by side" in html
    assert "taken from Info Tech Industry Council" in html
    assert "kept; the other is dropped" in html
    assert "kept; the other address leads here" in html
    assert "Info Tech Industry Council is then deleted." in html
    assert f'<input type="hidden" name="duplicate" value="{duplicate.pk}">' in html
    # The other way round is one link away.
    swap = reverse("coalition_organizations:merge", args=[duplicate.pk])
    assert f"{swap}?duplicate={survivor.pk}" in html
    # Looking merges nothing.
    assert Organization.objects.filter(pk=duplicate.pk, merged_into=None).exists()
    assert duplicate.contacts.count() == 2


@pytest.mark.django_db
def test_the_merge_does_what_its_page_showed(manager_client, pair):
    survivor, duplicate = pair
    SignatureFactory(organization=duplicate, letter=make_letter())
    url = reverse("coalition_organizations:merge", args=[survivor.pk])
    preview = manager_client.get(url, {"duplicate": duplicate.pk}).context["preview"]

    manager_client.post(url, {"duplicate": duplicate.pk})

    survivor = Organization.objects.get(pk=survivor.pk)
    after = {field.label: field.after for field in preview.fields}
    assert after["Name"] == survivor.name
    assert after["Acronym"] == survivor.acronym
    assert after["Website"] == survivor.website
    assert after["Status"] == survivor.get_status_display()
    assert after["Prints on letters as"] == survivor.printed_name
    assert after["Tags"] == ", ".join(sorted(t.name for t in survivor.tags.all()))
    counts = {relation.label: relation.after for relation in preview.relations}
    assert counts == {
        "Contacts": survivor.contacts.count(),
        "Memberships": survivor.memberships.count(),
        "Interactions": survivor.interactions.count(),
        "Signatures": Signature.objects.filter(organization=survivor).count(),
    }


@pytest.mark.django_db
def test_the_merge_page_says_when_history_keeps_the_duplicate(manager_client, pair):
    survivor, duplicate = pair
    open_sign_on_for(duplicate)
    url = reverse("coalition_organizations:merge", args=[survivor.pk])

    response = manager_client.get(url, {"duplicate": duplicate.pk})

    preview = response.context["preview"]
    assert preview.kept_because.endswith("events")
    assert _rows(preview)["Invitations"] == (0, 2, 2, "")
    assert "Info Tech Industry Council is then kept, archived" in response.content.decode()


@pytest.mark.django_db
def test_a_refused_merge_shows_the_two_records_again(manager_client, pair):
    survivor, duplicate = pair
    letter = make_letter()
    SignatureFactory(organization=survivor, letter=letter)
    SignatureFactory(organization=duplicate, letter=letter)
    url = reverse("coalition_organizations:merge", args=[survivor.pk])

    response = manager_client.post(url, {"duplicate": duplicate.pk})

    assert "both organizations have an active response" in response.content.decode()
    assert _rows(response.context["preview"])["Signatures"] == (1, 1, 2, "")


@pytest.mark.django_db
def test_the_merge_page_offers_no_comparison_with_a_merged_record(manager_client, pair, staff):
    survivor, duplicate = pair
    other = OrganizationFactory(name="Information Tech Industry Council", acronym="")
    merge_organizations(survivor=other, duplicate=duplicate, user=staff)
    url = reverse("coalition_organizations:merge", args=[survivor.pk])
    response = manager_client.get(url, {"duplicate": duplicate.pk})
    assert response.status_code == 200
    assert response.context["preview"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", ["²", "x", "", "\x00", "9" * 30])
def test_the_merge_page_ignores_a_duplicate_that_is_no_id(manager_client, pair, chosen):
    survivor, _ = pair
    url = reverse("coalition_organizations:merge", args=[survivor.pk])
    response = manager_client.get(url, {"duplicate": chosen})
    assert response.status_code == 200
    assert response.context["preview"] is None
