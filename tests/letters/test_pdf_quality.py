"""The letter PDF: letterhead and paper, metadata and tags, PDF/A, columns, breaks, storage."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from letters.lines import SignatoryLine, signatory_columns
from letters.models import Letterhead, LetterPage
from letters.pdf import (
    letter_pdf_html,
    read_local_url,
    render_letter_pdf,
    render_pdf,
    stored_letter_pdf,
    stored_pdf_name,
)
from tests.factories import make_letter, publish
from tests.support.letters import EVERY_BLOCK, lines
from tests.support.pdf import pdftotext, read_pdf


def fresh(letter: LetterPage) -> LetterPage:
    """The letter again, so that its cached letterhead is read anew."""
    return LetterPage.objects.get(pk=letter.pk)


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, in content-stream order."""
    source = tmp_path / "pages.pdf"
    source.write_bytes(pdf)
    count = len(read_pdf(pdf).pages)
    return [
        subprocess.run(
            ["pdftotext", "-raw", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(source), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    ("paper_size", "width", "height"),
    [(Letterhead.PaperSize.LETTER, 612, 792), (Letterhead.PaperSize.A4, 595.28, 841.89)],
)
def test_it_prints_on_the_letterhead_paper_size(
    letter, letterhead, paper_size, width, height
) -> None:
    letterhead.paper_size = paper_size
    letterhead.save()
    reader = read_pdf(render_letter_pdf(fresh(letter), lines(40)))
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(width, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(height, abs=0.5)


def test_it_prints_every_letterhead_field(letter, letterhead, logo, tmp_path) -> None:
    letterhead.logo = logo
    letterhead.date_format = Letterhead.DateFormat.INTERNATIONAL
    letterhead.save()
    letter = fresh(letter)
    pdf = render_letter_pdf(letter, lines(3))
    text = pdftotext(pdf, tmp_path)
    assert "Widget Trade Coalition" in text
    assert "1 Widget Way · Washington, DC 20001" in text
    assert "widgetcoalition.example · +1 202 555 0100" in text
    assert "12 March 2025" in text
    images = [
        obj
        for page in read_pdf(pdf).pages
        for obj in page["/Resources"].get("/XObject", {}).values()
        if obj.get_object()["/Subtype"] == "/Image"
    ]
    assert images, "the letterhead logo is printed"


def test_the_web_page_uses_every_letterhead_field(client, letter, letterhead, logo) -> None:
    letterhead.logo = logo
    letterhead.save()
    html = client.get(letter.url).content.decode()
    assert '<div class="letterhead-name">Widget Trade Coalition</div>' in html
    assert "1 Widget Way · Washington, DC 20001" in html
    assert "widgetcoalition.example · +1 202 555 0100" in html
    assert re.search(r'<img class="letterhead-logo" src="/media/images/logo[^"]*\.png"', html)
    assert "March 12, 2025" in html


@pytest.mark.parametrize(
    ("date_format", "printed"),
    [
        (Letterhead.DateFormat.US, "March 12, 2025"),
        (Letterhead.DateFormat.INTERNATIONAL, "12 March 2025"),
    ],
)
def test_it_prints_the_date_in_the_letterhead_format(
    letter, letterhead, date_format, printed
) -> None:
    letterhead.date_format = date_format
    letterhead.save()
    html = letter_pdf_html(fresh(letter), [])
    assert f'<time datetime="2025-03-12">{printed}</time>' in html


def test_a_dateline_prints_as_written(letter) -> None:
    letter.dateline = "Brussels, 12 March 2025"
    assert '<p class="letter-date">Brussels, 12 March 2025</p>' in letter_pdf_html(letter, [])


def test_it_carries_title_language_and_author(letter, letterhead) -> None:
    reader = read_pdf(render_letter_pdf(fresh(letter), lines(2)))
    assert reader.metadata["/Title"] == "A joint letter on widgets"
    assert reader.metadata["/Author"] == "Widget Trade Coalition"
    assert str(reader.trailer["/Root"]["/Lang"]) == letter.language_code


def test_it_is_tagged_for_accessibility(letter) -> None:
    pdf = render_letter_pdf(letter, lines(2))
    root = read_pdf(pdf).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()


def test_it_renders_as_pdf_a_3b_for_archiving(letter, tmp_path) -> None:
    pdf = render_letter_pdf(letter, lines(20), variant="pdf/a-3b")
    reader = read_pdf(pdf)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp
    assert b'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert len(reader.attachments) == 0
    assert "Signatory Association 0019" in pdftotext(pdf, tmp_path)


def test_an_unknown_variant_is_refused(letter) -> None:
    with pytest.raises(ValueError, match="unknown PDF variant 'pdf/x-1a'"):
        render_letter_pdf(letter, [], variant="pdf/x-1a")


def test_it_numbers_pages_n_of_m(letter, tmp_path) -> None:
    pdf = render_letter_pdf(letter, lines(300))
    count = len(read_pdf(pdf).pages)
    assert count > 2
    pages = page_texts(pdf, tmp_path)
    for n, text in enumerate(pages, start=1):
        assert f"Page {n} of {count}" in text
    assert "A joint letter on widgets" not in pages[0].split("Dear")[0]
    assert "A joint letter on widgets" in pages[1]


def test_long_signatory_lists_flow_into_columns_without_grid_or_flex(letter) -> None:
    html = letter_pdf_html(letter, lines(40))
    assert '<ol class="signatory-list cols-2">' in html
    css = html.split("<style>")[1].split("</style>")[0]
    assert not re.search(r"display:\s*(inline-)?(grid|flex)", css)
    assert ".signatory-list.cols-2 { columns: 2; }" in css
    assert ".sig { break-inside: avoid;" in css
    assert '<ol class="signatory-list cols-1">' in letter_pdf_html(letter, lines(5))


def test_column_count_follows_the_list() -> None:
    assert signatory_columns(lines(12)) == 1
    assert signatory_columns(lines(13)) == 2
    assert signatory_columns(lines(61)) == 3
    assert (
        signatory_columns(lines(61, detail="Jane Doe, Senior Vice President, Government Affairs"))
        == 2
    )


def test_signatory_lines_are_never_split_across_pages(letter, tmp_path) -> None:
    many = [
        SignatoryLine(text=f"Signatory Association {n:04d}", detail=f"Signer {n:04d}, President")
        for n in range(240)
    ]
    pdf = render_letter_pdf(letter, many)
    pages = page_texts(pdf, tmp_path)
    assert len(pages) > 2
    for text in pages:
        names = set(re.findall(r"Signatory Association (\d{4})", text))
        signers = set(re.findall(r"Signer (\d{4}), President", text))
        assert names == signers
    assert sum(len(re.findall(r"Signatory Association \d{4}", t)) for t in pages) == 240


def test_headings_stay_with_what_follows(db, tmp_path) -> None:
    # One-line filler paragraphs, one more after each heading (modulo 7), move the headings
    # down a line at a time, so that several fall on the last line of a page, where without
    # "keep with next" they would be parted from what follows (checked: they are, when the
    # heading is printed as a plain paragraph).
    body = []
    for n in range(60):
        if n % 3 == 0:
            body.append({"type": "heading", "value": f"Heading {n:02d}"})
            body.append({"type": "paragraph", "value": f"<p>Item {n:02d}</p>"})
        elif n % 3 == 1:  # a heading block followed by a list, as imported
            body.append({"type": "heading", "value": f"Heading {n:02d}"})
            body.append({"type": "bullets", "value": [f"<p>Item {n:02d}</p>"]})
        else:
            section = {
                "heading": f"Heading {n:02d}",
                "numbered": False,
                "items": [f"<p>Item {n:02d}</p>"],
            }
            body.append({"type": "section", "value": section})
        body.extend({"type": "paragraph", "value": "<p>Filler.</p>"} for _ in range(1 + n % 7))
    letter = make_letter(body=body, slug="long-letter")
    pages = page_texts(render_letter_pdf(letter, []), tmp_path)
    assert len(pages) > 5
    for n in range(60):
        heading_page = next(i for i, t in enumerate(pages) if f"Heading {n:02d}" in t)
        item_page = next(i for i, t in enumerate(pages) if f"Item {n:02d}" in t)
        assert heading_page == item_page, f"Heading {n:02d} is parted from what follows"


def test_it_is_rendered_once_and_then_served_from_storage(letter) -> None:
    signatories = lines(3)
    first = stored_letter_pdf(letter, signatories)
    name = stored_pdf_name(letter, signatories)
    assert default_storage.exists(name)
    with default_storage.open(name, "wb") as fh:
        fh.write(b"%PDF-stored")  # proves the next call reads storage instead of rendering
    assert stored_letter_pdf(letter, signatories) == b"%PDF-stored"
    assert first.startswith(b"%PDF-")


def test_a_new_signatory_list_or_text_renders_a_new_file(letter) -> None:
    name = stored_pdf_name(letter, lines(3))
    assert stored_pdf_name(letter, lines(3)) == name
    assert stored_pdf_name(letter, lines(4)) != name
    letter.salutation = "Dear Secretary Roe:"
    assert stored_pdf_name(letter, lines(3)) != name
    assert stored_pdf_name(letter, lines(3), variant="pdf/a-3b").endswith("-pdfa.pdf")


def test_the_public_pdf_is_served_for_live_letters_only(
    client, db, django_capture_on_commit_callbacks
) -> None:
    letter = make_letter(live=False, body=EVERY_BLOCK)
    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)
    response = client.get(f"{letter.url}pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    draft = make_letter(live=False, slug="draft-letter", title="A draft")
    assert client.get(f"/letters/{draft.slug}/pdf/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "http://169.254.169.254/latest/meta-data/",
        "https://pdf.invalid/static/../../etc/passwd",
        "https://example.org/static/letters/site.css",
    ],
)
def test_the_fetcher_reads_nothing_but_our_own_files(url: str) -> None:
    with pytest.raises(ValueError, match="blocked URL"):
        read_local_url(url)


def test_a_remote_image_is_not_fetched_and_the_render_carries_on(letter) -> None:
    html = render_to_string("letters/letter_pdf.html", letter.letter_context([])).replace(
        "</body>", '<img src="http://169.254.169.254/x.png" alt=""></body>'
    )
    assert render_pdf(html).startswith(b"%PDF-")
