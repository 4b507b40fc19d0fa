"""The seed letter, imported from JSON or from Word, previews and publishes like the original."""

import io
import re

import pytest
from django.urls import reverse

from letters.models import LetterPage
from letters.services import create_letter_from_word
from signatories.interchange import import_letter
from tests.letters.word_documents import seed_letter_docx
from tests.support.pdf import body, pdftotext

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def expected_in_order(seed: dict) -> list[str]:
    """Landmarks of the original letter, in the order they must read."""
    marks = ["March 12, 2025", *seed["recipients"], seed["salutation"]]
    for block in seed["body"]:
        if block["type"] == "paragraph":
            marks.append(" ".join(block["text"].split()[:8]))
        elif block["type"] == "heading":
            marks.append("➤ " + block["text"])
        else:
            marks.extend(" ".join(item.split()[:6]) for item in block["items"])
    marks.append(seed["closing"])
    return marks


def assert_reads_in_order(text: str, marks: list[str]) -> None:
    text = flat(text)
    position = 0
    for mark in marks:
        found = text.find(mark, position)
        assert found >= 0, f"{mark!r} is missing or out of order"
        position = found + len(mark)


def test_the_imported_seed_letter_publishes_a_pdf_that_reads_like_the_original(
    client, seed_document, tmp_path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        letter = import_letter(document=seed_document, publish=True).letter
    response = client.get(f"{letter.url}pdf/")
    assert response.status_code == 200
    text = pdftotext(body(response), tmp_path)
    assert_reads_in_order(text, expected_in_order(seed_document))
    closing_at = flat(text).index("Sincerely,")
    for signatory in seed_document["signatories"]:
        default = (
            f"{signatory['name']} ({signatory['acronym']})"
            if "acronym" in signatory
            else signatory["name"]
        )
        assert flat(text).find(signatory.get("display") or default, closing_at) > 0


def test_the_seed_letter_from_word_previews_and_publishes_like_the_original(
    staff, staff_client, seed_document, tmp_path, django_capture_on_commit_callbacks
) -> None:
    index_letter = import_letter(document=seed_document).letter  # creates the archive
    result = create_letter_from_word(
        upload=io.BytesIO(seed_letter_docx(seed_document)),
        name="seed.docx",
        user=staff,
        index=index_letter.get_parent().specific,
    )
    letter = result.letter
    assert letter.recipients.splitlines() == seed_document["recipients"]
    assert letter.salutation == seed_document["salutation"]
    assert [b.block_type for b in letter.body].count("section") == 3
    assert "14 line(s) after the closing were left out" in result.notes[0]

    revision_url = reverse(
        "wagtailadmin_pages:revisions_view", args=[letter.pk, letter.latest_revision_id]
    )
    preview = staff_client.get(revision_url)
    assert preview.status_code == 200
    assert "Placeholder signatories" in preview.content.decode()
    pdf_preview = staff_client.get(revision_url, {"mode": "pdf"})
    assert pdf_preview["Content-Type"] == "application/pdf"
    preview_text = pdftotext(pdf_preview.content, tmp_path)
    assert_reads_in_order(preview_text, expected_in_order(seed_document))
    assert "Association of Example Manufacturers (AEM)" in preview_text

    with django_capture_on_commit_callbacks(execute=True):
        letter.get_latest_revision().publish(user=staff)
    letter = LetterPage.objects.get(pk=letter.pk)
    text = pdftotext(body(staff_client.get(f"{letter.url}pdf/")), tmp_path)
    assert_reads_in_order(text, expected_in_order(seed_document))
