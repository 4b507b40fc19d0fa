"""`manage.py import_letter FILE.docx [--publish]`: a Word letter read as a JSON one is, with the
same messages and the same all-or-nothing rule."""

import json

import docx
import pytest
from django.core.management import CommandError, call_command

from coalition.crm.models import Organization
from letters.models import LetterPage
from signatories.models import Signature
from tests.docx_tool import letter_docx
from tests.letters.word_documents import save

pytestmark = pytest.mark.django_db

LETTER = {
    "title": "Open letter on open markets",
    "date": "2025-03-12",
    "salutation": "Dear Commissioner,",
    "body": [{"type": "paragraph", "text": "We ask you to keep markets open."}],
    "closing": "Sincerely,",
    "signatories": [
        {"name": "Widget Makers Association", "acronym": "WMA", "group": "Organizations"},
        {"name": "Open Rights Group", "group": "Organizations"},
        {"person": "Jane Roe", "affiliation": "University of Leuven", "group": "Individuals"},
    ],
}


def counts() -> tuple[int, int, int]:
    return LetterPage.objects.count(), Organization.objects.count(), Signature.objects.count()


def test_it_imports_a_word_letter_as_a_draft_with_its_signatories(tmp_path, capsys) -> None:
    source = tmp_path / "letter.docx"
    source.write_bytes(letter_docx(LETTER))

    call_command("import_letter", str(source))

    out = capsys.readouterr().out.strip().splitlines()
    letter = LetterPage.objects.get()
    assert out == [
        "Imported 'Open letter on open markets': 3 signatories, 2 new organizations.",
        f"Saved as a draft: /admin/pages/{letter.pk}/edit/",
    ]
    assert not letter.live
    assert [line.text for line in letter.signatory_lines()] == [
        "Widget Makers Association (WMA)",
        "Open Rights Group",
        "Jane Roe, University of Leuven",
    ]
    assert [line.group for line in letter.signatory_lines()] == [
        "Organizations",
        "Organizations",
        "Individuals",
    ]


def test_it_publishes_and_prints_the_url_last(tmp_path, capsys) -> None:
    source = tmp_path / "letter.docx"
    source.write_bytes(letter_docx(LETTER, layout="table"))

    call_command("import_letter", str(source), "--publish")

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "/letters/open-letter-on-open-markets/"
    letter = LetterPage.objects.get()
    assert letter.live
    assert len(letter.publications.get().signatories) == 3


def test_a_problem_reads_as_for_json_with_its_word_line_and_nothing_is_imported(
    tmp_path,
) -> None:
    again = {"name": "OPEN RIGHTS GROUP", "group": "Organizations"}
    twice = {**LETTER, "signatories": [*LETTER["signatories"][:2], again, LETTER["signatories"][2]]}
    as_json = tmp_path / "letter.json"
    as_json.write_text(json.dumps(twice))
    as_word = tmp_path / "letter.docx"
    as_word.write_bytes(letter_docx(twice))

    with pytest.raises(CommandError) as from_json:
        call_command("import_letter", str(as_json))
    with pytest.raises(CommandError) as from_word:
        call_command("import_letter", str(as_word))

    problem = "$.signatories[2].name: 'OPEN RIGHTS GROUP' is already listed at $.signatories[1]"
    assert str(from_json.value) == f"{as_json}: 1 problem(s); nothing was imported:\n  {problem}"
    assert str(from_word.value) == (
        f"{as_word}: 1 problem(s); nothing was imported:\n  {problem} "
        "(the signatory line “OPEN RIGHTS GROUP” in the Word file)"
    )
    assert counts() == (0, 0, 0)


def test_a_file_that_is_not_word_is_refused_and_nothing_imported(tmp_path) -> None:
    source = tmp_path / "letter.docx"
    source.write_bytes(b"Dear Commissioner, plain text")

    with pytest.raises(
        CommandError, match=r"is not a Word \.docx document .* Nothing was imported"
    ):
        call_command("import_letter", str(source))
    assert counts() == (0, 0, 0)


def test_a_word_letter_without_signatories_is_refused(tmp_path) -> None:
    document = docx.Document()
    document.add_paragraph("We ask you to keep markets open.")
    source = tmp_path / "unsigned.docx"
    source.write_bytes(save(document))

    with pytest.raises(CommandError, match="no signatories were found at the end of the letter"):
        call_command("import_letter", str(source))
    assert counts() == (0, 0, 0)


def test_a_missing_word_file_is_named(tmp_path) -> None:
    with pytest.raises(CommandError, match=r"missing\.docx: no such file"):
        call_command("import_letter", str(tmp_path / "missing.docx"))
