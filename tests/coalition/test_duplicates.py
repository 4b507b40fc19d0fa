import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset

from coalition.crm.models import Contact, Organization
from coalition.crm.selectors import find_duplicate_organizations
from tests.factories import ContactFactory, OrganizationFactory
from tests.support.crm import organization_post


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "the  App-Association!"}, "same name"),
        ({"name": "Something Else", "acronym": "act"}, "same acronym"),
        ({"name": "Something Else", "website": "http://www.actonline.example/"}, "same website"),
        ({"name": "ACT"}, "acronym matches the name"),
    ],
)
def test_it_finds_likely_duplicates(fields, reason):
    existing = OrganizationFactory(
        name="The App Association", acronym="ACT", website="https://actonline.example"
    )
    assert find_duplicate_organizations(**fields) == [(existing, reason)]


@pytest.mark.django_db
def test_creating_an_organization_with_an_existing_name_offers_the_existing_one(manager_client):
    existing = OrganizationFactory(name="The App Association", acronym="ACT")
    response = manager_client.post(
        reverse("coalition_organizations:add"), organization_post(name="App association")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "An organization with this name already exists" in html
    assert reverse("coalition_organizations:inspect", args=[existing.pk]) in html
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_a_matching_acronym_warns_until_confirmed(manager_client):
    OrganizationFactory(name="The App Association", acronym="ACT")
    url = reverse("coalition_organizations:add")
    response = manager_client.post(
        url, organization_post(name="American Council of Trade", acronym="ACT")
    )
    assert "This looks like an organization we already have" in response.content.decode()
    assert Organization.objects.count() == 1

    response = manager_client.post(
        url,
        organization_post(name="American Council of Trade", acronym="ACT", not_a_duplicate="on"),
    )
    assert response.status_code == 302
    assert Organization.objects.count() == 2


@pytest.mark.django_db
def test_it_saves_contacts_and_memberships_inline(manager_client, coalition):
    response = manager_client.post(
        reverse("coalition_organizations:add"),
        organization_post(
            name="Widget Guild",
            contacts=inline_formset(
                [
                    {
                        "name": "Ann Lee",
                        "email": "ann@guild.example",
                        "title": "",
                        "phone": "",
                        "is_authorized_signer": "on",
                    }
                ]
            ),
            memberships=inline_formset(
                [
                    {
                        "coalition": coalition.pk,
                        "tier": "steering",
                        "joined_on": "2024-01-01",
                        "left_on": "",
                    }
                ]
            ),
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    org = Organization.objects.get(name="Widget Guild")
    assert org.contacts.get().is_authorized_signer
    assert org.memberships.get().tier == "steering"


@pytest.mark.django_db
def test_inline_contacts_with_a_taken_or_repeated_email_are_refused(manager_client, coalition):
    ContactFactory(email="taken@example.org")
    response = manager_client.post(
        reverse("coalition_organizations:add"),
        organization_post(
            name="Widget Guild",
            contacts=inline_formset(
                [
                    {"name": "A", "email": "TAKEN@example.org", "title": "", "phone": ""},
                    {"name": "B", "email": "b@guild.example", "title": "", "phone": ""},
                    {"name": "C", "email": "B@guild.example", "title": "", "phone": ""},
                ]
            ),
        ),
    )
    html = response.content.decode()
    assert "already uses this email address" in html
    assert "Contact 2 already has this email address." in html
    assert not Organization.objects.filter(name="Widget Guild").exists()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_two_active_memberships_of_one_coalition_are_refused(manager_client, coalition):
    membership = {
        "coalition": coalition.pk,
        "tier": "member",
        "joined_on": "2024-01-01",
        "left_on": "",
    }
    response = manager_client.post(
        reverse("coalition_organizations:add"),
        organization_post(
            name="Widget Guild", memberships=inline_formset([membership, membership])
        ),
    )
    assert "is already an active membership of" in response.content.decode()
    assert not Organization.objects.filter(name="Widget Guild").exists()


@pytest.mark.django_db
def test_the_contact_editor_refuses_a_taken_email(manager_client):
    ContactFactory(email="taken@example.org", name="Ann")
    org = OrganizationFactory()
    response = manager_client.post(
        reverse("coalition_contacts:add"),
        {
            "organization": org.pk,
            "name": "Bo",
            "email": "Taken@Example.org",
            "title": "",
            "phone": "",
        },
    )
    assert "Ann at" in response.content.decode()
    assert Contact.objects.count() == 1
