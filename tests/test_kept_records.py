"""Records that others name stay: a letter with a sign-on or a published version, an organization
with signatures. Deleting one says why it cannot go, at every door, and deletes nothing."""

from django.urls import reverse
from wagtail.models import Page

from coalition.crm.models import Organization
from letters.models import LetterPage
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.support.signing import make_members, open_new_sign_on


def test_a_letter_out_for_sign_on_is_not_deleted(staff_client, db) -> None:
    letter = open_new_sign_on(make_members()).letter
    url = reverse("wagtailadmin_pages:delete", args=[letter.pk])

    shown = staff_client.get(url, follow=True)
    posted = staff_client.post(url, follow=True)

    for response in (shown, posted):
        assert "cannot be deleted: it went out for sign-on or was published" in (
            response.content.decode()
        )
    assert LetterPage.objects.filter(pk=letter.pk).exists()


def test_a_published_letter_is_not_deleted_in_bulk_nor_with_its_archive(staff_client, db) -> None:
    letter = publish(make_letter(live=False))
    bulk = staff_client.post(f"/admin/bulk/wagtailcore/page/delete/?id={letter.pk}", follow=True)
    archive = letter.get_parent()
    whole = staff_client.post(reverse("wagtailadmin_pages:delete", args=[archive.pk]), follow=True)

    assert "cannot be deleted" in bulk.content.decode()
    assert "cannot be deleted" in whole.content.decode()
    assert Page.objects.filter(pk__in=[letter.pk, archive.pk]).count() == 2


def test_a_draft_letter_without_a_record_is_deleted(staff_client, db) -> None:
    letter = make_letter(live=False)
    response = staff_client.post(reverse("wagtailadmin_pages:delete", args=[letter.pk]))
    assert response.status_code == 302
    assert not LetterPage.objects.filter(pk=letter.pk).exists()


def test_an_organization_that_signed_says_why_it_stays(staff_client, db) -> None:
    organization = SignatureFactory(letter=make_letter()).organization
    url = reverse("coalition_organizations:delete", args=[organization.pk])

    shown = staff_client.get(url)
    posted = staff_client.post(url)

    assert "cannot be deleted: 1 signatures refer to it" in shown.content.decode()
    assert "Yes, delete" not in shown.content.decode()
    assert posted.status_code == 409
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_an_organization_nobody_names_is_deleted(staff_client, db) -> None:
    organization = OrganizationFactory()
    response = staff_client.post(reverse("coalition_organizations:delete", args=[organization.pk]))
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=organization.pk).exists()


def test_the_passkeys_page_opens(staff_client) -> None:
    # allauth's list of passkeys needs django.contrib.humanize's filters.
    assert staff_client.get(reverse("mfa_list_webauthn")).status_code == 200
