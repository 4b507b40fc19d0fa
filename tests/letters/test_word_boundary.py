"""The boundary step of the Word import: staff see the end of the letter with where its body
ends and its signatory list begins, move it up or down, then import the draft or the finished
letter with it, at once or in the background; the members among the signatories are carried
through to the page that opens a sign-on."""

import datetime
import html
import io
import re

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Organization
from letters.models import LetterPage, WordImportJob
from letters.word import ending, read_word_letter, reading_of, recognize_signatory_block
from letters.word.signatories import list_begins
from letters.word_samples import (
    PLAIN_SIGNATORIES,
    sample_plain_lines_letter_docx,
    sample_signed_letter_docx,
)
from tests.factories import OrganizationFactory, StaffFactory
from tests.letters.word_documents import sample_letter, save

LAST_BODY = "We would welcome the chance to discuss these proposals with you."


@pytest.fixture
def members(db) -> list[Organization]:
    return [OrganizationFactory(name="ANSOL", acronym=""), OrganizationFactory(name="Alvatal")]


def upload(client, data: bytes, *, way: str = "draft", name: str = "plain.docx"):
    return client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile(name, data), "way": way, "check_end": "on"},
    )


def job_page(job: WordImportJob) -> str:
    return reverse("letters_admin:word_import", args=[job.pk])


def body_texts(letter: LetterPage) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", str(block.value.source if hasattr(block.value, "source") else ""))
        for block in letter.body
        if block.block_type == "paragraph"
    ]


def shown_rows(response) -> list[tuple[str, str, str]]:
    """(line, text, read as) of each row of the end shown, and the boundary's own row."""
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [
        tuple(html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row) for row in cells if row
    ]


def test_staff_see_the_end_of_the_letter_with_the_proposed_boundary(
    staff_client, letter, members
) -> None:
    response = upload(staff_client, sample_plain_lines_letter_docx())

    job = WordImportJob.objects.get()
    assert response["Location"] == job_page(job)
    assert job.status == WordImportJob.Status.CHECKING
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()
    page = staff_client.get(job_page(job))
    assert page.status_code == 200
    rows = shown_rows(page)
    boundary = rows.index(("The signatory list begins here ↓",))
    assert rows[boundary - 1][1:] == (LAST_BODY, "Body")
    assert rows[boundary + 1 :] == [
        ("7", "AlterMundi", "Signatory"),
        ("8", "Alvatal", "Signatory (a member)"),
        ("9", "ANSOL", "Signatory (a member)"),
        ("10", "Open Rights Group", "Signatory"),
        ("11", "Ελένη Παπαδοπούλου", "Signatory"),
        ("12", "Jane Roe", "Signatory"),
    ]
    assert "6 signatories, 2 of them members" in page.text
    assert 'name="csrfmiddlewaretoken"' in page.text
    assert page.context["form"]["line"].value() == 7
    # The list may begin anywhere after the body's first line (the title is line 1), or nowhere.
    offered = [value for value, _ in page.context["form"].fields["line"].widget.choices]
    assert offered == [*range(3, 13), 13]


def test_moving_the_boundary_shows_the_end_again_and_writes_nothing(
    staff_client, letter, members
) -> None:
    upload(staff_client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()

    down = staff_client.post(job_page(job), {"line": "7", "move": "down"})
    assert down.status_code == 200
    assert down.context["form"]["line"].value() == 8
    assert shown_rows(down)[-7:] == [
        ("7", "AlterMundi", "Body"),
        ("The signatory list begins here ↓",),
        ("8", "Alvatal", "Signatory (a member)"),
        ("9", "ANSOL", "Signatory (a member)"),
        ("10", "Open Rights Group", "Signatory"),
        ("11", "Ελένη Παπαδοπούλου", "Signatory"),
        ("12", "Jane Roe", "Signatory"),
    ]
    up = staff_client.post(job_page(job), {"line": "7", "move": "up"})
    assert up.context["form"]["line"].value() == 6
    assert ("6", LAST_BODY, "Left out: not a name") in shown_rows(up)
    chosen = staff_client.post(job_page(job), {"line": "13", "show": "1"})
    assert "No signatory list: every line is body" in chosen.text
    job.refresh_from_db()
    assert job.status == WordImportJob.Status.CHECKING
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()


def test_a_draft_is_imported_with_the_chosen_boundary_and_its_members_preselected(
    staff_client, letter, members
) -> None:
    upload(staff_client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()

    response = staff_client.post(job_page(job), {"line": "8", "confirm": "1"}, follow=True)

    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert response.redirect_chain[-1][0] == reverse("wagtailadmin_pages:edit", args=[created.pk])
    assert body_texts(created)[-2:] == [LAST_BODY, "AlterMundi"]
    assert "Alvatal" not in str(created.body.raw_data)
    job.refresh_from_db()
    assert (job.status, job.boundary, job.document, job.reading) == (
        WordImportJob.Status.DONE,
        7,
        b"",
        {},
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("5 line(s) at the end of the letter were left out" in m for m in shown)
    [invite] = [
        html.unescape(found)
        for m in shown
        for found in re.findall(r'href="([^"]*organizations[^"]*)"', m)
    ]
    opened = staff_client.get(invite)
    ticked = opened.context["form"]["organizations"].value()
    assert sorted(int(pk) for pk in ticked) == sorted(org.pk for org in members)


def test_a_finished_letter_is_imported_with_the_signatories_below_the_boundary(
    staff_client, letter, members
) -> None:
    upload(staff_client, sample_plain_lines_letter_docx(), way="finished")
    job = WordImportJob.objects.get()

    response = staff_client.post(job_page(job), {"line": "9", "confirm": "1"})

    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[created.pk])
    assert [s.display_name for s in created.signatures.order_by("position")] == (
        PLAIN_SIGNATORIES[2:]
    )
    assert body_texts(created)[-3:] == [LAST_BODY, "AlterMundi", "Alvatal"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("99", "Line 99 is not in the letter after its opening: choose a line from 3 to 12"),
        ("1", "Line 1 is not in the letter after its opening"),
        ("seven", "Choose one of the lines shown."),
        ("", "Choose a line."),
    ],
)
def test_a_boundary_outside_the_letter_is_refused_on_its_field(
    staff_client, letter, line: str, message: str
) -> None:
    upload(staff_client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()

    response = staff_client.post(job_page(job), {"line": line, "confirm": "1"})

    assert response.status_code == 400
    [error] = response.context["form"].errors["line"]
    assert error.startswith(message)
    assert f"The signatory list begins at: {error}" in html.unescape(response.text)
    job.refresh_from_db()
    assert job.status == WordImportJob.Status.CHECKING
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()


def test_a_finished_letter_without_signatories_below_the_boundary_stays_held(
    staff_client, letter
) -> None:
    upload(staff_client, sample_plain_lines_letter_docx(), way="finished")
    job = WordImportJob.objects.get()

    refused = staff_client.post(job_page(job), {"line": "13", "confirm": "1"})

    assert refused.status_code == 400
    assert "No signatories were found at the end of “plain.docx”" in html.unescape(refused.text)
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()
    assert not Organization.objects.filter(name="AlterMundi").exists()
    job.refresh_from_db()
    assert job.status == WordImportJob.Status.CHECKING
    # Held still: staff try another boundary.
    staff_client.post(job_page(job), {"line": "7", "confirm": "1"})
    assert LetterPage.objects.exclude(pk=letter.pk).get().signatures.count() == 6


def test_a_held_import_is_confirmed_once(staff_client, letter) -> None:
    upload(staff_client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()
    staff_client.post(job_page(job), {"line": "7", "confirm": "1"})

    again = staff_client.post(job_page(job), {"line": "7", "confirm": "1"}, follow=True)

    assert LetterPage.objects.exclude(pk=letter.pk).count() == 1
    # Done: its page opens the letter's editor, and says so.
    assert again.redirect_chain[-1][0].startswith("/admin/pages/")


def test_another_staff_members_import_is_not_found(client, letter, staff) -> None:
    client.force_login(staff)
    upload(client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()
    client.force_login(StaffFactory(username="other", email="other@example.org"))

    assert client.get(job_page(job)).status_code == 404
    assert client.post(job_page(job), {"line": "7", "confirm": "1"}).status_code == 404
    job.refresh_from_db()
    assert job.status == WordImportJob.Status.CHECKING
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()


def test_an_expired_import_says_so_and_writes_nothing(staff_client, letter) -> None:
    upload(staff_client, sample_plain_lines_letter_docx())
    job = WordImportJob.objects.get()
    WordImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )

    response = staff_client.post(job_page(job), {"line": "7", "confirm": "1"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("letters_admin:import_word")
    assert [str(m) for m in response.context["messages"]] == [
        "“plain.docx” was uploaded more than a day ago and is no longer kept: upload it again."
    ]
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()


def test_a_long_letter_is_read_and_imported_in_the_background_with_the_boundary(
    staff_client, letter, django_capture_on_commit_callbacks
) -> None:
    from letters.views import SYNC_PARAGRAPHS

    document = docx.Document()
    document.add_paragraph("Dear Commissioner,")
    for n in range(SYNC_PARAGRAPHS):
        document.add_paragraph(f"Paragraph {n} of the letter.")
    names = [f"Signatory Number {n}" for n in range(60)]
    for name in names:
        document.add_paragraph(name)
    with django_capture_on_commit_callbacks(execute=False) as reading:
        upload(staff_client, save(document), way="finished", name="long.docx")
    job = WordImportJob.objects.get()
    assert staff_client.get(job_page(job)).text.count('http-equiv="refresh"') == 1
    for callback in reading:
        callback()
    job.refresh_from_db()
    assert job.status == WordImportJob.Status.CHECKING
    page = staff_client.get(job_page(job))
    first = SYNC_PARAGRAPHS + 2  # the salutation, the body, then the list
    assert page.context["form"]["line"].value() == first
    # A long list is shown by its first lines and its last.
    assert "… 30 more lines of the list …" in page.text
    assert f"line {first + 59}: Signatory Number 59" in page.text

    with django_capture_on_commit_callbacks(execute=False) as importing:
        response = staff_client.post(job_page(job), {"line": str(first + 10), "confirm": "1"})
    assert response["Location"] == job_page(job)
    job.refresh_from_db()
    assert (job.status, job.boundary) == (WordImportJob.Status.WAITING, first + 9)
    for callback in importing:
        callback()

    job.refresh_from_db()
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert job.status == WordImportJob.Status.DONE
    assert [s.display_name for s in created.signatures.order_by("position")] == names[10:]
    assert body_texts(created)[-10:] == names[:10]


# The boundary, read --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [sample_letter(), sample_signed_letter_docx(), sample_plain_lines_letter_docx()],
    ids=["closing", "headings-in-columns", "plain-lines"],
)
def test_the_proposed_boundary_given_back_reads_the_same_letter(data: bytes) -> None:
    found = read_word_letter(io.BytesIO(data), name="letter.docx")
    again = read_word_letter(io.BytesIO(data), name="letter.docx", boundary=found.list_start)

    assert found.signatories
    assert (again.body, again.closing, again.signatories, again.cc, again.footnotes) == (
        found.body,
        found.closing,
        found.signatories,
        found.cc,
        found.footnotes,
    )


def test_a_closing_just_above_the_boundary_stays_the_closing() -> None:
    letter = read_word_letter(io.BytesIO(sample_letter()), name="letter.docx")
    block = recognize_signatory_block(letter.paragraphs, letter.body_start)

    assert letter.closing == "Sincerely,"
    assert list_begins(block) == block.body_end + 1
    shown = ending(reading_of(letter), block.body_end)  # the list begins at the closing
    assert shown.block.closing == "Sincerely,"
    assert [line.role for row in shown.rows for line in row.lines][-3:] == ["closing", "name", "cc"]


def test_a_boundary_outside_the_letter_is_refused_when_reading() -> None:
    from letters.word import WordImportError

    with pytest.raises(WordImportError, match="cannot begin at line 1: the letter's body runs"):
        read_word_letter(io.BytesIO(sample_plain_lines_letter_docx()), name="x.docx", boundary=0)
