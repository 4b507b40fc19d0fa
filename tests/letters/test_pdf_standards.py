"""Standard PDFs: PDF/UA-1 for the published letter, PDF/A-3b for the archive, checked by a
validator; running heads and page numbers as artifacts; the closing kept with the letter."""

import json
import re
from pathlib import Path

import page
import pytest
from pypdf import PageObject
from pypdf.generic import DictionaryObject, IndirectObject

from letters.lines import SignatoryLine
from letters.models import LetterPage
from letters.pdf import render_letter_pdf, render_pdf
from signatories.interchange import import_letter
from tests.factories import make_letter
from tests.letters.test_pdf_quality import fresh, page_texts
from tests.support.letters import lines
from tests.support.pdf import read_pdf

# (WeasyPrint's variant, page-validation's profile)
# The archival variant, which every published version uses, is both standards in one file.
STANDARDS = [("pdf/ua-1", "ua1"), ("pdf/a-3b", "3b"), ("pdf/a-3b", "ua1")]


def validation_failures(pdf: bytes, profile: str, tmp_path: Path) -> list[str]:
    """Every rule the PDF fails under the profile, as "RULE-ID: message"."""
    path = tmp_path / f"letter-{profile}.pdf"
    path.write_bytes(pdf)
    report = page.validate_pdf(str(path), profile=profile)
    failures = json.loads(report.to_json())["failures"]
    listed = [f"{f['rule_id']}: {f['message']}" for f in failures]
    if not report.is_compliant and not listed:
        listed = ["not compliant, with no rule named"]
    return listed


def long_letter(**fields) -> LetterPage:
    """A letter that uses every block, over several pages, with a cc and footnotes."""
    paragraph = (
        "<p>The undersigned organizations write about <b>widgets</b>, their <i>trade</i> and "
        'the <a href="https://example.org/">rules</a> that govern them. '
        + "We ask for clear, predictable and proportionate rules. " * 6
        + "</p>"
    )
    body: list[dict] = [{"type": "paragraph", "value": paragraph}]
    for n in range(3):
        body += [
            {"type": "heading", "value": f"Our asks, part {n + 1}"},
            {"type": "paragraph", "value": paragraph},
            {"type": "bullets", "value": [paragraph, "<p>A short bullet.</p>"]},
            {"type": "numbered", "value": ["<p>First numbered.</p>", paragraph]},
            {
                "type": "section",
                "value": {
                    "heading": f"Headed section {n + 1}:",
                    "numbered": n % 2 == 1,
                    "items": [paragraph, "<p>Second item.</p><p>Its second paragraph.</p>"],
                },
            },
        ]
    body.append({"type": "paragraph", "value": paragraph})
    return make_letter(
        slug="long-letter",
        body=body,
        cc="Office of the Trade Representative\nDepartment of Widgets",
        footnotes="See the annex.\nFigures from the 2024 widget census.",
        **fields,
    )


def signatories(count: int, logo_url: str = "") -> list[SignatoryLine]:
    """Signatories in two groups, with signers: group headings, two columns, many pages."""
    return [
        SignatoryLine(
            text=f"Signatory Association {n:04d}",
            detail=f"Signer {n:04d}, President",
            group="Associations" if n < count // 2 else "Companies",
            logo_url=logo_url,
        )
        for n in range(count)
    ]


# -- The validator --------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "profile"), STANDARDS)
def test_the_seed_letter_passes_its_standard(
    db, seed_document, variant: str, profile: str, tmp_path
) -> None:
    letter = import_letter(document=seed_document).letter
    # With an entry of its own in the document info, as publication gives it the sign-on record.
    metadata = {"sign-on-record": f"14 events, last HMAC-SHA256 {'ab' * 32}"}
    pdf = render_letter_pdf(letter, letter.signatory_lines(), variant=variant, metadata=metadata)
    failures = validation_failures(pdf, profile, tmp_path)
    assert not failures, f"{variant} fails:\n" + "\n".join(failures)


@pytest.mark.parametrize(("variant", "profile"), STANDARDS)
def test_a_long_letter_passes_its_standard(
    db, letterhead, logo, variant: str, profile: str, tmp_path
) -> None:
    letterhead.logo = logo
    letterhead.save()
    letter = fresh(long_letter(show_logos=True))
    pdf = render_letter_pdf(letter, signatories(300, logo_url=logo.file.url), variant=variant)
    assert len(read_pdf(pdf).pages) > 5
    failures = validation_failures(pdf, profile, tmp_path)
    assert not failures, f"{variant} fails:\n" + "\n".join(failures)


# -- Running heads and page numbers ------------------------------------------------------------


def marked_text(pdf_page: PageObject) -> list[tuple[str, int | None, str]]:
    """Each piece of a page's text with the marked content around it: (tag, MCID, text)."""
    stack: list[tuple[str, int | None]] = []
    pieces: list[tuple[str, int | None, str]] = []

    def operator(op: bytes, args: list, cm: list, tm: list) -> None:
        if op in (b"BDC", b"BMC"):
            properties = args[1] if op == b"BDC" else None
            mcid = properties.get("/MCID") if isinstance(properties, dict) else None
            stack.append((str(args[0]), mcid))
        elif op == b"EMC":
            stack.pop()

    def text(value: str, cm: list, tm: list, font: object, size: float) -> None:
        if value.strip():
            tag, mcid = stack[-1] if stack else ("", None)
            pieces.append((tag, mcid, value.strip()))

    pdf_page.extract_text(visitor_operand_before=operator, visitor_text=text)
    return pieces


def structure_mcids(pdf: bytes) -> dict[int, set[int]]:
    """Per page index, the MCIDs that the structure tree (from its root) claims."""
    reader = read_pdf(pdf)
    pages = {p.indirect_reference.idnum: n for n, p in enumerate(reader.pages)}
    claimed: dict[int, set[int]] = {n: set() for n in pages.values()}
    todo = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        element = todo.pop()
        kids = element.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        page_ref = element.get("/Pg")
        for kid in kids:
            if isinstance(kid, IndirectObject):
                kid = kid.get_object()
            if isinstance(kid, int):
                claimed[pages[page_ref.idnum]].add(kid)
            elif isinstance(kid, DictionaryObject):
                if kid.get("/Type") == "/MCR":
                    claimed[pages[kid.get("/Pg", page_ref).idnum]].add(kid["/MCID"])
                else:
                    todo.append(kid)
    return claimed


def test_running_heads_and_page_numbers_are_artifacts(db, letterhead, tmp_path) -> None:
    letter = fresh(long_letter())
    pdf = render_letter_pdf(letter, signatories(120))
    pages = [marked_text(pdf_page) for pdf_page in read_pdf(pdf).pages]
    claimed = structure_mcids(pdf)
    count = len(pages)
    assert count > 3
    furniture = {"A joint letter on widgets", "widgetcoalition.example · +1 202 555 0100"}
    for n, pieces in enumerate(pages):
        found = {text for tag, mcid, text in pieces if text in furniture}
        found |= {text for tag, mcid, text in pieces if re.fullmatch(r"Page \d+ of \d+", text)}
        expected = {f"Page {n + 1} of {count}", "widgetcoalition.example · +1 202 555 0100"}
        if n > 0:
            expected.add("A joint letter on widgets")
        assert found == expected, f"page {n + 1}"
        for tag, mcid, text in pieces:
            if text in found:
                assert (tag, mcid) == ("/Artifact", None), f"{text!r} on page {n + 1} is content"
            else:
                assert mcid in claimed[n], f"{text!r} on page {n + 1} is outside the structure"


# -- The closing ----------------------------------------------------------------------------------


def letter_of(paragraphs: int, slug: str) -> LetterPage:
    body = [{"type": "paragraph", "value": f"<p>Paragraph {n:02d}.</p>"} for n in range(paragraphs)]
    return make_letter(slug=slug, body=body, dateline="")


def body_lines(page_text: str) -> list[str]:
    """A page's lines of text, without its running title and page number."""
    lines = [line.strip() for line in page_text.splitlines()]
    return [
        line
        for line in lines
        if line
        and line != "A joint letter on widgets"
        and not re.fullmatch(r"Page \d+ of \d+", line)
    ]


def test_the_closing_never_stands_alone_at_the_top_of_a_page(db, tmp_path) -> None:
    # One-line paragraphs move the closing down a line at a time. Find how many fit on the first
    # page, then try the lengths around it: without "keep with the paragraph before", one of them
    # sends "Sincerely," (with the signatories it keeps with) alone to the top of the next page.
    probe = page_texts(render_letter_pdf(letter_of(60, "probe"), []), tmp_path)
    fit = len(re.findall(r"Paragraph \d\d\.", probe[0]))
    assert 10 < fit < 60
    turned = 0
    for paragraphs in range(fit - 3, fit + 1):
        letter = letter_of(paragraphs, f"closing-{paragraphs}")
        pages = [body_lines(t) for t in page_texts(render_letter_pdf(letter, lines(4)), tmp_path)]
        on = next(n for n, page_lines in enumerate(pages) if "Sincerely," in page_lines)
        turned += on > 0
        before = pages[on][: pages[on].index("Sincerely,")]
        assert any(line.startswith("Paragraph") for line in before), (
            f"with {paragraphs} paragraphs, page {on + 1} opens with the closing"
        )
    assert turned, "the closing never reached a second page: the test proved nothing"


# -- Stream ends -----------------------------------------------------------------------------


def stream_data(pdf: bytes) -> list[tuple[bytes, bytes]]:
    """Each stream's data as its /Length counts it, with the bytes that follow it up to `endstream`."""
    streams = []
    for match in re.finditer(rb"/Length (\d+)>>\nstream\n", pdf):
        start = match.end()
        end = start + int(match.group(1))
        streams.append((pdf[start:end], pdf[end : pdf.index(b"endstream", end)]))
    return streams


def test_a_stream_whose_data_ends_with_a_carriage_return_keeps_its_length(tmp_path) -> None:
    """About one compressed stream in twenty-five ends with CR; pydyf's LF after it made CR LF,
    and validators read the /Length as one byte too long. A short letter that makes such a stream
    is found by trying a few, and passes PDF/A-3b with the stream ending CR, CR LF."""
    for n in range(300):
        html = (
            f'<html lang="en"><title>Letter {n}</title><p>Letter number {n} of the coalition.</p>'
        )
        pdf = render_pdf(html, variant="pdf/a-3b")
        streams = stream_data(pdf)
        if any(data.endswith(b"\r") for data, _ in streams):
            break
    else:
        pytest.fail("no letter among 300 made a stream whose data ends with CR")
    # The object stream and the cross-reference stream, written last, are among them.
    assert len(streams) == pdf.count(b"endstream")
    for data, after in streams:
        assert after == (b"\r\n" if data.endswith(b"\r") else b"\n")
    assert validation_failures(pdf, "3b", tmp_path) == []
