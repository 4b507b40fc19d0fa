"""Import organizations with their contacts and memberships from a CSV or XLSX file.

A file has one row per organization, contact or membership: an organization may span several
rows (its details on any of them, which must agree), each adding a contact, a membership or both.
Everything is checked before anything is written; with any error nothing is imported.

The package: `base` (columns and report), `reading`, `checking`, `writing`.
"""

import csv

from django.db import transaction

from .base import COLUMNS, ImportFileError, ImportReport, Progress, RowResult
from .checking import ImportPlan
from .reading import decode_text, read_rows
from .writing import apply_plan

__all__ = [
    "COLUMNS",
    "ImportFileError",
    "ImportReport",
    "Progress",
    "RowResult",
    "decode_text",
    "import_members",
    "read_rows",
]


def import_members(
    *,
    data: bytes,
    filename: str = "",
    dry_run: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a members file row by row and, unless dry_run or anything is wrong, import it atomically."""
    report = ImportReport(dry_run=dry_run)
    try:
        header, rows = read_rows(data, filename)
    except (ImportFileError, UnicodeDecodeError, csv.Error) as error:
        report.errors.append(str(error))
        return report
    planner = ImportPlan(header, rows)
    if not planner.check_header():
        report.errors = planner.errors
        return report
    if not rows:
        report.errors.append("The file has a header but no rows.")
        return report
    planner.load_existing()
    planner.plan(progress)
    report.rows = planner.results
    report.errors = planner.errors
    report.organizations_created = sum(1 for p in planner.orgs.values() if p.existing is None)
    report.organizations_updated = sum(1 for p in planner.orgs.values() if p.existing and p.changed)
    report.contacts_created = sum(1 for p in planner.contacts if p.existing is None)
    report.contacts_updated = sum(1 for p in planner.contacts if p.existing is not None)
    report.memberships_created = sum(1 for p in planner.memberships if p.existing is None)
    report.memberships_updated = sum(1 for p in planner.memberships if p.existing is not None)
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        report.organizations_updated = 0
        apply_plan(planner, report, progress)
    return report
