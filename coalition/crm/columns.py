"""The members file's columns, defined once: what the import reads and what the exports write.

The organizations and contacts exports import as they are (tests/coalition/test_round_trip.py),
so each column an export writes is defined here by the import's column it reads back as: an
export cannot gain a column the import does not know, and the import's names for the exports'
headings follow from the headings themselves.
"""

import enum
from dataclasses import dataclass


class Part(enum.Enum):
    """What a column describes: the organization, one of its contacts or memberships, or
    something the database computes (read past by the import, never written)."""

    ORGANIZATION = "organization"
    CONTACT = "contact"
    MEMBERSHIP = "membership"
    COMPUTED = "computed"


@dataclass(frozen=True)
class Column:
    """A column of the members file, by the name the import reads it under."""

    name: str
    part: Part

    @property
    def heading(self) -> str:
        """How the organizations export heads it: "sort_name" is "Sort name"."""
        return self.name.replace("_", " ").capitalize()


def import_name(heading: object) -> str:
    """The import's name for a file's heading: "Sort name" is "sort_name"."""
    return str(heading or "").strip().lower().replace(" ", "_").replace("-", "_")


def _columns(part: Part, *names: str) -> tuple[Column, ...]:
    return tuple(Column(name, part) for name in names)


ORGANIZATION_COLUMNS = _columns(
    Part.ORGANIZATION,
    "name",
    "acronym",
    "display",
    "sort_name",
    "kind",
    "country",
    "website",
    "public_page",
    "description",
    "tags",
    "status",
)
CONTACT_COLUMNS = _columns(
    Part.CONTACT,
    "contact_name",
    "contact_email",
    "contact_title",
    "contact_phone",
    "authorized_signer",
    "primary_contact",
    "email_opt_out",
)
# "coalitions" is the organizations export's: "Coalition A (lead), Coalition B (member)".
MEMBERSHIP_COLUMNS = _columns(Part.MEMBERSHIP, "coalition", "tier", "joined_on", "coalitions")
COMPUTED_COLUMNS = _columns(Part.COMPUTED, "contacts", "created_at")
#: Every column the import knows, in the order it lists them.
MEMBER_COLUMNS = ORGANIZATION_COLUMNS + CONTACT_COLUMNS + MEMBERSHIP_COLUMNS + COMPUTED_COLUMNS
BY_NAME = {column.name: column for column in MEMBER_COLUMNS}


@dataclass(frozen=True)
class Exported:
    """A column an export writes: the listing's field for it, its heading, and the import's
    column it reads back as."""

    field: str
    column: Column
    heading: str = ""  # the column's own heading unless given

    @property
    def title(self) -> str:
        return self.heading or self.column.heading


def _exported(field: str, column: str = "", heading: str = "") -> Exported:
    return Exported(field=field, column=BY_NAME[column or field], heading=heading)


#: The organizations export, in its order: one row per organization, every membership in one
#: cell, and what the database computes (contacts, created) at the end.
ORGANIZATIONS_EXPORT = (
    _exported("name"),
    _exported("acronym"),
    _exported("display"),
    _exported("sort_name"),
    _exported("kind"),
    _exported("country"),
    _exported("website"),
    _exported("public_page"),
    _exported("status"),
    _exported("description"),
    _exported("tag_names", "tags"),
    _exported("coalitions"),
    _exported("contact_count", "contacts"),
    _exported("created_at"),
)
#: The contacts export, in its order, under a contact's own headings: "Name" is the person's and
#: the organization is "Organization". The import knows its file by "Organization" and "Email".
CONTACTS_EXPORT = (
    _exported("name", "contact_name", "Name"),
    _exported("email", "contact_email", "Email"),
    _exported("title", "contact_title", "Title"),
    _exported("phone", "contact_phone", "Phone"),
    _exported("organization.name", "name", "Organization"),
    _exported("is_authorized_signer", "authorized_signer", "Authorized signer"),
    _exported("is_primary", "primary_contact", "Primary contact"),
    _exported("email_opt_out", "email_opt_out", "Opted out of email"),
)
#: The contacts export's headings, as the import reads them, and the columns they stand for.
CONTACTS_EXPORT_COLUMNS = {
    import_name(exported.title): exported.column.name for exported in CONTACTS_EXPORT
}


def export_fields(exports: tuple[Exported, ...]) -> list[str]:
    """A listing's `list_export`."""
    return [exported.field for exported in exports]


def export_headings(exports: tuple[Exported, ...]) -> dict[str, str]:
    """A listing's `export_headings`."""
    return {exported.field: exported.title for exported in exports}
