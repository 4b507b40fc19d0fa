"""A long list's PDF, rendered in parts and joined: every name once and in order, the pages
numbered on, one structure tree that still passes PDF/UA-1 (and PDF/A-3b for the archive),
and a signature that holds on the joined file."""

import re

import pytest

from letters import pdf as letter_pdf
from letters import pdf_parts, signing
from letters.lines import SignatoryGroup, SignatoryLine
from letters.pdf import render_letter_pdf
from tests.factories import make_letter
from tests.letters.test_pdf_standards import validation_failures
from tests.support.pdf import pdftotext, read_pdf

PART_SIZE = 40

# Names in five scripts, each made unique by the number its signer's line carries.
NAMES = [
    "Fédération des Artisans Réunis",
    "Ένωση Κατασκευαστών Ελλάδας",
    "Союз производителей виджетов",
    "جمعية صانعي الأدوات",
    "日本ウィジェット工業会",
]


def people(count: int) -> list[SignatoryLine]:
    """Signatories in several scripts, in two groups, each with an ASCII line that numbers it."""
    return [
        SignatoryLine(
            text=f"{NAMES[n % len(NAMES)]} {n:03d}",
            detail=f"Member {n:03d}",
            group="Organizations" if n < count // 2 else "Individuals",
        )
        for n in range(count)
    ]


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 40 lines, so that a list of 130 is rendered in four."""
    monkeypatch.setattr(pdf_parts, "PART_SIZE", PART_SIZE)


@pytest.fixture
def rendered(small_parts, monkeypatch):
    """Counts each part render_pdf makes (the second pass: the first only lays out)."""
    calls: list[str] = []
    original = letter_pdf.render_pdf

    def counting(html: str, **options) -> bytes:
        calls.append(html)
        return original(html, **options)

    monkeypatch.setattr(letter_pdf, "render_pdf", counting)
    return calls


def long_list_letter():
    return make_letter(
        slug="long-list",
        group_signatories=True,
        cc="Office of the Trade Representative",
        footnotes="See the annex.",
    )


def test_it_renders_each_part_on_its_own_and_prints_every_name_once_in_order(
    db, letterhead, rendered, tmp_path
) -> None:
    lines = people(130)
    pdf = render_letter_pdf(long_list_letter(), lines)
    assert len(rendered) == 4  # 130 lines in parts of 40
    assert sum("Dear Secretary Doe" in html for html in rendered) == 1
    text = pdftotext(pdf, tmp_path)
    numbers = [int(n) for n in re.findall(r"Member (\d{3})", text)]
    assert numbers == list(range(130))
    for line in lines:
        if not line.text.startswith("جمعية"):  # right to left: extracted in reading order or not
            assert text.count(line.text) == 1, line.text
    # The group headings once each, the closing once, cc and footnotes once and after the list.
    assert text.count("Organizations") == 1 and text.count("Individuals") == 1
    assert text.count("Sincerely,") == 1
    assert text.index("Member 129") < text.index("cc: Office") < text.index("See the annex.")


def test_the_pages_are_numbered_on_across_the_parts(db, letterhead, small_parts, tmp_path) -> None:
    pdf = render_letter_pdf(long_list_letter(), people(130))
    count = len(read_pdf(pdf).pages)
    assert count >= 4
    footers = re.findall(r"Page (\d+) of (\d+)", pdftotext(pdf, tmp_path))
    assert footers == [(str(n), str(count)) for n in range(1, count + 1)]


def test_the_joined_file_has_one_structure_tree(db, letterhead, small_parts) -> None:
    pdf = render_letter_pdf(long_list_letter(), people(130))
    reader = read_pdf(pdf)
    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    (document,) = [tree["/K"]] if not isinstance(tree["/K"], list) else tree["/K"]
    document = document.get_object()
    assert document["/S"] == "/Document"
    keys = [page["/StructParents"] for page in reader.pages]
    assert keys == sorted(set(keys))
    nums = tree["/ParentTree"]["/Nums"]
    assert set(keys) <= set(nums[::2])
    assert tree["/ParentTreeNextKey"] == max(nums[::2]) + 1
    # The list's parts sit one after the other under the one Document element.
    assert [kid.get_object()["/S"] for kid in document["/K"]].count("/Sect") >= 4
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.metadata.title == "A joint letter on widgets"
    # One outline: the letter's heading, then each group's where it begins (part 1 and part 2).
    assert [item.title for item in reader.outline] == ["Our asks", "Organizations", "Individuals"]


@pytest.mark.parametrize(
    ("variant", "profile"), [("pdf/ua-1", "ua1"), ("pdf/a-3b", "3b"), ("pdf/a-3b", "ua1")]
)
def test_the_joined_file_passes_the_validator(
    db, letterhead, small_parts, tmp_path, variant, profile
) -> None:
    pdf = render_letter_pdf(long_list_letter(), people(130), variant=variant)
    assert validation_failures(pdf, profile, tmp_path) == []


def test_the_joined_archival_file_is_signed_and_the_signature_holds(
    db, letterhead, small_parts, tmp_path
) -> None:
    unsigned = render_letter_pdf(
        long_list_letter(),
        people(130),
        variant=letter_pdf.ARCHIVAL,
        attachments=[letter_pdf.AssociatedFile("list.csv", b"name\nA\n", "The list")],
    )
    signed = signing.sign(unsigned, reason="test", location="test")
    assert signed.signer
    assert signed.pdf.startswith(unsigned)  # an incremental update: the joined file as it was
    assert signing.check_signature(signed.pdf).holds
    assert validation_failures(signed.pdf, "3b", tmp_path) == []
    assert validation_failures(signed.pdf, "ua1", tmp_path) == []
    assert list(read_pdf(signed.pdf).attachments) == ["list.csv"]


def test_a_list_within_one_part_is_rendered_in_one_go(db, letterhead, rendered) -> None:
    render_letter_pdf(long_list_letter(), people(PART_SIZE))
    assert len(rendered) == 1


def test_the_parts_cut_groups_and_keep_each_heading_where_its_group_begins() -> None:
    groups = letter_pdf.list_parts(
        [
            SignatoryGroup(heading="A", lines=people(5)),
            SignatoryGroup(heading="B", lines=people(4)),
        ],
        3,
    )
    assert [[(g.heading, len(g.lines)) for g in part] for part in groups] == [
        [("A", 3)],
        [("", 2), ("B", 1)],
        [("", 3)],
    ]


def test_a_stream_whose_data_ends_with_cr_ends_unambiguously_after_the_join() -> None:
    """qpdf writes `data LF endstream`; data ending with CR would read as one byte shorter."""
    import io

    import pikepdf

    source = pikepdf.Pdf.new()
    source.add_blank_page()
    source.pages[0].obj.Contents = source.make_stream(b"q Q\r")
    out = io.BytesIO()
    source.save(out, compress_streams=False)  # the data as it is, ending with CR
    written = out.getvalue()
    assert b"q Q\r\nendstream" in written
    mended = pdf_parts._unambiguous_stream_ends(written)
    assert len(mended) == len(written)  # the cross-reference offsets still hold
    assert b"q Q\r\r\nendstream" in mended
    with pikepdf.open(io.BytesIO(mended)) as reread:
        assert reread.pages[0].obj.Contents.read_raw_bytes() == b"q Q\r"
        assert reread.check_pdf_syntax() == []
