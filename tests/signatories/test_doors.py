"""One way to go live: a letter out for sign-on goes public only through its sign-on's publication.

Wagtail has doors of its own (the editor's Publish, scheduled publishing, bulk actions, the
actions layer that the API and code call); each must refuse such a letter. A letter without a
sign-on may use them, and is then recorded like any publication: a frozen list, a PDF, its SHA-256.
"""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.actions.publish_page_revision import (
    PublishPagePermissionError,
    PublishPageRevisionAction,
)
from wagtail.models import Revision

from letters.models import LetterPage, Publication
from letters.publishing import PublicationRefused
from letters.services import approve_for_circulation
from signatories import services
from signatories.interchange import import_letter
from signatories.models import Action, SignOn
from tests.factories import SignatureFactory, make_letter
from tests.support.letters import edit_form_data
from tests.support.signing import STAFF_ACTOR, open_new_sign_on, sign

OUT_FOR_SIGN_ON = "is out for sign-on"


def editor_url(letter: LetterPage) -> str:
    return reverse("wagtailadmin_pages:edit", args=[letter.pk])


def tracker_url(sign_on: SignOn) -> str:
    return reverse("signatories_admin:tracker", args=[sign_on.pk])


def bulk_publish_url(letter: LetterPage) -> str:
    return f"/admin/bulk/wagtailcore/page/publish/?id={letter.pk}"


def in_state(sign_on: SignOn, state: str) -> SignOn:
    """The sign-on moved to `state` through its services ("open" as it comes)."""
    if state in ("closed", "published"):
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    if state == "published":
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    assert sign_on.status == state
    return sign_on


def as_it_was(letter: LetterPage) -> tuple:
    """What a refused door must leave as it was: live or not, at which revision, publications."""
    letter = LetterPage.objects.get(pk=letter.pk)
    return letter.live, letter.live_revision_id, Publication.objects.filter(letter=letter).count()


# A letter out for sign-on --------------------------------------------------------------------


@pytest.mark.parametrize("state", ["open", "closed", "published"])
def test_the_editors_publish_does_not_put_a_letter_out_for_sign_on_live(
    state, staff_client, sign_on, invitations
):
    """Finding 1: the editor's Publish made a letter out for sign-on live with no signatories."""
    sign(invitations[0])
    in_state(sign_on, state)
    letter = sign_on.letter
    before = as_it_was(letter)

    response = staff_client.post(
        editor_url(letter),
        edit_form_data(letter, letter_date="", **{"action-publish": "action-publish"}),
    )

    assert response.status_code in (200, 302)
    assert as_it_was(letter) == before
    assert before[0] is (state == "published")
    if state == "published":
        assert before[1] == sign_on.revision_id
    sign_on.refresh_from_db()
    assert sign_on.status == state


def test_the_editor_offers_no_publish_and_says_where_to_publish(staff, staff_client, sign_on):
    """Finding 1: the editor offered Publish for a letter out for sign-on."""
    letter = sign_on.letter
    assert LetterPage.objects.get(pk=letter.pk).permissions_for_user(staff).can_publish() is False

    page = staff_client.get(editor_url(letter))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="action-publish"' not in html
    assert f'href="{tracker_url(sign_on)}"' in html
    assert "Go to the sign-on&#x27;s tracker" in html
    assert OUT_FOR_SIGN_ON in html
    # Once the sign-on is cancelled, nothing of it will be published: the editor's Publish is back.
    services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    assert LetterPage.objects.get(pk=letter.pk).permissions_for_user(staff).can_publish()
    assert 'name="action-publish"' in staff_client.get(editor_url(letter)).content.decode()


def test_bulk_publish_leaves_a_letter_out_for_sign_on_unpublished(staff_client, sign_on):
    """Finding 1: bulk actions were a door around the sign-on."""
    letter = sign_on.letter
    before = as_it_was(letter)

    page = staff_client.get(bulk_publish_url(letter))

    assert page.status_code == 200
    html = page.content.decode()
    assert "have permission to publish this page" in html
    assert "Yes, publish" not in html

    response = staff_client.post(bulk_publish_url(letter), {"include_descendants": "on"})

    assert response.status_code in (200, 302)
    assert as_it_was(letter) == before


def test_publishing_the_revision_from_code_is_refused_with_the_way_to_publish(staff, sign_on):
    """Finding 1: Revision.publish and the actions layer (the API's path) went around the sign-on."""
    letter = LetterPage.objects.get(pk=sign_on.letter_id)
    revision = letter.get_latest_revision()
    before = as_it_was(letter)

    with pytest.raises((PublicationRefused, PublishPagePermissionError)):
        revision.publish(user=staff)
    with pytest.raises((PublicationRefused, PublishPagePermissionError)):
        PublishPageRevisionAction(revision, user=staff).execute()
    # Without a user (as scheduled publishing and scripts call it), saving the page live is the
    # door: the refusal says why, and where the letter is published instead.
    with pytest.raises(PublicationRefused) as refused:
        revision.publish()
    assert OUT_FOR_SIGN_ON in str(refused.value)
    assert refused.value.refusal.url == tracker_url(sign_on)
    letter.live, letter.live_revision = True, revision
    with pytest.raises(PublicationRefused):
        letter.save()

    assert as_it_was(letter) == before


def test_scheduled_publishing_skips_a_letter_out_for_sign_on_and_publishes_the_rest(sign_on):
    """Finding 1: scheduled publishing was a door around the sign-on."""
    letter = LetterPage.objects.get(pk=sign_on.letter_id)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    Revision.objects.filter(pk=letter.get_latest_revision().pk).update(
        approved_go_live_at=an_hour_ago
    )
    other = make_letter(live=False, title="Another letter", slug="another")
    Revision.objects.filter(pk=other.latest_revision.pk).update(
        approved_go_live_at=an_hour_ago + datetime.timedelta(minutes=5)
    )
    out = io.StringIO()

    call_command("publish_scheduled", stdout=out)

    letter.refresh_from_db()
    other.refresh_from_db()
    assert not letter.live and letter.live_revision_id is None
    assert not letter.revisions.filter(approved_go_live_at__isnull=False).exists()
    assert f"Not publishing “{letter.title}” as scheduled" in out.getvalue()
    # A refused letter does not hold back the pages scheduled after it.
    assert other.live
    assert Publication.objects.filter(letter=other).exists()
    assert not Publication.objects.filter(letter=letter).exists()


def test_creating_a_sign_on_cancels_a_scheduled_publication(members):
    """Finding 1: a publication scheduled before the sign-on would go live around it."""
    letter = make_letter(live=False)
    letter.go_live_at = timezone.now() + datetime.timedelta(days=2)
    revision = letter.save_revision()
    revision.publish()
    assert letter.revisions.filter(approved_go_live_at__isnull=False).exists()
    approve_for_circulation(revision=revision, user=None)

    sign_on = open_new_sign_on(members, days=10, revision=revision)

    assert not letter.revisions.filter(approved_go_live_at__isnull=False).exists()
    assert (
        sign_on.events.get(action=Action.CREATED).detail["scheduled_publication_cancelled"] is True
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        call_command("publish_scheduled", stdout=io.StringIO())
    letter.refresh_from_db()
    assert not letter.live


# A letter without a sign-on --------------------------------------------------------------------


def test_a_letter_without_a_sign_on_published_in_the_editor_is_recorded_with_its_pdf(
    staff_client, client, django_capture_on_commit_callbacks
):
    """Finding 1: a letter published in the editor had no frozen list, no PDF, no SHA-256."""
    letter = make_letter(live=False)
    signatures = [
        SignatureFactory(letter=letter, display_name=name, position=i, imported=True)
        for i, name in enumerate(["Zebra Alliance", "Acme Guild"])
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            editor_url(letter),
            edit_form_data(letter, letter_date="", **{"action-publish": "action-publish"}),
        )

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.live
    publication = Publication.objects.get(letter=letter)
    assert publication.circulated_at is None and publication.chain_head == ""
    assert publication.revision_id == letter.live_revision_id
    assert [line["text"] for line in publication.signatories] == ["Acme Guild", "Zebra Alliance"]
    assert re.fullmatch(r"[0-9a-f]{64}", publication.pdf_sha256)
    assert publication.pdf
    page = client.get(letter.url).content.decode()
    assert f'<code class="sha256">{publication.pdf_sha256}</code>' in page
    # The list stays as published.
    signatures[0].delete()
    assert "Zebra Alliance" in client.get(letter.url).content.decode()


def test_the_seed_letter_is_published_with_its_frozen_list_and_pdf(
    db, seed_document, client, django_capture_on_commit_callbacks
):
    """Finding 1 / item 1: every published letter has its frozen list, PDF and SHA-256, the
    seed letter too."""
    with django_capture_on_commit_callbacks(execute=True):
        letter = import_letter(document=seed_document, publish=True).letter

    assert letter.live
    publication = Publication.objects.get(letter=letter)
    assert publication.circulated_at is None and publication.chain_head == ""
    assert len(publication.signatories) == 14
    assert re.fullmatch(r"[0-9a-f]{64}", publication.pdf_sha256)
    page = client.get(letter.url).content.decode()
    assert f'<code class="sha256">{publication.pdf_sha256}</code>' in page
