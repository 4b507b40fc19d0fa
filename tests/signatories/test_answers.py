"""A recipient's answer: recorded (text or a file, with its date), bounded and never served as a
page; published on the letter's page beside its versions, every signer then emailed once; and a
reminder to recipients who have not answered, shown first and sent on confirmation."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from signatories import answer_files, selectors, services
from signatories.errors import SignOnError
from signatories.models import Answer, Recipient
from tests.factories import OrganizationFactory, SignatureFactory
from tests.support.recipients import emailed, jane, png, published_letter
from tests.support.signing import STAFF_ACTOR

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    from docx import Document

    document = Document()
    document.add_paragraph("We have received your letter.")
    document.save(buffer)
    return buffer.getvalue()


def record(client, letter, person, **fields):
    data = {"recipient": person.pk, "received_on": "2026-02-01", "text": "", **fields}
    return client.post(reverse("signatories_admin:answers", args=[letter.pk]), data)


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("answer.pdf", PDF, "application/pdf"),
        ("scan.png", png(), "image/png"),
        ("reply.docx", docx(), answer_files.DOCX),
    ],
)
def test_an_answer_file_is_kept_as_what_its_bytes_are(client, staff, name, content, media_type):
    letter = published_letter()
    person = jane(letter)
    client.force_login(staff)
    # The browser's word is not taken: each is sent as text/html.
    upload = SimpleUploadedFile(name, content, content_type="text/html")
    assert record(client, letter, person, file=upload).status_code == 302
    answer = Answer.objects.get()
    assert answer.file_type == media_type
    download = client.get(reverse("signatories_admin:answer_file", args=[letter.pk, answer.pk]))
    assert download["Content-Type"] == media_type
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "answer.html",
            b"<!doctype html><script>alert(1)</script>",
            "File: this file is not a PDF, an image or a Word .docx document",
        ),
        (
            "image.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "File: this file is not a PDF",
        ),
        (
            "fake.docx",
            b"PK\x03\x04 not really a zip",
            "File: “fake.docx” is not a Word .docx document",
        ),
        ("empty.pdf", b"", "File: The submitted file is empty."),
    ],
)
def test_a_file_that_is_no_answer_is_refused_naming_the_field(
    client, staff, name, content, message
):
    letter = published_letter()
    person = jane(letter)
    client.force_login(staff)
    response = record(client, letter, person, file=SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Answer.objects.exists()


def test_an_answer_file_is_bounded(client, staff, monkeypatch):
    monkeypatch.setattr(answer_files, "MAX_BYTES", 1000)
    letter = published_letter()
    client.force_login(staff)
    response = record(
        client, letter, jane(letter), file=SimpleUploadedFile("big.pdf", PDF + b"x" * 2000)
    )
    assert response.status_code == 400
    assert "File: this file is 2.0\xa0KB; the limit is 1000\xa0bytes." in response.content.decode()


def test_an_answer_needs_text_or_a_file_and_a_date_not_to_come(client, staff):
    letter = published_letter()
    person = jane(letter)
    client.force_login(staff)
    page = record(client, letter, person).content.decode()
    assert (
        "Text of the answer: Give the answer&#x27;s text, or upload the answer as a file." in page
    )
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    page = record(client, letter, person, text="Yes", received_on=tomorrow).content.decode()
    assert "Received on: An answer cannot come from the future." in page
    assert not Answer.objects.exists()


def test_a_published_answer_shows_beside_the_versions_and_each_signer_hears_once(
    client, staff, django_capture_on_commit_callbacks
):
    letter = published_letter(signers=2)
    # A signer who signed twice (for two organizations) is one address: told once.
    SignatureFactory(
        letter=letter,
        organization=OrganizationFactory(name="Third Guild"),
        signer_email="SIGNER0@widgets.example.org",
    )
    person = jane(letter)
    answer = services.record_answer(
        recipient=person,
        received_on=datetime.date(2026, 2, 1),
        text="We will consider your proposals.",
        file=answer_files.check_upload(SimpleUploadedFile("reply.pdf", PDF), label="File"),
        actor=STAFF_ACTOR,
    )
    assert "We will consider" not in client.get(letter.url).content.decode()
    client.force_login(staff)
    url = reverse("signatories_admin:publish_answer", args=[letter.pk, answer.pk])
    confirm = client.get(url).content.decode()
    assert "signer0@widgets.example.org" in confirm and "signer1@widgets.example.org" in confirm
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        "signer0@widgets.example.org",
        "signer1@widgets.example.org",
    ]
    assert mail.outbox[0].subject == "Answered: A joint letter on widgets"
    assert "We will consider your proposals." in mail.outbox[0].body
    client.logout()
    page = client.get(letter.url).content.decode()
    versions_at, answer_at = page.index('id="versions"'), page.index('id="answers"')
    assert versions_at < answer_at and "We will consider your proposals." in page
    assert "Jane Doe (Department of Widgets)" in page
    file_url = reverse("public:answer_file", args=[letter.slug, answer.public_key])
    assert file_url in page
    download = client.get(file_url)
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="reply.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    # Published again: refused, and nobody is emailed twice.
    with pytest.raises(SignOnError), django_capture_on_commit_callbacks(execute=True):
        services.publish_answer(answer=answer, actor=STAFF_ACTOR)
    assert len(mail.outbox) == 2


def test_an_unpublished_answer_has_no_public_door(client):
    letter = published_letter()
    answer = services.record_answer(
        recipient=jane(letter),
        received_on=datetime.date(2026, 2, 1),
        text="",
        file=answer_files.check_upload(SimpleUploadedFile("reply.pdf", PDF), label="File"),
        actor=STAFF_ACTOR,
    )
    assert (
        client.get(reverse("public:answer_file", args=[letter.slug, answer.public_key])).status_code
        == 404
    )


def test_reminders_are_proposed_shown_and_sent_once_on_confirmation(client, staff):
    letter = published_letter()
    person = jane(letter)
    emailed(letter, person)
    client.force_login(staff)
    url = reverse("signatories_admin:remind_recipients", args=[letter.pk])
    assert "Nobody is due a reminder" in client.get(url, {"days": 14}).content.decode()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=15)
    with time_machine.travel(later):
        client.force_login(staff)
        mail.outbox.clear()
        page = client.get(url, {"days": 14}).content.decode()
        assert "Awaiting your answer: A joint letter on widgets" in page and mail.outbox == []
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(url, {"days": 14, "recipient": [person.pk]})
            # The same click again: no second reminder.
            client.post(url, {"days": 14, "recipient": [person.pk]})
        [reminder] = mail.outbox
        assert reminder.to == ["jane.doe@widgets.example.gov"]
        assert Recipient.objects.get(pk=person.pk).reminders_sent == 1
        assert client.get(url, {"days": 0}).status_code == 400
    # Once answered, nobody proposes a reminder.
    services.record_answer(
        recipient=person,
        received_on=datetime.date.today(),
        text="Noted.",
        file=None,
        actor=STAFF_ACTOR,
    )
    assert selectors.reminders_due(letter, after_days=0) == []
