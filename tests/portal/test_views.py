"""The portal's pages: an organization's open requests, its answers, its published letters and its
profile, shown only to its own contacts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from signatories import selectors
from tests.factories import ContactFactory, SignatureFactory, UserFactory, make_letter, publish
from tests.support.portal import log_in
from tests.support.signing import (
    approved_revision,
    decline,
    open_new_sign_on,
    sign,
    token_for,
    withdraw,
)

pytestmark = pytest.mark.django_db

PORTAL_URLS = ["portal:organization", "portal:profile"]


def page_of(client, contact) -> str:
    response = client.get(reverse("portal:organization", args=[contact.organization.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_portal_opens_on_the_contacts_organization(contact_client, contact):
    response = contact_client.get("/portal/")

    assert response.status_code == 302
    assert response["Location"] == f"/portal/{contact.organization.slug}/"


def test_open_requests_show_the_deadline_and_the_persons_own_link(contact_client, contact, members):
    sign_on = open_new_sign_on(members)
    invitation = sign_on.invitations.get(contact=contact)

    page = page_of(contact_client, contact)

    assert "A joint letter on widgets" in page
    assert selectors.deadline_words(sign_on) in page
    assert f'href="/sign/{token_for(invitation)}/"' in page
    assert "Invited, not opened" in page  # the tracker's words for the state
    # The link opens the sign page, as the emailed one does.
    assert contact_client.get(f"/sign/{token_for(invitation)}/").status_code == 200


def test_a_colleague_who_was_not_invited_sees_who_was_and_no_link(client, members):
    sign_on = open_new_sign_on(members)
    colleague = ContactFactory(organization=members.organizations[0], name="Robin Colleague")
    log_in(client, colleague)

    page = page_of(client, colleague)

    assert "A joint letter on widgets" in page
    assert "The request went to Pat Signer 0" in page
    assert "/sign/" not in page
    assert sign_on.invitations.filter(contact=colleague).count() == 0


def test_the_history_shows_what_it_signed_declined_and_withdrew_and_when(
    contact_client, contact, members
):
    first = open_new_sign_on(members)
    signature = sign(first.invitations.get(contact=contact))
    withdraw(signature)
    second = open_new_sign_on(members, revision=approved_revision(slug="second", title="Second"))
    decline(second.invitations.get(contact=contact), reason="Not our issue.")

    page = page_of(contact_client, contact)

    history = page[page.index('id="history-heading"') : page.index('id="published-heading"')]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", history, re.S)
    assert rows == [
        ("Second", "Declined: Not our issue."),
        ("A joint letter on widgets", "Withdrawn"),
    ]
    signature.refresh_from_db()
    signed_on = date_format(timezone.localtime(signature.created_at), "j F Y")
    withdrawn_on = date_format(timezone.localtime(signature.withdrawn_at), "j F Y")
    assert re.search(rf">{signed_on}</time>; withdrawn <time [^>]*>{withdrawn_on}<", history)
    # Each answer with its event in the record and the head after it, as the signer's email gave.
    for sign_on in (first, second):
        answer = sign_on.events.filter(signature__isnull=False).order_by("sequence").first()
        assert f'event {answer.sequence}, then <code class="chain-head">{answer.hash}</code>' in (
            history
        )


def test_the_published_letters_it_is_on_link_to_their_public_pages(
    contact_client, contact, members
):
    on_it = make_letter(live=False, slug="on-it", title="A letter it signed")
    SignatureFactory(letter=on_it, organization=contact.organization)
    publish(on_it)
    not_on_it = make_letter(live=False, slug="not-on-it", title="A letter others signed")
    SignatureFactory(letter=not_on_it, organization=members.organizations[1])
    publish(not_on_it)

    page = page_of(contact_client, contact)

    assert '<a href="/letters/on-it/">A letter it signed</a>' in page
    assert "A letter others signed" not in page


def test_the_profile_shows_as_it_prints(contact_client, contact, logo):
    organization = contact.organization
    organization.display = "AWM | Widget Makers Zero"
    organization.website = "https://awm0.example.org"
    organization.logo = logo
    organization.save()

    page = page_of(contact_client, contact)

    assert "AWM | Widget Makers Zero" in page
    assert '<a href="https://awm0.example.org">' in page
    assert f'<img class="letterhead-logo" src="{logo.file.url}" alt="{organization.name}">' in page


def test_the_organization_page_reads_the_same_number_of_queries_however_much_it_shows(
    contact_client, contact, members
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page_of(contact_client, contact)
        # The session is read from the database once publishing has emptied the cache.
        return sum(1 for query in captured if "django_session" not in query["sql"])

    first = open_new_sign_on(members)
    sign(first.invitations.get(contact=contact))
    letter = make_letter(live=False, slug="published")
    SignatureFactory(letter=letter, organization=contact.organization)
    publish(letter)
    page_of(contact_client, contact)  # caches that fill once per process (content types)
    fewer = queries()
    for n in range(3):
        sign_on = open_new_sign_on(
            members, revision=approved_revision(slug=f"more-{n}", title=f"More {n}")
        )
        decline(sign_on.invitations.get(contact=contact))
        letter = make_letter(live=False, slug=f"published-{n}")
        SignatureFactory(letter=letter, organization=contact.organization)
        publish(letter)

    assert queries() == fewer
    # Two of them the header's (whether this person may open the admin), one the answers' events,
    # two the deliveries and published answers of the letters it signed, one the drafts shared.
    assert fewer <= 16


@pytest.mark.parametrize("name", PORTAL_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organizations_contact_gets_404_on_every_portal_url(
    client, contact, other_contact, name, method
):
    log_in(client, other_contact)

    response = getattr(client, method)(reverse(name, args=[contact.organization.slug]))

    assert response.status_code == 404
    assert contact.organization.name not in response.content.decode()


@pytest.mark.parametrize("url", ["/portal/", *PORTAL_URLS])
def test_anonymous_visitors_are_sent_to_sign_in_from_every_portal_url(client, contact, url):
    path = url if url.startswith("/") else reverse(url, args=[contact.organization.slug])

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("name", PORTAL_URLS)
def test_a_signed_in_user_who_is_no_contact_sees_no_organization(client, contact, name):
    client.force_login(UserFactory())

    assert client.get(reverse(name, args=[contact.organization.slug])).status_code == 404
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "not on file as a contact" in response.content.decode()


def test_a_contact_of_an_organization_archived_since_sees_it_no_more(contact_client, contact):
    organization = contact.organization
    organization.status = organization.Status.ARCHIVED
    organization.save()

    assert (
        contact_client.get(reverse("portal:organization", args=[organization.slug])).status_code
        == 404
    )
    assert contact_client.get("/portal/").status_code == 403


@pytest.fixture
def logo(db):
    import io

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    from tests.support.portal import png

    return get_image_model().objects.create(
        title="AWM logo", file=ImageFile(io.BytesIO(png()), name="awm.png")
    )


def test_a_draft_shared_with_the_person_opens_from_the_portal_at_their_own_link(
    contact_client, contact, members, client
):
    from letters.services import approve_for_circulation
    from signatories import services
    from signatories.models import DraftShare
    from tests.support.signing import STAFF_ACTOR

    letter = make_letter(live=False, slug="draft-for-comment", title="Draft for comment")
    other = make_letter(live=False, slug="someone-elses", title="Shared with someone else")
    services.share_draft(letter=letter, contacts=[contact], actor=STAFF_ACTOR)
    colleague = next(c for c in members.contacts if c.pk != contact.pk)
    services.share_draft(letter=other, contacts=[colleague], actor=STAFF_ACTOR)
    share = DraftShare.objects.get(contact=contact)
    link = reverse("signatories:draft", args=[selectors.draft_link_token(share)])

    page = page_of(contact_client, contact)
    assert "Drafts shared with you" in page
    assert "Draft for comment" in page
    assert f'href="{link}"' in page
    assert "Shared with someone else" not in page
    # The link is the one the email gave: it opens the draft to comment on.
    assert "We write about widgets." in client.get(link).content.decode()
    # Approved for circulation since: its comments are closed, and the portal says so.
    approve_for_circulation(revision=letter.latest_revision, user=None)
    assert "Comments closed: the text was approved for circulation" in page_of(
        contact_client, contact
    )
    # Revoked by staff: gone from the portal.
    DraftShare.objects.filter(pk=share.pk).update(revoked_at=timezone.now())
    assert "Drafts shared with you" not in page_of(contact_client, contact)
