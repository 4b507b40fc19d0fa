"""The columns of a members file and the report of an import."""

from collections.abc import Callable
from dataclasses import dataclass, field

ORGANIZATION_COLUMNS = [
    "name",
    "acronym",
    "display",
    "kind",
    "country",
    "website",
    "description",
    "tags",
    "status",
]
CONTACT_COLUMNS = [
    "contact_name",
    "contact_email",
    "contact_title",
    "contact_phone",
    "authorized_signer",
    "primary_contact",
    "email_opt_out",
]
MEMBERSHIP_COLUMNS = ["coalition", "tier", "joined_on"]
COLUMNS = ORGANIZATION_COLUMNS + CONTACT_COLUMNS + MEMBERSHIP_COLUMNS
REQUIRED_COLUMNS = ["name"]
TRUE = {"1", "yes", "y", "true", "x", "✓"}
FALSE = {"", "0", "no", "n", "false"}
BATCH = 500

Progress = Callable[[str, int, int], None]


class ImportFileError(Exception):
    """The file cannot be read at all (encoding, format, header)."""


@dataclass
class RowResult:
    number: int
    organization: str
    action: str = "skip"  # create, update or skip
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = True
    organizations_created: int = 0
    organizations_updated: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    memberships_created: int = 0
    memberships_updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"{len(self.rows)} rows: {self.count('create')} {verb} created, "
            f"{self.count('update')} {verb} updated, {self.count('skip')} skipped "
            f"(organizations: {self.organizations_created} new, {self.organizations_updated} "
            f"updated; contacts: {self.contacts_created} new, {self.contacts_updated} updated; "
            f"memberships: {self.memberships_created} new, {self.memberships_updated} updated)."
        )
