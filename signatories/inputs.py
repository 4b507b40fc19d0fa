"""What signers and staff type, cleaned once: each input is a typed object (or a typed text)
that the forms build and the services trust, under one set of LIMITS. Bad input raises
InvalidInput with a message for every field at once.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NewType, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from coalition.core.validators import bidi_control_problem

from .addresses import email_key
from .errors import SignOnError

LIMITS = {
    "read_in": 12,
    "display_name": 300,
    "signer_name": 200,
    "signer_title": 200,
    "signer_email": 254,
    "comment": 2000,
    "suggestion": 5000,
    "reason": 2000,
    "note": 2000,
    "organization_name": 255,
    "acronym": 50,
    "website": 200,
    "affiliation": 300,
    "person": 200,
    "title": 200,
    "name": 200,
    "email": 254,
    "group": 100,
}
LABELS = {
    "read_in": "The language you read the letter in",
    "display_name": "The name as it will print",
    "signer_name": "Your name",
    "signer_title": "Your title",
    "signer_email": "Your email address",
    "organization_name": "The organization name",
    "person": "Your name",
    "title": "Your title",
    "name": "Your colleague's name",
    "email": "Your colleague's email address",
    "suggestion": "Suggested wording",
}
# Everything below a space but tab; line breaks are allowed only in long texts.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidInput(SignOnError):
    """One or more fields are wrong; `errors` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first = next(iter(errors.items()))
        super().__init__(first, field=first_field)
        self.errors = errors


class _Cleaner:
    """Collects each field's problem, so that the signer hears of all of them at once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def _label(self, name: str) -> str:
        return LABELS.get(name, name.replace("_", " ").capitalize())

    def text(self, name: str, *, required: bool = False, multiline: bool = False) -> str:
        raw = self.data.get(name) or ""
        value = CONTROL_CHARACTERS.sub("", str(raw)).replace("\r\n", "\n")
        if not multiline:
            value = " ".join(value.split())
        value = value.strip()
        if required and not value:
            self.errors[name] = f"{self._label(name)}: this is required."
        elif len(value) > LIMITS[name]:
            self.errors[name] = (
                f"{self._label(name)}: at most {LIMITS[name]} characters (this has {len(value)})."
            )
        elif not multiline and (problem := bidi_control_problem(value)):
            # The one-line fields are names, titles and addresses: what prints or is printed to.
            self.errors[name] = f"{self._label(name)}: {problem}; remove it."
        return value

    def language(self, name: str) -> str:
        """A language of the site's letters by its code, or "" for the letter's own."""
        value = self.text(name)
        if value and value not in settings.CONTENT_LANGUAGES:
            self.errors[name] = f"{self._label(name)}: “{value}” is not a language of this site."
            return ""
        return value

    def email(self, name: str) -> str:
        value = self.text(name, required=True)
        if value and name not in self.errors:
            try:
                validate_email(value)
            except ValidationError:
                self.errors[name] = f"{self._label(name)}: “{value}” is not an email address."
        return value

    def url(self, name: str) -> str:
        value = self.text(name)
        if value and "://" not in value:
            value = f"https://{value}"
        if value and name not in self.errors:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                self.errors[name] = (
                    f"Website: “{value}” is not a web address such as https://example.org."
                )
        return value

    def flag(self, name: str) -> bool:
        return self.data.get(name) in (True, "on", "true", "1", 1)

    def require_flag(self, name: str, message: str) -> bool:
        value = self.flag(name)
        if not value:
            self.errors[name] = message
        return value

    def done(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


@dataclass(frozen=True)
class Signing:
    """An invited person signs for their organization."""

    display_name: str
    signer_name: str
    signer_title: str = ""
    comment: str = ""
    # The translation the signer read (letters.translations); "": the letter as written.
    read_in: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any], *, organization_name: str) -> Self:
        c = _Cleaner(data)
        signing = cls(
            display_name=c.text("display_name", required=True),
            signer_name=c.text("signer_name", required=True),
            signer_title=c.text("signer_title"),
            comment=c.text("comment", multiline=True),
            read_in=c.language("read_in"),
        )
        c.require_flag(
            "authorized",
            f"Confirm that you are authorized to sign on behalf of {organization_name}.",
        )
        c.done()
        return signing


@dataclass(frozen=True)
class PrintedLine:
    """Staff correct how a signature prints: held to the rules of the line a signer types."""

    display_name: str

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        line = cls(display_name=c.text("display_name", required=True))
        c.done()
        return line


@dataclass(frozen=True)
class Declining:
    """An invited person declines for their organization."""

    signer_name: str
    reason: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        declining = cls(
            signer_name=c.text("signer_name", required=True),
            reason=c.text("reason", multiline=True),
        )
        c.done()
        return declining


@dataclass(frozen=True)
class Withdrawing:
    reason: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        withdrawing = cls(reason=c.text("reason", multiline=True))
        c.done()
        return withdrawing


@dataclass(frozen=True)
class Forwarding:
    """An invited person passes the request to a colleague who may sign."""

    name: str
    email: str
    note: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        forwarding = cls(
            name=c.text("name", required=True),
            email=c.email("email"),
            note=c.text("note", multiline=True),
        )
        c.done()
        return forwarding


@dataclass(frozen=True)
class OrganizationRequest:
    """Someone asks, through the open link, for an organization that was not invited to sign."""

    organization_name: str
    display_name: str
    signer_name: str
    signer_title: str
    signer_email: str
    acronym: str = ""
    website: str = ""
    read_in: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        request = cls(
            organization_name=c.text("organization_name", required=True),
            acronym=c.text("acronym"),
            website=c.url("website"),
            display_name=c.text("display_name", required=True),
            signer_name=c.text("signer_name", required=True),
            signer_title=c.text("signer_title", required=True),
            signer_email=c.email("signer_email"),
            read_in=c.language("read_in"),
        )
        if request.organization_name and not any(ch.isalnum() for ch in request.organization_name):
            c.errors["organization_name"] = "The organization name: it needs letters or digits."
        c.require_flag(
            "authorized", "Confirm that you are authorized to sign on behalf of this organization."
        )
        c.done()
        return request

    @property
    def email_key(self) -> str:
        return email_key(self.signer_email)


@dataclass(frozen=True)
class IndividualSigning:
    """A person signs in a personal capacity, through the open link."""

    person: str
    signer_email: str
    title: str = ""
    affiliation: str = ""
    read_in: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any]) -> Self:
        c = _Cleaner(data)
        signing = cls(
            person=c.text("person", required=True),
            title=c.text("title"),
            affiliation=c.text("affiliation"),
            signer_email=c.email("signer_email"),
            read_in=c.language("read_in"),
        )
        if len(signing.printed_line) > LIMITS["display_name"]:
            c.errors["affiliation"] = (
                f"Affiliation: the printed line would be {len(signing.printed_line)} characters; "
                f"at most {LIMITS['display_name']}."
            )
        c.done()
        return signing

    @property
    def printed_line(self) -> str:
        return ", ".join(part for part in (self.person, self.title, self.affiliation) if part)

    @property
    def email_key(self) -> str:
        return email_key(self.signer_email)


# A tag by its name (<b>, </p>, <a href=…>, <!-- …): what a plain-text suggestion must not carry.
MARKUP = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>|<!--")


@dataclass(frozen=True)
class Commenting:
    """A reader of a shared draft comments on a passage, suggests new wording for it, or both.

    The wording is plain text: markup is refused by name rather than stripped, so that what the
    reader sees accepted is what they typed.
    """

    comment: str = ""
    suggestion: str = ""

    @classmethod
    def clean(cls, data: Mapping[str, Any], *, passage: str, paragraphs: bool) -> Self:
        c = _Cleaner(data)
        commenting = cls(
            comment=c.text("comment", multiline=True),
            suggestion=c.text("suggestion", multiline=paragraphs),
        )
        if "suggestion" not in c.errors and commenting.suggestion:
            tag = MARKUP.search(commenting.suggestion)
            if tag is not None:
                name = f"<{tag.group(1).lower()}>" if tag.group(1) else "<!--"
                c.errors["suggestion"] = (
                    f"{LABELS['suggestion']}: plain text only; remove the markup {name}."
                )
            elif problem := bidi_control_problem(commenting.suggestion):
                c.errors["suggestion"] = f"{LABELS['suggestion']}: {problem}; remove it."
            elif " ".join(commenting.suggestion.split()) == " ".join(passage.split()):
                c.errors["suggestion"] = (
                    f"{LABELS['suggestion']}: this is the passage as it reads; change it, or "
                    "leave the box empty to comment only."
                )
        if not commenting.comment and not commenting.suggestion and not c.errors:
            c.errors["comment"] = "Comment: write a comment, or suggest new wording below."
        c.done()
        return commenting


# What staff type: a reason kept in the record or a note to signers and readers (several lines),
# and a line that prints (one line). Only staff_text and staff_line make them, so a service that
# takes one has it cleaned already, by the signer's rules and limits.
StaffText = NewType("StaffText", str)
StaffLine = NewType("StaffLine", str)
NO_TEXT = StaffText("")
NO_LINE = StaffLine("")


def staff_text(value: object, *, name: str, required: str = "") -> StaffText:
    """Several lines as staff typed them; `required` is what to say when there is nothing."""
    c = _Cleaner({name: value})
    text = c.text(name, multiline=True)
    if required and not text and name not in c.errors:
        c.errors[name] = required
    c.done()
    return StaffText(text)


def staff_line(value: object, *, name: str, required: str = "") -> StaffLine:
    """One line as staff typed it (a name, a title, a heading): as a signer's line is held."""
    c = _Cleaner({name: value})
    line = c.text(name)
    if required and not line and name not in c.errors:
        c.errors[name] = required
    c.done()
    return StaffLine(line)
