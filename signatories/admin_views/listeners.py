"""The coalition's memory of who listens: each recipient across letters, with the letters sent to
them, delivered and answered and the median days to an answer; as a page and as a spreadsheet,
both from `selectors.recipient_report`."""

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from coalition.crm.viewsets import neutralise_formula
from signatories import selectors

from .common import require_perm

PER_PAGE = 50
CSV_HEADINGS = [
    "Name",
    "Title",
    "Office",
    "Email",
    "Letters sent",
    "Delivered",
    "Answered",
    "Median days to an answer",
]


def _order(request: HttpRequest) -> str:
    order = request.GET.get("order", "")
    return order if order in selectors.REPORT_ORDERS else "name"


def median_words(days: float | None) -> str:
    """4, 4.5, or nothing before any answer."""
    return "" if days is None else f"{days:g}"


@require_safe
@require_perm("letters.publish_letter")
def recipient_report(request: HttpRequest) -> HttpResponse:
    order = _order(request)
    paginator = Paginator(selectors.recipient_report(order), PER_PAGE)
    page = paginator.get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "signatories/admin/recipient_report.html",
        {
            "page_title": "Who listens: recipients across letters",
            "header_icon": "mail",
            "page": page,
            "records": [(record, median_words(record.median_days)) for record in page],
            "order": order,
            "orders": [
                ("name", "Name"),
                ("office", "Office"),
                ("sent", "Letters sent"),
                ("delivered", "Delivered"),
                ("answered", "Answered"),
            ],
        },
    )


class _Echo:
    """What the csv writer writes to: each line handed straight back, to stream."""

    def write(self, value: str) -> str:
        return value


def _lines(records: selectors.RecipientReport) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # With a byte order mark, Excel reads the file as UTF-8 rather than the local code page.
    yield "\ufeff" + writer.writerow(CSV_HEADINGS)
    for record in records:
        values = [
            record.name,
            record.title,
            record.office,
            record.email,
            record.sent,
            record.delivered,
            record.answered,
            median_words(record.median_days),
        ]
        # Names and offices are whatever someone typed: a spreadsheet must not run them.
        yield writer.writerow([neutralise_formula(value) for value in values])


@require_safe
@require_perm("letters.publish_letter")
def recipient_report_csv(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _lines(selectors.recipient_report(_order(request))),
        content_type="text/csv; charset=utf-8; header=present",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="recipients-who-listens.csv"
    )
    return response
