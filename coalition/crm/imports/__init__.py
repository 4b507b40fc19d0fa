"""Import organizations with their contacts and memberships from a CSV or XLSX file.

A file has one row per organization, contact or membership: an organization may span several
rows (its details on any of them, which must agree), each adding a contact, a membership or both.
Everything is checked before anything is written, and every problem is reported at once; with
any error nothing is imported. The organizations and contacts exports read back as they are, and
a name spelled differently from an existing organization's ("Assn" for "Association", its
acronym) is taken for it when nothing else fits (coalition.crm.duplicates).

The package: `base` (columns and report), `reading`, `checking` (with `cells`, each value, and
`existing`, what the database holds), `writing`.
"""

import csv

from django.db import DataError, IntegrityError, transaction

from .base import COLUMNS, ImportFileError, ImportReport, Progress, RowResult
from .checking import ImportPlan
from .reading import MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_BYTES, Table, decode_text, read_rows
from .writing import apply_plan

__all__ = [
    "COLUMNS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "ImportFileError",
    "ImportReport",
    "Progress",
    "RowResult",
    "Table",
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
        table = read_rows(data, filename)
    except (ImportFileError, UnicodeDecodeError, csv.Error) as error:
        report.errors.append(str(error))
        return report
    planner = ImportPlan(table.header, table.rows)
    # Problems with the columns are reported with those of every row, in one pass: only a
    # file without names stops here.
    readable = planner.check_header()
    if not readable or not table.rows:
        if readable:
            planner.errors.append("The file has a header but no rows.")
        report.errors = planner.errors + table.problems
        return report
    planner.load_existing()
    planner.plan(progress)
    report.rows = planner.results
    # The columns first, then what reading found (control characters, an unclosed quote), then
    # what checking each row found.
    report.errors = planner.errors[: planner.header_errors] + table.problems
    report.errors += planner.errors[planner.header_errors :]
    report.organizations_created = sum(1 for p in planner.orgs.values() if p.existing is None)
    report.organizations_matched = len(
        {r.taken_as.pk for r in planner.resolutions.values() if r.taken_as is not None}
    )
    report.organizations_updated = sum(1 for p in planner.orgs.values() if p.existing and p.changed)
    report.contacts_created = sum(1 for p in planner.contacts if p.existing is None)
    report.contacts_updated = sum(1 for p in planner.contacts if p.existing is not None)
    report.memberships_created = sum(1 for p in planner.memberships if p.existing is None)
    report.memberships_updated = sum(1 for p in planner.memberships if p.existing is not None)
    if report.errors or dry_run:
        return report
    try:
        with transaction.atomic():
            report.organizations_updated = 0
            apply_plan(planner, report, progress)
    except (DataError, IntegrityError) as error:
        # What the checks missed, or a change made meanwhile: a message, never a 500.
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        report.errors.append(
            f"The database refused the import ({reason or type(error).__name__}); "
            "nothing was imported. Check the file again."
        )
    return report
