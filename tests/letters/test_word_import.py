"""Starting a draft letter from a Word document."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from letters.models import LetterPage
from letters.word import MAX_UPLOAD_BYTES, WordImportError, read_word_letter
from tests.letters.word_documents import sample_letter


def read(data: bytes, name: str = "letter.docx"):
    return read_word_letter(io.BytesIO(data), name=name)


@pytest.fixture(scope="module")
def sample() -> bytes:
    return sample_letter()


def test_it_reads_the_date_addressee_salutation_and_closing(sample: bytes) -> None:
    letter = read(sample)
    assert str(letter.letter_date) == "2025-03-12"
    assert letter.dateline == ""
    assert letter.recipients == ["The Honorable Jane Doe", "Secretary of Widgets", "1 Main Street"]
    assert letter.salutation == "Dear Secretary Doe:"
    assert letter.closing == "Sincerely,"
    assert letter.cc == ["Office of the Trade Representative"]
    assert letter.title == "Letter to The Honorable Jane Doe"


def test_it_reads_paragraphs_headings_lists_and_sections(sample: bytes) -> None:
    body = read(sample).body
    assert [b["type"] for b in body] == [
        "paragraph",
        "heading",
        "paragraph",
        "bullets",
        "paragraph",
        "numbered",
        "section",
        "section",
        "paragraph",
    ]
    assert body[1]["value"] == "A plain heading"
    assert body[3]["value"] == ["<p>First bullet</p>", "<p>Second bullet</p>"]
    assert body[5]["value"] == ["<p>First numbered</p>", "<p>Second numbered</p>"]
    assert body[6]["value"] == {
        "heading": "Strengthen Widget Leadership:",
        "numbered": False,
        "items": ["<p>Section item one</p>", "<p>Section item two</p>"],
    }
    assert body[7]["value"]["heading"] == "Prioritize Alignment:"
    assert body[7]["value"]["numbered"] is True


def test_it_keeps_bold_italic_and_links(sample: bytes) -> None:
    first = read(sample).body[0]["value"]
    assert first == (
        "<p>We write with <b>bold</b>, <i>italic</i> and "
        '<a href="https://example.org/widgets">a link</a>.</p>'
    )


def test_the_line_after_the_closing_is_read_as_a_signatory(sample: bytes) -> None:
    letter = read(sample)
    assert letter.signatory_lines == ["Association of Widget Makers"]
    assert letter.signatories == [{"name": "Association of Widget Makers"}]
    assert letter.notes == []


def test_a_dateline_with_a_place_is_kept_as_written() -> None:
    import docx

    from tests.letters.word_documents import save

    document = docx.Document()
    document.add_paragraph("Brussels, 12 March 2025")
    document.add_paragraph("Dear colleagues,")
    document.add_paragraph("Text.")
    letter = read(save(document))
    assert letter.dateline == "Brussels, 12 March 2025"
    assert str(letter.letter_date) == "2025-03-12"
    assert letter.recipients == []
    assert letter.salutation == "Dear colleagues,"


def test_an_addressee_block_that_is_not_plain_stays_in_the_body() -> None:
    import docx

    from tests.letters.word_documents import save

    document = docx.Document()
    document.add_paragraph("To the members", style="List Bullet")
    document.add_paragraph("Dear members,")
    document.add_paragraph("Text.")
    letter = read(save(document))
    assert letter.salutation == ""
    assert [b["type"] for b in letter.body] == ["bullets", "paragraph", "paragraph"]
    assert "move it to Recipients" in letter.notes[0]


def test_a_letter_without_front_matter_is_all_body() -> None:
    import docx

    from tests.letters.word_documents import save

    document = docx.Document()
    document.add_paragraph("We, the undersigned, write to you.")
    letter = read(save(document))
    assert letter.letter_date is None
    assert letter.salutation == letter.closing == ""
    assert letter.body == [
        {"type": "paragraph", "value": "<p>We, the undersigned, write to you.</p>"}
    ]


def corrupt_docx() -> bytes:
    data = sample_letter()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "word/document.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a letter")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("letter.pdf", b"%PDF-1.7", "“letter.pdf” is not a .docx file"),
        ("letter.docx", b"", "“letter.docx” is empty"),
        ("letter.docx", b"Dear Sir, this is plain text", "is not a Word .docx document"),
        ("letter.docx", plain_zip(), "is a zip archive but not a Word document"),
        ("letter.docx", corrupt_docx(), "“letter.docx” is damaged and cannot be read"),
        ("letter.docx", sample_letter()[:2000], "is not a Word .docx document"),
    ],
    ids=["not-docx-name", "empty", "plain-text", "other-zip", "corrupt-xml", "truncated"],
)
def test_bad_files_get_a_clear_message(name: str, data: bytes, message: str) -> None:
    with pytest.raises(WordImportError, match=message):
        read(data, name)


def test_too_large_a_file_is_refused() -> None:
    with pytest.raises(WordImportError, match=r"the limit is 10 MB"):
        read(b"PK" + b"\0" * MAX_UPLOAD_BYTES, "huge.docx")


def test_staff_import_a_draft_and_land_in_its_editor(staff_client, letter, sample: bytes) -> None:
    url = reverse("letters_admin:import_word")
    assert staff_client.get(url).status_code == 200
    upload = SimpleUploadedFile("widgets.docx", sample)
    response = staff_client.post(url, {"document": upload})
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[created.pk])
    assert not created.live
    assert created.get_parent().pk == letter.get_parent().pk
    assert created.salutation == "Dear Secretary Doe:"
    assert created.latest_revision is not None
    assert staff_client.get(response["Location"]).status_code == 200


def test_a_bad_upload_is_refused_on_the_form_field(staff_client, letter) -> None:
    url = reverse("letters_admin:import_word")
    upload = SimpleUploadedFile("minutes.docx", b"just text")
    response = staff_client.post(url, {"document": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["document"] == [
        "“minutes.docx” is not a Word .docx document (perhaps an old .doc or a renamed file). "
        "Save it from Word as a .docx document."
    ]
    assert LetterPage.objects.count() == 1


def test_a_missing_file_is_refused_on_the_form_field(staff_client, letter) -> None:
    response = staff_client.post(reverse("letters_admin:import_word"), {})
    assert response.context["form"].errors["document"] == ["This field is required."]


def test_members_cannot_import(client, member_user, letter, sample: bytes) -> None:
    client.force_login(member_user)
    response = client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("widgets.docx", sample)},
    )
    assert response.status_code in {302, 403}
    assert LetterPage.objects.count() == 1
