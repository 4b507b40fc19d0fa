"""A letter exported as JSON, written to Word and imported back reads word for word the same:
text, signatories, groups and order. And a finished letter from Word publishes with its PDF."""

import copy
import re

import pytest
from django.core.management import call_command

from letters.models import LetterPage
from letters.versions import attach_publication_pdf
from signatories.interchange import export_letter, import_letter
from signatories.services import Actor, publish_letter
from tests.docx_tool import letter_docx, printed_line
from tests.support.pdf import pdftotext

pytestmark = pytest.mark.django_db


def letter_of(count: int) -> dict:
    """A letter of `count` signatories: organizations, some with acronyms, then individuals."""
    organizations = count - count // 3
    signatories = []
    for n in range(1, count + 1):
        if n <= organizations:
            item = {"name": f"Widget Makers Association {n}", "group": "Organizations"}
            if n % 3 == 0:
                item["acronym"] = f"WMA{n}"
        else:
            item = {
                "person": f"Jane Roe {n}",
                "affiliation": f"University of Leuven {n}",
                "group": "Individuals (affiliations for identification only)",
            }
            if n % 2 == 0:
                item["title"] = "Professor"
        signatories.append(item)
    return {
        "title": f"Open letter of {count} signatories",
        "date": "2025-03-12",
        "recipients": ["The Commissioner for Trade", "European Commission"],
        "salutation": "Dear Commissioner,",
        "body": [
            {"type": "paragraph", "text": "We write with <b>one</b> voice & <i>one</i> aim."},
            {"type": "heading", "text": "What we ask"},
            {"type": "bullets", "items": ["Keep markets open;", "Protect data flows."]},
            {"type": "paragraph", "text": 'See <a href="https://example.org/">our report</a>.'},
        ],
        "closing": "Sincerely,",
        "cc": ["The Trade Committee"],
        "signatories": signatories,
    }


def round_trip(document: dict, tmp_path, *, layout: str) -> tuple[dict, dict]:
    exported = export_letter(import_letter(document=copy.deepcopy(document)).letter)
    source = tmp_path / "letter.docx"
    source.write_bytes(letter_docx(exported, layout=layout))

    call_command("import_letter", str(source))

    again = LetterPage.objects.order_by("-pk").first()
    return exported, export_letter(again)


def test_the_seed_letter_comes_back_from_word_word_for_word(seed_document, tmp_path) -> None:
    exported, again = round_trip(seed_document, tmp_path, layout="lines")

    assert again == exported
    assert [s.get("display") or s["name"] for s in again["signatories"]][:2] == [
        "ACT | The App Association",
        "Coalition of Services Industries",
    ]


def test_a_letter_of_five_signatories_in_a_table_comes_back_word_for_word(tmp_path) -> None:
    exported, again = round_trip(letter_of(5), tmp_path, layout="table")

    assert again == exported
    assert len(again["signatories"]) == 5


def test_a_letter_of_a_thousand_signatories_in_two_columns_comes_back_word_for_word(
    tmp_path,
) -> None:
    exported, again = round_trip(letter_of(1000), tmp_path, layout="columns")

    assert again == exported
    assert [s.get("group") for s in again["signatories"]].count("Organizations") == 667


def test_a_finished_letter_from_word_publishes_with_its_pdf_listing_every_signatory_in_order(
    tmp_path,
) -> None:
    document = letter_of(40)
    source = tmp_path / "signed.docx"
    source.write_bytes(letter_docx(document, layout="list"))
    call_command("import_letter", str(source))
    letter = LetterPage.objects.get()

    publication = publish_letter(letter=letter, actor=Actor.system("test"))
    publication = attach_publication_pdf(publication=publication)

    letter.refresh_from_db()
    assert letter.live
    text = " ".join(pdftotext(publication.pdf.read(), tmp_path).split())
    position = 0
    for line in [
        "Organizations",
        *[printed_line(s) for s in document["signatories"][:27]],
        "Individuals (affiliations for identification only)",
        *[printed_line(s) for s in document["signatories"][27:]],
    ]:
        # "… Association 1" must not be found as the start of "… Association 10".
        found = re.compile(re.escape(line) + r"(?![\w(])").search(text, position)
        assert found is not None, f"{line!r} is missing from the PDF or out of order"
        position = found.end()
