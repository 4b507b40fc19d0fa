"""What every listing of the CRM's admin shares: exports safe to open in a spreadsheet and
streamed as they are read, and deletes that keep what history refers to."""

import csv
import datetime
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import models, router
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.functional import cached_property
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.mixins import ExcelDateFormatter

from coalition.crm.imports.base import FORMULA_STARTS
from coalition.crm.selectors import AnyOf

from .tables import ListingTable, PlainColumn, PlainTitleColumn

#: Rows an export reads from the database at a time (a server-side cursor on PostgreSQL).
EXPORT_CHUNK = 2000
#: Bytes of CSV gathered before they are sent on: one write per row would cost more than the row.
CSV_BLOCK = 64 * 1024
#: Matches of a search counted, at most. Past them the listing says "more than 1,000 matches"
#: and pages through the first 1,000: counting every match of a common word ("smith") cost as
#: much as finding them, and nobody reads past the 20th page of a search.
SEARCH_COUNT_LIMIT = 1000

#: Stands for a row's id in a URL reversed once for the rows of a listing (the admin's URLs take
#: digits only for an integer id).
ROW_ID = 8_096_431_275_519

#: A row of an export as the database gives it: {lookup: value}.
ExportRow = Mapping[str, object]
Rows = models.QuerySet[models.Model]


def neutralise_formula(value: object) -> object:
    """A CSV cell that a spreadsheet would run as a formula, made inert by a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def records_kept_by(obj: models.Model) -> list[str]:
    """What keeps a record from being deleted: rows of other tables that must outlive it, counted
    ("3 signatures, 2 invitations"); empty when it may go."""
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except ProtectedError as error:
        kept = error.protected_objects
    except RestrictedError as error:
        kept = error.restricted_objects
    else:
        return []
    counts: dict[str, int] = {}
    for row in kept:
        name = str(row._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    return [f"{count} {name}" for name, count in sorted(counts.items())]


class KeepReferencedDeleteView(generic.DeleteView):
    """Delete, unless rows that must outlive the record name it (a signature on a letter, an
    invitation in a sign-on's record): then the page says so and offers nothing to confirm."""

    template_name = "coalition/confirm_delete.html"

    @cached_property
    def kept_by(self) -> list[str]:
        return records_kept_by(self.object)

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        if self.kept_by:
            context["is_protected"] = True
            context["kept_by"] = self.kept_by
        return context

    def form_valid(self, form: forms.Form) -> HttpResponse:
        if self.kept_by:
            messages.error(
                self.request,
                f"“{self.object}” is not deleted: {', '.join(self.kept_by)} refer to it and "
                "stay on record.",
            )
            return self.render_to_response(self.get_context_data(), status=409)
        return super().form_valid(form)


# Listings ------------------------------------------------------------------------------------


class CappedPaginator(WagtailPaginator):
    """Pages through the first `limit` rows, counting no further; `more` says whether others are
    left out."""

    def __init__(self, object_list: Rows, per_page: int, *, limit: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit
        self.rows = object_list

    @cached_property
    def counted(self) -> int:
        # The ids of the matches, in no order: the database stops at the first `limit + 1` it
        # comes to, as a count would, from the search's indexes.
        found = list(self.rows.order_by().values_list("pk", flat=True)[: self.limit + 1])
        if len(found) <= self.limit:
            # All of them: the page is read among these ids. Asked for the page in the listing's
            # order, the database would walk that order's index until the page is full, which is
            # to read most of the table when a few hundred rows match ("maria": 30,000 contacts
            # read, 37 ms, where sorting the 216 matches takes 1 ms). Past the limit, matches are
            # common enough for that walk to end soon.
            self.object_list = self.rows.filter(AnyOf(models.F("pk"), found))
        return len(found)

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.limit)

    @property
    def more(self) -> bool:
        return self.counted > self.limit

    @cached_property
    def items_count_label(self) -> str:
        if self.more:
            return f"More than {self.limit:,} {self.verbose_name_plural}"
        return str(super().items_count_label)


class CoalitionIndexView(generic.IndexView):
    """A listing whose exports are safe to open in a spreadsheet and honour the export permission."""

    # Wagtail's listing, with names that wrap between words only.
    template_name = "coalition/listing.html"
    # Which says "more than 1,000 matches" where a search counted no further.
    results_template_name = "coalition/index_results.html"
    # Rows printed by Python, not by a template per cell and ten per row's menu of actions.
    table_class = ListingTable

    #: A permission ("app.codename") needed to export, beyond seeing the listing.
    export_permission: str | None = None
    #: Export columns computed by the view from the exported row: {name: callable(row)}.
    export_values: dict[str, Callable[[ExportRow], object]] = {}
    #: Export columns read through another lookup than their dotted name: {name: "a__b"}.
    export_lookups: dict[str, str] = {}

    def get_paginator(
        self,
        queryset: Rows,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
        **kwargs: Any,
    ) -> WagtailPaginator:
        if not self.is_searching:
            return super().get_paginator(
                queryset, per_page, orphans, allow_empty_first_page, **kwargs
            )
        return CappedPaginator(
            queryset,
            per_page,
            limit=SEARCH_COUNT_LIMIT,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            **kwargs,
        )

    # A page of 50 rows asked for 150 URLs and as many permissions, alike but for the row's id:
    # each is reversed, and each permission asked, once per listing.

    @cached_property
    def _row_url_templates(self) -> dict[str, tuple[str, str]]:
        return {}

    def _row_url(self, url_name: str, pk: Any) -> str:
        """reverse(url_name, args=(quote(pk),)), from the URL reversed once for an integer id."""
        if type(pk) is not int:
            return str(reverse(url_name, args=(quote(pk),)))
        template = self._row_url_templates.get(url_name)
        if template is None:
            before, _, after = reverse(url_name, args=(ROW_ID,)).rpartition(str(ROW_ID))
            template = self._row_url_templates[url_name] = (before, after)
        return f"{template[0]}{pk}{template[1]}"

    @cached_property
    def _permissions(self) -> dict[frozenset[str], bool]:
        return {}

    def _may(self, *permissions: str) -> bool:
        key = frozenset(permissions)
        if key not in self._permissions:
            self._permissions[key] = bool(self.user_has_any_permission(key))
        return self._permissions[key]

    def get_edit_url(self, instance: models.Model) -> str | None:
        if self.edit_url_name and self._may("change"):
            return self._row_url(self.edit_url_name, instance.pk)
        return None

    def get_inspect_url(self, instance: models.Model) -> str | None:
        if self.inspect_url_name and self._may("add", "change", "delete", "view"):
            return self._row_url(self.inspect_url_name, instance.pk)
        return None

    def get_delete_url(self, instance: models.Model) -> str | None:
        if self.delete_url_name and self._may("delete"):
            return self._row_url(self.delete_url_name, instance.pk)
        return None

    def user_may_export(self) -> bool:
        return self.export_permission is None or self.request.user.has_perm(self.export_permission)

    @property
    def show_export_buttons(self) -> bool:
        return bool(self.list_export) and self.user_may_export()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.is_export:
            # Straight to the file: the listing's context would count and load every row first.
            return self.as_spreadsheet(self.get_queryset(), request.GET["export"])
        return super().get(request, *args, **kwargs)

    def as_spreadsheet(self, queryset: Rows, spreadsheet_format: str) -> HttpResponse:
        if not self.user_may_export():
            raise PermissionDenied("You may not export this listing.")
        return super().as_spreadsheet(queryset, spreadsheet_format)

    def get_export_queryset(self, queryset: Rows) -> Rows:
        """The rows of an export: what the listing shows, annotated with what export_values read."""
        return queryset

    @cached_property
    def export_columns(self) -> dict[str, str]:
        """The lookup each exported column reads, but for those export_values computes."""
        return {
            field: self.export_lookups.get(field, field.replace(".", "__"))
            for field in self.list_export
            if field not in self.export_values
        }

    def export_rows(self, queryset: Rows) -> Iterator[ExportRow]:
        # Plain rows of the exported columns, read in chunks as the file is written: the first
        # bytes leave before the last row is read, memory stays flat, and no model instance is
        # built (for tens of thousands of rows that was most of the time).
        queryset = self.get_export_queryset(queryset).prefetch_related(None)
        columns = {*self.export_columns.values(), *queryset.query.annotations}
        return queryset.values(*columns).iterator(chunk_size=EXPORT_CHUNK)

    def stream_csv(self, queryset: Rows) -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([self.get_heading(queryset, field) for field in self.list_export])
        for row in self.export_rows(queryset):
            writer.writerow(
                [
                    self.preprocess_field_value(field, value, self.FORMAT_CSV)
                    for field, value in self.to_row_dict(row).items()
                ]
            )
            if out.tell() >= CSV_BLOCK:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    def write_xlsx(self, queryset: Rows, output: IO[bytes]) -> None:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True, iso_dates=True)
        worksheet = workbook.create_sheet(title="Sheet1")
        worksheet.append(self.get_heading(queryset, field) for field in self.list_export)
        date_format = ExcelDateFormatter().get()
        for item in self.export_rows(queryset):
            worksheet.append(
                self.generate_xlsx_row(worksheet, self.to_row_dict(item), date_format=date_format)
            )
        workbook.save(output)

    def generate_xlsx_row(
        self, worksheet: object, row_dict: dict[str, object], date_format: str | None = None
    ) -> Iterator[object]:
        from openpyxl.cell import WriteOnlyCell

        for field, value in row_dict.items():
            value = self.preprocess_field_value(field, value, self.FORMAT_XLSX)
            # A cell object only where the value needs one (a formula kept as text, a date's
            # format): openpyxl takes any other value as it is, and a cell object costs it an
            # exception per value.
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(worksheet, value)
                cell.data_type = "s"
                yield cell
            elif date_format and isinstance(value, datetime.datetime):
                cell = WriteOnlyCell(worksheet, value)
                cell.number_format = date_format
                yield cell
            else:
                yield value

    def write_xlsx_response(self, queryset: Rows) -> FileResponse:
        # A workbook is a zip, complete only at the end: it is written to a temporary file, not
        # held in memory, and sent from there in blocks (FileResponse closes it).
        output = tempfile.TemporaryFile()  # noqa: SIM115
        self.write_xlsx(queryset, output)
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=f"{self.get_filename()}.xlsx",
        )

    def to_row_dict(self, item: ExportRow) -> dict[str, object]:
        columns = self.export_columns
        return {
            field: (
                self.export_values[field](item)
                if field in self.export_values
                else _blank_if_none(item[columns[field]])
            )
            for field in self.list_export
        }

    def preprocess_field_value(self, field: str, value: object, export_format: str) -> object:
        # As the listing prints it, and as the import reads it back.
        if type(value) is bool:
            return "yes" if value else "no"
        # Text and numbers need no preprocessing (Wagtail's would leave them as they are): most
        # cells skip the search for a preprocessing function.
        if type(value) not in (str, int):
            value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return neutralise_formula(value)
        return value

    def _get_custom_column(
        self, field_name: str, column_class: type[Column] = PlainColumn, **kwargs: Any
    ) -> Column:
        return super()._get_custom_column(field_name, column_class, **kwargs)

    def _get_title_column(
        self, field_name: str, column_class: type[Column] = PlainTitleColumn, **kwargs: Any
    ) -> Column:
        # The title links to the record's page (inspect view) where there is one, not the editor.
        if not self.inspect_url_name:
            return super()._get_title_column(field_name, column_class, **kwargs)
        column_class = self._get_title_column_class(column_class)
        return self._get_custom_column(
            field_name,
            column_class,
            get_url=lambda instance: self.get_inspect_url(instance) or self.get_edit_url(instance),
            **kwargs,
        )


def _blank_if_none(value: object) -> object:
    # As a missing related record (an interaction without a contact) printed before.
    return "" if value is None else value
