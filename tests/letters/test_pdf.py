import hashlib
import re

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from letters.pdf import read_local_url, render_pdf
from signatories.interchange import import_letter
from tests.support.pdf import body, pdftotext

pytestmark = pytest.mark.django_db


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("\u00ad", "").strip()


@pytest.fixture
def seed_pdf(client, seed_document, django_capture_on_commit_callbacks) -> bytes:
    with django_capture_on_commit_callbacks(execute=True):  # the PDF job runs at commit
        letter = import_letter(document=seed_document, publish=True).letter
    response = client.get(f"{letter.url}pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_pdf_reads_like_the_letter(seed_pdf, seed_document, tmp_path):
    text = words(pdftotext(seed_pdf, tmp_path))

    assert "March 12, 2025" in text
    assert words(" ".join(seed_document["recipients"])) in text
    assert "Dear Mr. President:" in text
    for block in seed_document["body"]:
        for part in [block["text"]] if "text" in block else block["items"]:
            # Justified lines may hyphenate long words; compare without hyphens at line ends.
            assert words(part).replace("-", "") in text.replace("- ", "").replace("-", "")
    assert "Sincerely," in text


def test_the_pdf_lists_every_signatory_in_order(seed_pdf, seed_document, tmp_path):
    text = words(pdftotext(seed_pdf, tmp_path))
    expected = [
        s.get("display") or (f"{s['name']} ({s['acronym']})" if "acronym" in s else s["name"])
        for s in seed_document["signatories"]
    ]

    positions = [text.find(name) for name in expected]

    assert -1 not in positions, [n for n, p in zip(expected, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


def test_the_pdf_has_metadata_and_page_numbers(seed_pdf, tmp_path):
    reader = PdfReader(__import__("io").BytesIO(seed_pdf))

    assert reader.metadata["/Title"] == "Joint industry letter on the international AI agenda"
    # A letter published without a sign-on carries its list, and no record.
    assert list(reader.attachments) == ["signatories.json"]
    pages = len(reader.pages)
    assert f"Page 1 of {pages}" in pdftotext(seed_pdf, tmp_path)


def test_the_pdf_is_rendered_once_and_served_from_storage(
    client, seed_document, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        letter = import_letter(document=seed_document, publish=True).letter
    publication = letter.publications.get()

    def no_render(*args, **kwargs):
        raise AssertionError("a published letter's PDF is never rendered for a reader")

    monkeypatch.setattr("letters.pdf.render_pdf", no_render)
    first = body(client.get(f"{letter.url}pdf/"))
    second = body(client.get(f"{letter.url}pdf/"))

    assert first == second
    assert hashlib.sha256(first).hexdigest() == publication.pdf_sha256


def test_the_fetcher_serves_the_bundled_fonts():
    body, ctype = read_local_url(
        "https://pdf.invalid/static/letters/fonts/LiberationSerif-Regular.ttf"
    )

    assert body[:4] == b"\x00\x01\x00\x00"
    assert ctype in {"font/ttf", "application/x-font-ttf", "application/octet-stream"}


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.org/static/letters/site.css",
        "http://169.254.169.254/latest/meta-data/",
        "https://pdf.invalid/static/../../../../etc/passwd",
        "https://pdf.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://pdf.invalid/media/../coalition/settings.py",
        "https://pdf.invalid/etc/passwd",
        "ftp://pdf.invalid/static/letters/site.css",
    ],
)
def test_the_fetcher_refuses_anything_but_local_static_and_media(url):
    with pytest.raises(ValueError, match="blocked"):
        read_local_url(url)


def test_a_render_does_not_embed_or_fetch_foreign_urls(tmp_path):
    html = (
        '<html lang="en"><head><title>t</title></head><body>'
        '<a rel="attachment" href="file:///etc/hostname">x</a>'
        '<img src="file:///etc/hostname"><p>Hello</p></body></html>'
    )

    pdf = render_pdf(html)

    reader = PdfReader(__import__("io").BytesIO(pdf))
    assert len(reader.attachments) == 0
    assert "Hello" in pdftotext(pdf, tmp_path)


def test_publishing_renders_the_pdf_in_the_background(
    client, seed_document, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"  # nothing stored by earlier tests
    letter = import_letter(document=seed_document, publish=True).letter
    # Until the job has run, readers are asked to come back; nothing is rendered for them.
    waiting = client.get(f"{letter.url}pdf/")
    assert waiting.status_code == 503
    assert waiting["Retry-After"]
    with django_capture_on_commit_callbacks(execute=True):
        letter = import_letter(document={**seed_document, "title": "Again"}, publish=True).letter
    _, files = default_storage.listdir("letters/published")
    stored = [name for name in files if name.startswith(letter.slug)]

    served = body(client.get(f"{letter.url}pdf/"))

    assert len(stored) == 1
    with default_storage.open(f"letters/published/{stored[0]}", "rb") as fh:
        assert fh.read() == served


def test_the_seed_letter_prints_on_three_pages_like_the_original(seed_pdf, tmp_path):
    """Only the closing line keeps with the last paragraph; the list begins on its page."""
    reader = PdfReader(__import__("io").BytesIO(seed_pdf))
    assert len(reader.pages) == 3
    last = words(pdftotext(seed_pdf, tmp_path).split("\f")[2])
    assert "We, the undersigned organizations" in last
    assert "Sincerely," in last
    assert last.index("Sincerely,") < last.index("ACT | The App Association")


@pytest.mark.parametrize(
    ("footnotes", "numbered"),
    [
        # The letter's own markers print as typed, not numbered a second time ("1. *").
        (["* Steering committee members.", "† Joined after the deadline."], False),
        # Plain notes are numbered.
        (["Steering committee members.", "Joined after the deadline."], True),
    ],
)
def test_footnotes_print_with_the_markers_the_letter_has(
    client, seed_document, django_capture_on_commit_callbacks, tmp_path, footnotes, numbered
):
    with django_capture_on_commit_callbacks(execute=True):
        letter = import_letter(
            document={**seed_document, "footnotes": footnotes}, publish=True
        ).letter
    text = words(pdftotext(body(client.get(f"{letter.url}pdf/")), tmp_path))
    notes = text[text.index("Steering committee") - 2 :]
    assert footnotes[0] in notes and footnotes[1] in notes
    assert ("1. 2." in notes) is numbered
    page = client.get(letter.url).content.decode()
    assert ('class="letter-footnotes marked"' in page) is not numbered


def test_the_demos_seed_letter_with_logos_prints_on_three_pages_too(
    client, seed_document, django_capture_on_commit_callbacks, tmp_path
):
    """Logos make a line no taller than a name does: the list still ends on page 3."""
    from signatories.management.commands.load_demo import Command

    demo = Command()
    with django_capture_on_commit_callbacks(execute=True):
        demo.letterhead()  # the demo's letterhead: its logo, address and footer
        letter = demo.publish_seed(seed_document)
    pdf = body(client.get(f"{letter.url}pdf/"))
    assert "sig-logo" in client.get(letter.url).content.decode()  # it does print logos
    assert len(PdfReader(__import__("io").BytesIO(pdf)).pages) == 3
    assert "(USCIB)" in words(pdftotext(pdf, tmp_path).split("\f")[2])
