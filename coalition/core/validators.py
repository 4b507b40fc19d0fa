"""Checks on what people type that every app applies the same way."""

import re
import unicodedata

from django.core.exceptions import ValidationError

# The bidirectional embeddings, overrides and isolates: each opens a run that is laid out in a
# direction of its own until its closing character, so that "Widget\u202eOrg" shows as "WidgetgrO"
# and a name on a letter or in a list reads as something it is not. Nobody needs them in a name:
# browsers, PDFs and spreadsheets lay out mixed Arabic, Hebrew and Latin text by themselves.
#
# The marks (U+200E LEFT-TO-RIGHT MARK, U+200F RIGHT-TO-LEFT MARK, U+061C ARABIC LETTER MARK) stay
# allowed: right-to-left keyboards type them, and a name such as "جمعية ABC (الأردن)" needs one
# to put its brackets and digits where the writer sees them. A mark is one invisible strong letter:
# it can move the punctuation beside it, but it reverses no word and hides no letter.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def bidi_control_problem(value: str) -> str | None:
    """What is wrong with a name that holds a bidirectional control character; None if nothing."""
    found = BIDI_CONTROLS.search(value)
    if found is None:
        return None
    character = found.group()
    return (
        f"contains U+{ord(character):04X} {unicodedata.name(character)}, which can make a name "
        "read differently from what it is"
    )


def validate_no_bidi_controls(value: object) -> None:
    """A model or form field validator for names and the forms they print in."""
    if not isinstance(value, str):
        return
    problem = bidi_control_problem(value)
    if problem is not None:
        raise ValidationError(f"This {problem}: remove it.", code="bidi_control")
