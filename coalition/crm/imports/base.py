"""The columns of a members file (coalition.crm.columns) as the import reads them, and the
report of an import."""

from collections.abc import Callable
from dataclasses import dataclass, field

from coalition.crm import columns

# The columns' names, as the checks read them; defined, with the exports', in one place.
ORGANIZATION_COLUMNS = [column.name for column in columns.ORGANIZATION_COLUMNS]
CONTACT_COLUMNS = [column.name for column in columns.CONTACT_COLUMNS]
MEMBERSHIP_COLUMNS = [column.name for column in columns.MEMBERSHIP_COLUMNS]
# Columns the organizations export adds that the database computes: read past, never written.
COMPUTED_COLUMNS = [column.name for column in columns.COMPUTED_COLUMNS]
COLUMNS = ORGANIZATION_COLUMNS + CONTACT_COLUMNS + MEMBERSHIP_COLUMNS
KNOWN_COLUMNS = [column.name for column in columns.MEMBER_COLUMNS]
CONTACTS_EXPORT_COLUMNS = columns.CONTACTS_EXPORT_COLUMNS
REQUIRED_COLUMNS = ["name"]
# What a spreadsheet would run as a formula: the CSV export puts a quote before such a cell, and
# reading a CSV file takes that quote off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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
    # Rows taken for an existing organization spelled differently ("Assn" for "Association").
    organizations_matched: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        matched = (
            f" {self.organizations_matched} organization{'s' if self.organizations_matched != 1 else ''} "
            "spelled differently matched existing ones (see the warnings)."
            if self.organizations_matched
            else ""
        )
        if self.rows and self.count("skip") == len(self.rows):
            return (
                f"{len(self.rows)} rows: every row matches what the database holds; nothing "
                f"{verb} created or changed.{matched}"
            )
        return (
            f"{len(self.rows)} rows: {self.count('create')} {verb} created, "
            f"{self.count('update')} {verb} updated, {self.count('skip')} skipped "
            f"(organizations: {self.organizations_created} new, {self.organizations_updated} "
            f"updated; contacts: {self.contacts_created} new, {self.contacts_updated} updated; "
            f"memberships: {self.memberships_created} new, {self.memberships_updated} updated)."
            f"{matched}"
        )
