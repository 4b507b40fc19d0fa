"""A very long list's PDF prints its names run-in: every name once and in order, each group's
heading once, far fewer tagged objects than one list item per name, and a file that still
passes PDF/UA-1 (and PDF/A-3b for the archive) and takes a signature that holds."""

import io
import re

import pikepdf
import pytest

from letters import pdf as letter_pdf
from letters import pdf_parts, signing
from letters.pdf import letter_pdf_html, render_letter_pdf
from tests.letters.test_pdf_in_parts import long_list_letter, people
from tests.letters.test_pdf_standards import validation_failures
from tests.support.pdf import pdftotext, read_pdf

RUN_IN_FROM = 100
COUNT = 130


@pytest.fixture
def run_in_from_100(monkeypatch):
    """Names run-in from 100 lines on, in paragraphs of 20, so that 130 lines print run-in."""
    monkeypatch.setattr(letter_pdf, "RUN_IN_FROM", RUN_IN_FROM)
    monkeypatch.setattr(letter_pdf, "RUN_IN_PARAGRAPH", 20)


# What pdftotext -raw gives at the end of each page besides the letter's flow: the letter's
# bullets' markers, the running title and the footer with the page number.
FURNITURE = re.compile(r"^(•|\d+\.|A joint letter on widgets|.* Page \d+ of \d+)$")


def words(pdf: bytes, tmp_path) -> str:
    """The letter's flow of text, its pages' furniture left out and every run of white space as
    one space: run-in names break across lines, columns and pages wherever those end."""
    lines = pdftotext(pdf, tmp_path).replace("\f", "\n").splitlines()
    return " ".join(" ".join(line for line in lines if not FURNITURE.match(line)).split())


def list_items(pdf: bytes) -> int:
    """How many list items (LI) the PDF's structure tree holds."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return sum(
            1
            for item in document.objects
            if isinstance(item, pikepdf.Dictionary) and item.get("/S") == "/LI"
        )


def test_it_prints_every_name_once_in_order_with_each_group_heading_once(
    db, letterhead, run_in_from_100, tmp_path
) -> None:
    lines = people(COUNT)
    pdf = render_letter_pdf(long_list_letter(), lines)
    text = words(pdf, tmp_path)
    numbers = [int(n) for n in re.findall(r"Member (\d{3})", text)]
    assert numbers == list(range(COUNT))
    # Lines break between any two Japanese characters: compare without white space.
    squeezed = "".join(text.split())
    for line in lines:
        if not line.text.startswith("جمعية"):  # right to left: extracted in reading order or not
            printed = "".join(f"{line.text} \u2013 {line.detail}".split())  # an en dash
            assert squeezed.count(printed) == 1, line.text
    assert text.count("Organizations") == 1 and text.count("Individuals") == 1
    assert text.index("Organizations") < text.index("Member 000")
    assert text.index("Member 064") < text.index("Individuals") < text.index("Member 065")
    assert text.count("Sincerely,") == 1
    assert text.index("Member 129") < text.index("cc: Office") < text.index("See the annex.")


def test_past_the_threshold_the_names_are_not_list_items(db, letterhead, run_in_from_100) -> None:
    letter = long_list_letter()
    html = letter_pdf_html(letter, people(COUNT))
    assert 'class="sig"' not in html
    assert html.count('class="sig-run-in"') == 8  # two groups of 65 names, in paragraphs of 20
    # The letter's own bullets stay list items; the names add none.
    assert list_items(render_letter_pdf(letter, people(COUNT))) < 10


def test_below_the_threshold_each_name_is_a_list_item(db, letterhead, run_in_from_100) -> None:
    letter = long_list_letter()
    html = letter_pdf_html(letter, people(RUN_IN_FROM - 1))
    assert html.count('<li class="sig">') == RUN_IN_FROM - 1
    assert 'class="sig-run-in"' not in html
    assert list_items(render_letter_pdf(letter, people(RUN_IN_FROM - 1))) >= RUN_IN_FROM - 1


@pytest.mark.parametrize(
    ("variant", "profile"), [("pdf/ua-1", "ua1"), ("pdf/a-3b", "3b"), ("pdf/a-3b", "ua1")]
)
def test_the_run_in_list_passes_the_validator(
    db, letterhead, run_in_from_100, tmp_path, variant, profile
) -> None:
    pdf = render_letter_pdf(long_list_letter(), people(COUNT), variant=variant)
    assert validation_failures(pdf, profile, tmp_path) == []


def test_the_archival_file_is_signed_and_the_signature_holds(
    db, letterhead, run_in_from_100, tmp_path
) -> None:
    unsigned = render_letter_pdf(
        long_list_letter(),
        people(COUNT),
        variant=letter_pdf.ARCHIVAL,
        attachments=[letter_pdf.AssociatedFile("list.csv", b"name\nA\n", "The list")],
    )
    signed = signing.sign(unsigned, reason="test", location="test")
    assert signing.check_signature(signed.pdf).holds
    assert validation_failures(signed.pdf, "3b", tmp_path) == []
    assert validation_failures(signed.pdf, "ua1", tmp_path) == []
    assert list(read_pdf(signed.pdf).attachments) == ["list.csv"]


def test_a_run_in_list_past_a_part_is_rendered_in_parts_and_joined(
    db, letterhead, run_in_from_100, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(pdf_parts, "RUN_IN_PART_SIZE", 50)
    calls: list[str] = []
    original = letter_pdf.render_pdf

    def counting(html: str, **options) -> bytes:
        calls.append(html)
        return original(html, **options)

    monkeypatch.setattr(letter_pdf, "render_pdf", counting)
    pdf = render_letter_pdf(long_list_letter(), people(COUNT))
    assert len(calls) == 3  # 130 lines in parts of 50
    assert all("sig-run-in" in html and 'class="sig"' not in html for html in calls)
    text = words(pdf, tmp_path)
    assert [int(n) for n in re.findall(r"Member (\d{3})", text)] == list(range(COUNT))
    assert text.count("Organizations") == 1 and text.count("Individuals") == 1
    count = len(read_pdf(pdf).pages)
    footers = re.findall(r"Page (\d+) of (\d+)", pdftotext(pdf, tmp_path))
    assert footers == [(str(n), str(count)) for n in range(1, count + 1)]
    assert validation_failures(pdf, "ua1", tmp_path) == []
