"""Each body block as HTML (page and shared letter text) and in the PDF."""

import re

import pytest
from django.template.loader import render_to_string

from letters.blocks import LetterBodyBlock
from letters.pdf import render_letter_pdf
from tests.factories import make_letter
from tests.support.letters import EVERY_BLOCK
from tests.support.pdf import pdftotext

BLOCK_HTML = {
    "paragraph": [
        '<p>We write with <b>bold</b>, <i>italic</i> and <a href="https://example.org/">a link</a>.</p>'
    ],
    "heading": ['<h2 class="letter-heading">A plain heading</h2>'],
    "bullets": [
        '<ul class="letter-list"><li><p>First bullet</p></li><li><p>Second bullet</p></li></ul>'
    ],
    "numbered": [
        '<ol class="letter-list"><li><p>First numbered</p></li><li><p>Second numbered</p></li></ol>'
    ],
    "section": [
        '<section class="letter-section">',
        '<h2 class="letter-heading">Headed section:</h2>',
        '<ul class="letter-list"><li><p>Section item one</p></li><li><p>Section item two</p></li></ul>',
    ],
}
BLOCK_TEXT = {
    "paragraph": ["We write with bold, italic and a link."],
    "heading": ["➤ A plain heading"],
    "bullets": ["First bullet", "Second bullet"],
    "numbered": ["1. First numbered", "2. Second numbered"],
    "section": ["➤ Headed section:", "Section item one", "Section item two"],
}


def squash(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


@pytest.mark.parametrize("block", EVERY_BLOCK, ids=[b["type"] for b in EVERY_BLOCK])
def test_each_block_renders_as_html(block: dict) -> None:
    stream = LetterBodyBlock().to_python([block])
    html = squash(stream[0].render())
    for fragment in BLOCK_HTML[block["type"]]:
        assert fragment in html


def test_a_numbered_section_renders_an_ordered_list() -> None:
    block = {
        "type": "section",
        "value": {"heading": "Asks", "numbered": True, "items": ["<p>One</p>"]},
    }
    html = squash(LetterBodyBlock().to_python([block])[0].render())
    assert '<ol class="letter-list"><li><p>One</p></li></ol>' in html


def test_rich_text_keeps_only_bold_italic_and_links() -> None:
    features = LetterBodyBlock().child_blocks["paragraph"].features
    assert features == ["bold", "italic", "link"]
    assert LetterBodyBlock().child_blocks["section"].child_blocks["items"].child_block.features == [
        "bold",
        "italic",
        "link",
    ]


def test_the_public_page_shows_every_block_in_order(client, letter) -> None:
    html = squash(client.get(letter.url).content.decode())
    positions = [html.index(BLOCK_HTML[b["type"]][0]) for b in EVERY_BLOCK]
    assert positions == sorted(positions)


def test_the_shared_letter_text_renders_from_letter_context(letter) -> None:
    html = squash(render_to_string("letters/includes/letter_text.html", letter.letter_context([])))
    for block in EVERY_BLOCK:
        for fragment in BLOCK_HTML[block["type"]]:
            assert fragment in html
    assert '<p class="letter-salutation">Dear Secretary Doe:</p>' in html
    assert "No signatories yet." in html


@pytest.mark.parametrize("block", EVERY_BLOCK, ids=[b["type"] for b in EVERY_BLOCK])
def test_each_block_prints_in_the_pdf(db, block: dict, tmp_path) -> None:
    letter = make_letter(body=[block], live=False)
    # Not -raw: list markers are drawn after their items, and read beside them only by layout.
    text = pdftotext(render_letter_pdf(letter, []), tmp_path, raw=False)
    body = text[text.index("Dear Secretary Doe:") : text.index("Sincerely,")]
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    for expected in BLOCK_TEXT[block["type"]]:
        assert expected in " ".join(lines)
