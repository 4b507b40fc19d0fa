"""The tracker's table as a spreadsheet: every organization and person of a sign-on, one row each.

Both formats are streamed from the tally's rows read in chunks (`streamed_rows`), so that a
sign-on of a hundred thousand signatures exports in bounded memory. The CSV's first bytes leave
at once. An XLSX file is a zip that can only be finished at its end: openpyxl's write-only mode
writes it to a temporary file in bounded memory, and the file is then streamed, so its first byte
waits for the whole sheet.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from coalition.crm.viewsets import neutralise_formula
from signatories import selectors
from signatories.models import SignOn
from signatories.selectors.tally_rows import streamed_rows

from .common import require_perm

EXPORT_HEADINGS = [
    "Organization or person",
    "How",
    "Coalitions and tiers",
    "State",
    "Printed as",
    "Signer",
    "Title",
    "Email",
    "Invited",
    "Opened",
    "Responded",
]
HOW = {
    "invited": "Invited",
    "open_link": "Open link (organization)",
    "individual": "Open link (individual)",
}


def _export_values(row: selectors.Row) -> list[str]:
    response = row.response

    def when(value: datetime.datetime | None) -> str:
        return value.isoformat(timespec="minutes") if value else ""

    return [
        row.name,
        HOW[row.source],
        "; ".join(f"{coalition} ({tier})" for coalition, tier in row.groups),
        row.state_label,
        response.display_name if response else "",
        response.signer_name if response else "",
        response.signer_title if response else "",
        response.signer_email if response else "",
        when(row.invited_at),
        when(row.opened_at),
        when(row.responded_at),
    ]


# Rows read from the database at a time, and CSV lines sent in one piece.
CHUNK = 2000
LINES_PER_PIECE = 200


class _Line:
    """A file-like object whose write returns what was written: the csv module formats a line,
    the response sends it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headings: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """A CSV file in pieces of a few hundred lines, every value that a spreadsheet would read as
    a formula defused."""
    writer = csv.writer(_Line())
    piece = [writer.writerow(headings)]
    for values in rows:
        piece.append(writer.writerow([neutralise_formula(value) for value in values]))
        if len(piece) >= LINES_PER_PIECE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def _values(sign_on: SignOn) -> Iterator[list[str]]:
    return (_export_values(row) for row in streamed_rows(sign_on, chunk_size=CHUNK))


def _xlsx_file(
    headings: list[str], rows: Iterable[list[str]]
) -> "tempfile._TemporaryFileWrapper[bytes]":
    """The sheet written in openpyxl's write-only mode to a temporary file, every cell text (so
    that nothing typed is read as a formula), rewound to be read."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Responses")

    def text_cells(values: list[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        return cells

    sheet.append(text_cells(headings))
    for values in rows:
        sheet.append(text_cells(values))
    # Closed (and deleted) by the response once sent.
    spooled = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115
    workbook.save(spooled)
    spooled.seek(0)
    return spooled


@require_perm("view_signon")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    filename = f"sign-on-{sign_on.letter.slug}.{fmt}"
    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            csv_lines(EXPORT_HEADINGS, _values(sign_on)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    if fmt == "xlsx":
        return FileResponse(
            _xlsx_file(EXPORT_HEADINGS, _values(sign_on)),
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise Http404("Export as csv or xlsx.")
