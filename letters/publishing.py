"""The one way a letter goes live.

A letter becomes public only through the publication service of the sign-on app, which freezes
its signatory list and renders its PDF. Wagtail has doors of its own (the editor's Publish,
scheduled publishing, bulk actions, the API): each of them ends in saving the page as live, so
the guard sits there, in `LetterPage.save`, and reads the letter's `PublicationHold`, which the
app holding the letter back writes through `hold` and `release`. This app never imports that
one: the hold is data, the same for every door.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse
from wagtail.actions.publish_page_revision import PublishPagePermissionError

if TYPE_CHECKING:
    from .models import LetterPage


@dataclass(frozen=True)
class Refusal:
    """Why a letter cannot be published by Wagtail's own doors, and where it can be."""

    message: str
    url: str = ""
    label: str = ""


class PublicationRefused(PublishPagePermissionError):
    """Publishing a letter outside the publication service; a 403 in Wagtail's views."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


# Letters being published by the service right now, in this thread or task.
_through_service: ContextVar[frozenset[int]] = ContextVar("through_service", default=frozenset())


def hold(
    letter: "LetterPage",
    message: str,
    *,
    url_name: str = "",
    url_args: Sequence[int | str] = (),
    label: str = "",
) -> None:
    """Hold a letter back from Wagtail's own doors, saying why and where it is published."""
    from .models import PublicationHold

    PublicationHold.objects.update_or_create(
        letter=letter,
        defaults={
            "message": message,
            "url_name": url_name,
            "url_args": list(url_args),
            "label": label,
        },
    )


def release(letter: "LetterPage") -> None:
    """Let Wagtail's own doors publish the letter again."""
    from .models import PublicationHold

    PublicationHold.objects.filter(letter=letter).delete()


def refusal(letter: "LetterPage") -> Refusal | None:
    """Why Wagtail's own doors may not publish this letter now; None if they may."""
    from .models import PublicationHold

    if letter.pk is None:
        # Being created in the editor: nothing of it (a sign-on, a version) exists to hold it back.
        return None
    if letter.pk in _through_service.get():
        return None
    held = PublicationHold.objects.filter(letter_id=letter.pk).first()
    if held is None:
        return None
    try:
        url = reverse(held.url_name, args=held.url_args) if held.url_name else ""
    except NoReverseMatch:
        url = ""
    return Refusal(message=held.message, url=url, label=held.label if url else "")


@contextmanager
def through_service(letter: "LetterPage") -> Iterator[None]:
    """Publishing from inside the publication service: the gate stands aside for this letter."""
    token = _through_service.set(_through_service.get() | {letter.pk})
    try:
        yield
    finally:
        _through_service.reset(token)


def publishing_through_service(letter: "LetterPage") -> bool:
    return letter.pk in _through_service.get()
