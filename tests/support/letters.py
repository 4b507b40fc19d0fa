"""Letters as tests need them: a body with every kind of block, signatory lines, the seed letter
in the interchange format, and what the page editor posts."""

import json
from dataclasses import asdict
from pathlib import Path

from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from letters import publishing
from letters.lines import SignatoryLine
from letters.models import LetterPage, Publication

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


def published_with_lines(letter: LetterPage, lines: list[SignatoryLine]) -> Publication:
    """The letter live with these lines frozen as its first version, made directly: no sign-on,
    no PDF (the page needs neither), as fast for 100,000 lines as for ten."""
    revision = letter.latest_revision or letter.save_revision()
    with publishing.through_service(letter):
        revision.publish()
    letter.refresh_from_db()
    return Publication.objects.create(
        letter=letter, revision=revision, signatories=[asdict(line) for line in lines]
    )


def people(count: int) -> list[SignatoryLine]:
    """Individuals as an open letter lists them: a name and an affiliation each, all different."""
    return [
        SignatoryLine(
            text=f"Person Number {n:06d}",
            group="Individuals",
            detail=f"Researcher, University of Example {n % 997}",
        )
        for n in range(count)
    ]
