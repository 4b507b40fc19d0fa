"""From the tracker, staff send the published letter to its recipients: each email previewed,
then sent through the outbox once per recipient and version, the PDF attached or linked, the
outbox's key in the message's metadata; a delivery by hand is recorded with its date and scan."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from coalition.core.models import EmailDelivery
from signatories import selectors, services
from signatories.errors import SignOnError
from signatories.models import LetterDelivery
from tests.support.recipients import emailed, jane, png, published_letter, recipient
from tests.support.signing import STAFF_ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anymail_test_backend(settings):
    # Anymail's own test backend: the message as a provider's backend would take it.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


def test_the_letter_goes_once_per_recipient_with_its_pdf_and_the_outbox_key_as_metadata():
    letter = published_letter()
    first = jane(letter)
    second = recipient(
        letter, "John Roe", "roe@ustr.example.gov", "Office of the Trade Representative"
    )
    mail.outbox.clear()
    deliveries = emailed(letter, first, second)
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == ["jane.doe@widgets.example.gov"])
    assert message.subject == "A joint letter on widgets"
    assert "Dear Jane Doe" in message.body and "Please find our letter." in message.body
    [(name, content, mimetype)] = message.attachments
    publication = letter.publications.get()
    assert (name, mimetype) == ("widgets-v1.pdf", "application/pdf")
    assert content == publication.pdf.open("rb").read()
    delivery = next(d for d in deliveries if d.recipient == first)
    assert message.anymail_test_params["metadata"] == {"outbox_key": delivery.outbox_key}
    assert EmailDelivery.objects.get(key=delivery.outbox_key).status == "sent"
    # Sent again (a second click, another member of staff): nobody gets it twice.
    assert emailed(letter, first, second) == []
    assert len(mail.outbox) == 2
    shown = {selectors.shown_status(d) for d in selectors.letter_deliveries(letter)}
    assert shown == {"Sent"}


def test_the_pdf_may_be_linked_instead():
    letter = published_letter()
    mail.outbox.clear()
    emailed(letter, jane(letter), attach=False)
    [message] = mail.outbox
    assert message.attachments == []
    assert f"{letter.url}pdf/v1/" in message.body


def test_nothing_goes_before_publication_nor_to_a_contact_who_takes_no_email():
    letter = published_letter()
    person = jane(letter)
    person.contact.email_opt_out = True
    person.contact.save()
    with pytest.raises(SignOnError) as refused:
        emailed(letter, person)
    assert refused.value.field == "recipients"
    letter.unpublish()
    with pytest.raises(SignOnError, match="not published"):
        emailed(letter, person)
    assert not LetterDelivery.objects.exists()


def test_staff_see_each_email_before_it_is_sent_and_only_then_send(
    client, staff, django_capture_on_commit_callbacks
):
    letter = published_letter()
    person = jane(letter)
    client.force_login(staff)
    url = reverse("signatories_admin:send_letter", args=[letter.pk])
    assert client.get(url).status_code == 200
    mail.outbox.clear()
    chosen = {
        "recipients": [person.pk],
        "cover_message": "Dear Secretary,\nour letter.",
        "pdf_attached": "on",
    }
    preview = client.post(url, {**chosen, "action": "preview"})
    page = preview.content.decode()
    assert preview.status_code == 200 and mail.outbox == []
    assert "To jane.doe@widgets.example.gov" in page and "our letter." in page
    fingerprint = preview.context["fingerprint"]
    # The cover message changed since the preview: nothing is sent.
    changed = client.post(
        url, {**chosen, "cover_message": "Other", "action": "send", "fingerprint": fingerprint}
    )
    assert changed.status_code == 200 and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {**chosen, "action": "send", "fingerprint": fingerprint})
    assert sent.status_code == 302
    [message] = mail.outbox
    assert "our letter." in message.body
    empty = client.post(url, {"action": "preview"})
    assert empty.status_code == 400
    assert "Recipients: Tick at least one recipient" in empty.content.decode()


def test_a_delivery_by_hand_is_recorded_with_its_date_and_scan(client, staff):
    letter = published_letter()
    person = jane(letter)
    client.force_login(staff)
    url = reverse("signatories_admin:hand_delivery", args=[letter.pk])
    scan = SimpleUploadedFile("receipt.png", png(), content_type="image/png")
    response = client.post(
        url,
        {
            "recipient": person.pk,
            "method": "post",
            "delivered_on": "2026-01-05",
            "scan": scan,
            "note": "Registered mail",
        },
    )
    assert response.status_code == 302
    delivery = LetterDelivery.objects.get(recipient=person)
    assert (delivery.method, delivery.status, delivery.delivered_on) == (
        "post",
        "delivered",
        datetime.date(2026, 1, 5),
    )
    assert delivery.scan_type == "image/png"
    download = client.get(reverse("signatories_admin:delivery_scan", args=[letter.pk, delivery.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    # A page in disguise is refused, naming the field; so is a day to come.
    html = SimpleUploadedFile(
        "receipt.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
    )
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    refused = client.post(
        url, {"recipient": person.pk, "method": "fax", "delivered_on": tomorrow, "scan": html}
    )
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "Scan: this file is not a PDF, an image or a Word .docx document" in page
    assert "Delivered on: A delivery cannot be in the future." in page
    assert LetterDelivery.objects.count() == 1


def test_a_delivery_by_hand_needs_a_way_other_than_email():
    letter = published_letter()
    with pytest.raises(SignOnError) as refused:
        services.record_hand_delivery(
            recipient=jane(letter),
            method="email",
            delivered_on=timezone.localdate(),
            scan=None,
            note="",
            actor=STAFF_ACTOR,
        )
    assert refused.value.field == "method"
