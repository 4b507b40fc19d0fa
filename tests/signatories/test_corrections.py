"""Corrections in the open: after publication, a change is a new dated version beside the others."""

import datetime
import hashlib
import re

import pytest
import time_machine
from django.urls import reverse
from wagtail.actions.publish_page_revision import PublishPagePermissionError

from letters import publishing
from letters.models import Publication
from letters.publishing import PublicationRefused
from signatories import selectors, services
from signatories.forms import CorrectionForm
from signatories.models import Action, Signature
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.support.pdf import body
from tests.support.signing import STAFF_ACTOR, open_new_sign_on, sign


@pytest.fixture
def published(members, django_capture_on_commit_callbacks):
    """A letter taken through its sign-on (two of three organizations signed), with its PDF."""
    sign_on = open_new_sign_on(members)
    invitations = list(sign_on.invitations.order_by("organization__name"))
    sign(invitations[0])
    sign(invitations[1])
    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        services.close_due_sign_ons()
        with django_capture_on_commit_callbacks(execute=True):
            services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    return sign_on


def correct(letter, note: str, callbacks, **kwargs) -> Publication:
    with callbacks(execute=True):
        return services.publish_correction(letter=letter, note=note, actor=STAFF_ACTOR, **kwargs)


def test_a_late_signature_is_published_as_a_correction_beside_the_first_version(
    client, published, members, django_capture_on_commit_callbacks
):
    letter = published.letter
    first = letter.publications.get()
    first_pdf = body(client.get(f"{letter.url}pdf/v1/"))
    assert hashlib.sha256(first_pdf).hexdigest() == first.pdf_sha256

    services.add_signatory(
        letter=letter,
        organization=members.organizations[2],
        display_name=members.organizations[2].printed_name,
        signer_name="Pat Late",
        reason="Signed by email the morning after the deadline.",
        actor=STAFF_ACTOR,
    )
    # Nothing shows before the correction is published: the list is frozen per version.
    assert members.organizations[2].printed_name not in client.get(letter.url).content.decode()
    second = correct(
        letter, "Adds a signatory who signed by email.", django_capture_on_commit_callbacks
    )

    assert second.version == 2
    assert second.changes == {
        "added": [members.organizations[2].printed_name],
        "removed": [],
        "text": False,
    }
    page = client.get(letter.url).content.decode()
    assert members.organizations[2].printed_name in page
    assert "Adds a signatory who signed by email." in page
    assert first.pdf_sha256 in page and Publication.objects.get(pk=second.pk).pdf_sha256 in page
    # The earlier version is still there, byte for byte, with the hash the page printed.
    again = client.get(f"{letter.url}pdf/v1/")
    assert body(again) == first_pdf
    first.refresh_from_db()
    assert hashlib.sha256(first_pdf).hexdigest() == first.pdf_sha256
    latest = body(client.get(f"{letter.url}pdf/"))
    assert hashlib.sha256(latest).hexdigest() == Publication.objects.get(pk=second.pk).pdf_sha256
    assert latest != first_pdf
    # The record says so, and holds.
    event = published.events.get(action=Action.CORRECTION_PUBLISHED)
    assert event.detail["version"] == 2
    assert selectors.verify_event_chain(sign_on=published) == []
    second.refresh_from_db()
    assert second.chain_head == published.events.order_by("-sequence").first().hash


def test_a_withdrawal_and_a_typo_fix_are_each_a_correction(
    client, published, django_capture_on_commit_callbacks
):
    letter = published.letter
    withdrawn = Signature.objects.printable().filter(letter=letter).first()
    services.retract_signature(
        signature=withdrawn, reason="The association's board withdrew it.", actor=STAFF_ACTOR
    )
    second = correct(
        letter, "Removes a signatory at its request.", django_capture_on_commit_callbacks
    )
    assert second.changes["removed"] == [withdrawn.display_name]
    assert withdrawn.display_name not in [line.text for line in second.lines()]

    letter.refresh_from_db()
    letter.salutation = "Dear Secretary Doe,"
    revision = letter.save_revision()
    third = correct(
        letter, "Corrects the salutation.", django_capture_on_commit_callbacks, revision=revision
    )
    assert third.changes == {"added": [], "removed": [], "text": True}
    letter.refresh_from_db()
    assert letter.live_revision_id == revision.pk
    assert "Dear Secretary Doe," in client.get(letter.url).content.decode()
    assert [p.version for p in letter.publications.order_by("version")] == [1, 2, 3]
    for version in (1, 2, 3):
        assert client.get(f"{letter.url}pdf/v{version}/").status_code == 200
    assert selectors.verify_event_chain(sign_on=published) == []


def test_a_correction_with_nothing_changed_or_no_note_is_refused(published):
    with pytest.raises(services.SignOnError, match="Nothing changed since version 1"):
        services.publish_correction(letter=published.letter, note="Nothing", actor=STAFF_ACTOR)
    # A note of nothing but spaces never reaches the service: the typed input refuses it.
    form = CorrectionForm({"note": "  \u0007 "})
    assert not form.is_valid()
    assert form.errors["note"] == ["Say what the correction corrects: it prints on the letter."]
    assert published.letter.publications.count() == 1


def test_the_editor_cannot_republish_a_published_letter_it_points_to_corrections(staff, published):
    letter = published.letter
    letter.refresh_from_db()
    refusal = publishing.refusal(letter)
    assert refusal.url == reverse("signatories_admin:corrections", args=[letter.pk])
    assert not letter.permissions_for_user(staff).can_publish()
    letter.salutation = "Changed silently?"
    revision = letter.save_revision()
    with pytest.raises(PublishPagePermissionError):
        revision.publish(user=staff)  # the editor's and the API's door
    with pytest.raises(PublicationRefused, match="published as a dated correction"):
        revision.publish()  # scheduled publishing's door
    letter.refresh_from_db()
    assert letter.live_revision_id != revision.pk
    assert letter.publications.count() == 1


def test_a_letter_without_a_sign_on_is_corrected_the_same_way(
    client, db, django_capture_on_commit_callbacks
):
    letter = make_letter(live=False, slug="imported")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="First Signers"))
    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)
    services.add_signatory(
        letter=letter,
        display_name="Second Signers",
        reason="Asked to join after publication.",
        actor=STAFF_ACTOR,
    )
    second = correct(letter, "Adds Second Signers.", django_capture_on_commit_callbacks)
    texts = [line.text for line in second.lines()]
    assert len(texts) == 2 and texts[0].startswith("First Signers") and "Second Signers" in texts
    page = client.get(letter.url).content.decode()
    assert "Adds Second Signers." in page
    assert client.get(f"{letter.url}pdf/v1/").status_code == 200


def test_staff_correct_a_letter_from_its_corrections_page(
    staff_client, published, members, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("signatories_admin:corrections", args=[published.letter_id])
    page = staff_client.get(url).content.decode()
    assert "Nothing has changed" in page
    response = staff_client.post(
        url,
        {
            "action": "add",
            "organization": members.organizations[2].pk,
            "display_name": "Late Signers",
            "reason": "Signed by email.",
        },
    )
    assert response.status_code == 302
    assert "Added: Late Signers" in staff_client.get(url).content.decode()
    # The page's form leads to the version it would publish; nothing is published by it.
    shown = staff_client.post(url, {"action": "publish", "note": "Adds Late Signers."})
    assert shown.status_code == 302
    preview = staff_client.get(shown["Location"])
    assert "<li>Added: Late Signers</li>" in preview.content.decode()
    assert published.letter.publications.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:publish_correction", args=[published.letter_id]),
            {"note": "Adds Late Signers.", "fingerprint": preview.context["fingerprint"]},
        )
    assert response.status_code == 302
    assert published.letter.publications.count() == 2
    again = staff_client.get(
        reverse("signatories_admin:publish_correction", args=[published.letter_id]),
        {"note": "Again"},
    )
    assert "Nothing changed since version 2" in again.content.decode()


def test_a_correction_page_for_an_unpublished_letter_is_not_found(staff_client, db):
    draft = make_letter(live=False, slug="draft")
    url = reverse("signatories_admin:corrections", args=[draft.pk])
    assert staff_client.get(url).status_code == 404


def test_a_text_correction_shows_on_the_letter_page_what_it_changed_word_by_word(
    client, published, django_capture_on_commit_callbacks
):
    letter = published.letter
    letter.refresh_from_db()
    letter.body = [
        {"type": "paragraph", "value": "<p>We write about <b>blue</b> widgets.</p>"},
        {"type": "heading", "value": "Our asks"},
        {"type": "bullets", "value": ["<p>Fewer tariffs</p>", "<p>More widgets</p>"]},
    ]
    revision = letter.save_revision()
    correct(letter, "Corrects the colour.", django_capture_on_commit_callbacks, revision=revision)

    html = client.get(letter.url).content.decode()
    versions = html[html.index('id="versions"') :]
    changes = re.search(r'<ol class="text-changes"[^>]*>(.*?)</ol>', versions, re.S).group(1)
    # The same difference signers are shown (letters.text_diff): one paragraph, one word added.
    assert changes.count("<li") == 1
    assert '<strong class="change-kind">Changed:</strong> We write about ' in changes
    assert '<ins><span class="visually-hidden">[added: </span>blue ' in changes
    assert "<del>" not in changes
    # The first publication changed no text: it shows no difference.
    assert versions.count('class="text-changes"') == 1
