"""Reading the cells of a row: each value checked and made what the database stores.

A cell's problem is added to the row's list, and the rest of the row is read all the same.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from coalition.crm.models import Coalition, Membership, Organization

from .base import FALSE, ORGANIZATION_COLUMNS, TRUE

BOOLEAN_ORGANIZATION_COLUMNS = {"public_page"}
# The columns that print on letters or name someone: no bidirectional controls in them.
NAME_COLUMNS = ("name", "acronym", "display", "contact_name", "contact_title")
# "Digital Trade Coalition (steering)", as the organizations export writes a membership.
WITH_TIER = re.compile(r"^(?P<name>.*?)\s*\((?P<tier>[^()]*)\)$")
#: A contact's yes-or-no columns, with the contact's field each one sets.
CONTACT_FLAGS = (
    ("authorized_signer", "is_authorized_signer"),
    ("primary_contact", "is_primary"),
    ("email_opt_out", "email_opt_out"),
)

#: A coalition the "coalitions" cell names, with the tier and the day joined it gives.
NamedMembership = tuple[Coalition, str, datetime.date | None]


def choice(value: str, choices: list[tuple[str, str]], column: str, number: int) -> str:
    wanted = value.strip().lower()
    for key, label in choices:
        if wanted in (key, str(label).lower()):
            return key
    allowed = ", ".join(str(label).lower() for _, label in choices)
    raise ValidationError(f"Row {number}: {column} “{value}” is not one of: {allowed}.")


def boolean(value: str, column: str, number: int) -> bool | None:
    wanted = value.strip().lower()
    if wanted in TRUE:
        return True
    if wanted in FALSE:
        return None if wanted == "" else False
    raise ValidationError(f"Row {number}: {column} “{value}” should be yes or no.")


def organization_fields(
    number: int, row: dict[str, str], problems: list[str]
) -> dict[str, str | bool]:
    """The organization's columns a row fills, as the database stores them (tags aside)."""
    fields: dict[str, str | bool] = {}
    for column in ORGANIZATION_COLUMNS:
        value = row.get(column, "").strip()
        if not value or column == "tags":
            continue
        try:
            if column in BOOLEAN_ORGANIZATION_COLUMNS:
                flag = boolean(value, column, number)
                if flag is not None:
                    fields[column] = flag
                continue
            fields[column] = _organization_value(column, value, row, number)
        except ValidationError as error:
            problems.extend(error.messages)
    return fields


def _organization_value(column: str, value: str, row: dict[str, str], number: int) -> str:
    if column == "kind":
        value = choice(value, Organization.Kind.choices, column, number)
    elif column == "status":
        value = choice(value, Organization.Status.choices, column, number)
    elif column == "country":
        if len(value) != 2 or not value.isalpha():
            raise ValidationError(
                f"Row {number}: country “{value}” should be a two-letter ISO code, like US."
            )
        value = value.upper()
    elif column == "website":
        if "://" not in value:
            value = f"https://{value}"
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise ValidationError(
                f"Row {number}: website “{row[column]}” is not a web address."
            ) from None
    limit = Organization._meta.get_field(column).max_length
    if limit and len(value) > limit:
        raise ValidationError(f"Row {number}: {column} is longer than {limit} characters.")
    return value


def contact_fields(number: int, row: dict[str, str], problems: list[str]) -> dict[str, str | bool]:
    """The contact's fields a row fills, but its address."""
    fields: dict[str, str | bool] = {}
    contact_name = row.get("contact_name", "").strip()
    if contact_name:
        fields["name"] = contact_name
    for column, attribute in (("contact_title", "title"), ("contact_phone", "phone")):
        if row.get(column, "").strip():
            fields[attribute] = row[column].strip()
    for column, attribute in CONTACT_FLAGS:
        try:
            value = boolean(row.get(column, ""), column, number)
        except ValidationError as error:
            problems.extend(error.messages)
            continue
        if value is not None:
            fields[attribute] = value
    return fields


def read_coalitions(
    number: int, cell: str, coalitions: dict[str, Coalition], problems: list[str]
) -> list[NamedMembership] | None:
    """The memberships a "coalitions" cell lists, or None after reporting what is wrong.

    Items are "Name (tier; joined 2021-03-01)", "Name (tier)" or "Name", separated by
    commas; a coalition's name may itself hold a comma, so the longest run of items that
    names a coalition is taken.
    """
    pieces = cell.split(",")
    found: list[NamedMembership] = []
    ok = True
    start = 0
    while start < len(pieces):
        if not pieces[start].strip():
            start += 1
            continue
        named = _longest_coalition(pieces, start, coalitions)
        if named is None:
            text = pieces[start].strip()
            with_tier = WITH_TIER.match(text)
            unknown = with_tier["name"] if with_tier is not None else text
            problems.append(f"Row {number}: coalition “{unknown}” does not exist.")
            ok = False
            start += 1
            continue
        coalition, tier_text, start = named
        membership = _membership_of(number, coalition, tier_text, problems)
        if membership is None:
            ok = False
        else:
            found.append(membership)
    return found if ok else None


def _longest_coalition(
    pieces: list[str], start: int, coalitions: dict[str, Coalition]
) -> tuple[Coalition, str, int] | None:
    """The coalition named by the longest run of pieces from `start`: it, what its parentheses
    say ("lead; joined 2021-03-01"), and where the next item begins."""
    for end in range(len(pieces), start, -1):
        text = ",".join(pieces[start:end]).strip()
        coalition = coalitions.get(text.lower())
        if coalition is not None:
            return coalition, "", end
        named = WITH_TIER.match(text)
        if named is not None:
            coalition = coalitions.get(named["name"].lower())
            if coalition is not None:
                return coalition, named["tier"], end
    return None


def _membership_of(
    number: int, coalition: Coalition, tier_text: str, problems: list[str]
) -> NamedMembership | None:
    """The tier and the day joined in "(lead; joined 2021-03-01)", or None after reporting."""
    ok = True
    tier = Membership.Tier.MEMBER.value
    tier_text, _, joined_text = tier_text.partition(";")
    tier_text, joined_text = tier_text.strip(), joined_text.strip()
    joined_on = None
    if joined_text:
        try:
            joined_on = datetime.date.fromisoformat(joined_text.removeprefix("joined "))
        except ValueError:
            problems.append(
                f"Row {number}: “{joined_text}” in coalitions, for {coalition.name}, "
                "should read “joined” and a date like 2024-05-31."
            )
            ok = False
    if tier_text:
        try:
            tier = choice(tier_text, Membership.Tier.choices, "tier", number)
        except ValidationError as error:
            problems.extend(
                f"{m[:-1]} (in coalitions, for {coalition.name})." for m in error.messages
            )
            ok = False
    return (coalition, tier, joined_on) if ok else None
