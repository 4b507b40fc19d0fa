"""A published letter's answers, as its page shows them beside its versions.

The app that records what the recipients answered (the sign-on app) hands over those it
published, as plain rows; the LETTER_ANSWERS setting names its function. No setting: no answers.
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import LetterPage


@dataclass(frozen=True)
class PublishedAnswer:
    """One answer as the page prints it."""

    who: str  # "Jane Doe, Minister for Trade (Ministry of Trade)"
    received_on: datetime.date
    text: str = ""
    # The answer as received, a download on this site: its path, what it is and its size.
    file_path: str = ""
    file_kind: str = ""
    file_size: int = 0


def answers_of(letter: "LetterPage") -> list[PublishedAnswer]:
    """The letter's published answers, oldest first; none where no app provides them."""
    provider = getattr(settings, "LETTER_ANSWERS", "")
    if not provider:
        return []
    found: list[PublishedAnswer] = import_string(provider)(letter)
    return found
