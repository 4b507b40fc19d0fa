"""The domain errors of the sign-on: each message is fit to show the person who acted."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signatories.models import Signature


class SignOnError(Exception):
    """A change to a sign-on that cannot be made; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TransitionNotAllowed(SignOnError):
    """The object's current status does not allow the change."""


class ResponsesClosed(SignOnError):
    """The sign-on does not take responses: not open yet, closed, past its deadline or cancelled."""


class CommentsClosed(SignOnError):
    """A shared draft no longer takes comments: its text was approved for circulation."""


class InvalidToken(SignOnError):
    """A link token that matches no invitation or signature."""


class AlreadyResponded(SignOnError):
    """The organization already has an active response to this letter."""

    def __init__(self, message: str, *, signature: Signature | None = None) -> None:
        super().__init__(message)
        self.signature = signature


class RateLimited(SignOnError):
    """Too many requests from one address or network in a short time."""

    def __init__(self, message: str, *, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, at most, until the window closes
