"""The tracker's table as a spreadsheet: every organization and person of a sign-on, one row each."""

import csv
import datetime
import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from coalition.crm.viewsets import neutralise_formula
from signatories import selectors

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


@require_perm("view_signon")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    rows = [_export_values(row) for row in selectors.tally(sign_on).rows]
    filename = f"sign-on-{sign_on.letter.slug}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Responses"
        sheet.append(EXPORT_HEADINGS)
        for values in rows:
            sheet.append(values)
            for cell in sheet[sheet.max_row]:
                cell.data_type = "s"
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow(EXPORT_HEADINGS)
        writer.writerows([[neutralise_formula(v) for v in values] for values in rows])
    else:
        raise Http404("Export as csv or xlsx.")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
