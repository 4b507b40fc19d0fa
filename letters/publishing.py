"""The one way a letter goes live.

A letter becomes public only through the publication service of the sign-on app, which freezes
its signatory list and renders its PDF. Wagtail has doors of its own (the editor's Publish,
scheduled publishing, bulk actions, the API): each of them ends in saving the page as live, so
the guard sits there, in `LetterPage.save`, and asks the gate the sign-on app registers here.
This app never imports that one: it only knows the gate's shape.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


Gate = Callable[["LetterPage"], Refusal | None]
_gates: list[Gate] = []
# Letters being published by the service right now, in this thread or task.
_through_service: ContextVar[frozenset[int]] = ContextVar("through_service", default=frozenset())


def register_gate(gate: Gate) -> None:
    """Let an app refuse Wagtail's own publishing of a letter (the sign-on app does)."""
    if gate not in _gates:
        _gates.append(gate)


def refusal(letter: "LetterPage") -> Refusal | None:
    """Why Wagtail's own doors may not publish this letter now; None if they may."""
    if letter.pk is None:
        # Being created in the editor: nothing of it (a sign-on, a version) exists to hold it back.
        return None
    if letter.pk in _through_service.get():
        return None
    for gate in _gates:
        found = gate(letter)
        if found is not None:
            return found
    return None


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
