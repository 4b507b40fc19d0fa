"""Letters as tests need them: a body with every kind of block, signatory lines, the seed letter
in the interchange format, and what the page editor posts."""

import json
from pathlib import Path

from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from letters.lines import SignatoryLine
from letters.models import LetterPage

SEED_LETTER = Path(__file__).resolve().parents[2] / "signatories" / "demo" / "seed-letter.json"

EVERY_BLOCK = [
    {
        "type": "paragraph",
        "value": '<p>We write with <b>bold</b>, <i>italic</i> and <a href="https://example.org/">a link</a>.</p>',
    },
    {"type": "heading", "value": "A plain heading"},
    {"type": "bullets", "value": ["<p>First bullet</p>", "<p>Second bullet</p>"]},
    {"type": "numbered", "value": ["<p>First numbered</p>", "<p>Second numbered</p>"]},
    {
        "type": "section",
        "value": {
            "heading": "Headed section:",
            "numbered": False,
            "items": ["<p>Section item one</p>", "<p>Section item two</p>"],
        },
    },
]


def seed_document() -> dict:
    """The seed letter in the interchange format (a fresh copy each call)."""
    return json.loads(SEED_LETTER.read_text())


def lines(count: int, *, detail: str = "") -> list[SignatoryLine]:
    return [
        SignatoryLine(text=f"Signatory Association {n:04d}", detail=detail) for n in range(count)
    ]


def edit_form_data(letter: LetterPage, **changes: object) -> dict:
    """What the page editor posts for a letter dated 12 March 2025, with some fields changed."""
    data = {
        "title": letter.title,
        "slug": letter.slug,
        "coalition": "",
        "letter_date": "2025-03-12",
        "dateline": "",
        "recipients": letter.recipients,
        "salutation": letter.salutation,
        "body": streamfield(
            [
                ("paragraph", rich_text("<p>We write about widgets.</p>")),
                ("heading", "Our asks"),
            ]
        ),
        "closing": letter.closing,
        "cc": "",
        "footnotes": "",
        "signatory_order": letter.signatory_order,
        "signatory_style": letter.signatory_style,
        "group_signatories": "on",
        "comments": inline_formset([]),
    }
    data.update(changes)
    return nested_form_data(data)
