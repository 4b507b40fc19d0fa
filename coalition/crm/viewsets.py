"""The "Coalition" section of the Wagtail admin: organizations, contacts, memberships, interactions."""

import csv
import datetime
import io
import tempfile
from collections.abc import Callable, Iterator

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import models, router
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from taggit.models import Tag
from wagtail.admin import messages as admin_messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.mixins import ExcelDateFormatter
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from coalition.crm import views
from coalition.crm.duplicates import mark_distinct
from coalition.crm.forms import ContactForm, OrganizationForm
from coalition.crm.imports.base import FORMULA_STARTS
from coalition.crm.models import (
    Coalition,
    Contact,
    Interaction,
    Membership,
    Organization,
    OrganizationTag,
)
from coalition.crm.selectors import (
    current_organizations,
    is_member,
    search_contacts,
    search_interactions,
    search_memberships,
    search_organizations,
)

#: Rows an export reads from the database at a time (a server-side cursor on PostgreSQL).
EXPORT_CHUNK = 2000
#: Bytes of CSV gathered before they are sent on: one write per row would cost more than the row.
CSV_BLOCK = 64 * 1024


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


class CoalitionIndexView(generic.IndexView):
    """A listing whose exports are safe to open in a spreadsheet and honour the export permission."""

    # Wagtail's listing, with names that wrap between words only.
    template_name = "coalition/listing.html"

    #: A permission ("app.codename") needed to export, beyond seeing the listing.
    export_permission: str | None = None
    #: Export columns computed by the view from the exported row: {name: callable(row)}.
    export_values: dict[str, Callable[[dict], object]] = {}
    #: Export columns read through another lookup than their dotted name: {name: "a__b"}.
    export_lookups: dict[str, str] = {}

    def user_may_export(self) -> bool:
        return self.export_permission is None or self.request.user.has_perm(self.export_permission)

    @property
    def show_export_buttons(self) -> bool:
        return bool(self.list_export) and self.user_may_export()

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.is_export:
            # Straight to the file: the listing's context would count and load every row first.
            return self.as_spreadsheet(self.get_queryset(), request.GET["export"])
        return super().get(request, *args, **kwargs)

    def as_spreadsheet(self, queryset, spreadsheet_format):
        if not self.user_may_export():
            raise PermissionDenied("You may not export this listing.")
        return super().as_spreadsheet(queryset, spreadsheet_format)

    def get_export_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
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

    def export_rows(self, queryset: models.QuerySet) -> Iterator[dict]:
        # Plain rows of the exported columns, read in chunks as the file is written: the first
        # bytes leave before the last row is read, memory stays flat, and no model instance is
        # built (for tens of thousands of rows that was most of the time).
        queryset = self.get_export_queryset(queryset).prefetch_related(None)
        columns = {*self.export_columns.values(), *queryset.query.annotations}
        return queryset.values(*columns).iterator(chunk_size=EXPORT_CHUNK)

    def stream_csv(self, queryset):
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

    def write_xlsx(self, queryset, output):
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

    def generate_xlsx_row(self, worksheet, row_dict, date_format=None):
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

    def write_xlsx_response(self, queryset):
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

    def to_row_dict(self, item: dict) -> dict:
        columns = self.export_columns
        return {
            field: (
                self.export_values[field](item)
                if field in self.export_values
                else _blank_if_none(item[columns[field]])
            )
            for field in self.list_export
        }

    def preprocess_field_value(self, field, value, export_format):
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

    def _get_title_column(self, field_name, column_class=TitleColumn, **kwargs):
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


class YesNoColumn(Column):
    """A yes-or-no field printed as a word a reader takes in at a glance, not "True"."""

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__(name, sort_key=kwargs.pop("sort_key", name), **kwargs)

    def get_value(self, instance: models.Model) -> str:
        return "Yes" if super().get_value(instance) else "No"


def _blank_if_none(value: object) -> object:
    # As a missing related record (an interaction without a contact) printed before.
    return "" if value is None else value


def _in_coalition(coalition: str, tier: str) -> str:
    return f"{coalition} ({Membership.Tier(tier).label.lower()})"


def _active_coalitions(org: Organization) -> str:
    return ", ".join(_in_coalition(m.coalition.name, m.tier) for m in org.active_memberships)


# An export reads each organization's coalitions and tags as one string per row, aggregated by
# the database in the same query: a control character no name contains separates the parts,
# which Python sorts (SQLite before 3.44 cannot order inside an aggregate).
PART = "\x1f"
PAIR = "\x1e"


def _aggregated(rows: models.QuerySet, group_by: str, value: models.Expression) -> models.Subquery:
    return models.Subquery(
        rows.order_by()
        .values(group_by)
        .annotate(joined=models.StringAgg(value, models.Value(PART)))
        .values("joined")
    )


def _parts(joined: str | None) -> list[str]:
    return [part for part in (joined or "").split(PART) if part]


def _exported_coalitions(row: dict) -> str:
    """Every membership with its tier and the day it began, which the import reads back:
    "Digital Trade Coalition (lead; joined 2021-03-01), AI Policy Working Group (member; …)"."""
    memberships = sorted(part.split(PAIR) for part in _parts(row["exported_coalitions"]))
    return ", ".join(
        f"{_in_coalition(coalition, tier)[:-1]}; joined {joined[:10]})"
        if joined
        else _in_coalition(coalition, tier)
        for coalition, tier, joined in memberships
    )


def _exported_tags(row: dict) -> str:
    return ", ".join(sorted(_parts(row["exported_tags"])))


def _contact_count() -> models.Expression:
    contacts = (
        Contact.objects.filter(organization_id=models.OuterRef("pk"))
        .order_by()
        .values("organization_id")
        .annotate(n=models.Count("pk"))
        .values("n")
    )
    return Coalesce(models.Subquery(contacts), 0)


def _with_contact_counts(organizations: list[Organization]) -> list[Organization]:
    """A page of organizations with their numbers of contacts, in one query for the page."""
    missing = [org.pk for org in organizations if not hasattr(org, "contact_count")]
    if missing:
        counts = dict(
            Contact.objects.filter(organization_id__in=missing)
            .order_by()
            .values_list("organization_id")
            .annotate(n=models.Count("pk"))
        )
        for org in organizations:
            if not hasattr(org, "contact_count"):
                org.contact_count = counts.get(org.pk, 0)
    return organizations


class OrganizationFilterSet(WagtailFilterSet):
    coalition = django_filters.ModelChoiceFilter(
        queryset=Coalition.objects.all(), method="filter_coalition", label="Coalition"
    )
    tier = django_filters.ChoiceFilter(
        choices=Membership.Tier.choices, method="filter_tier", label="Tier"
    )
    kind = django_filters.ChoiceFilter(choices=Organization.Kind.choices)
    # The countries in use, read once per listing in __init__ (a callable would query each time
    # the form validates or renders the list).
    country = django_filters.ChoiceFilter(choices=[])
    tag = django_filters.ModelChoiceFilter(
        queryset=Tag.objects.filter(
            models.Exists(OrganizationTag.objects.filter(tag_id=models.OuterRef("pk")))
        ).order_by("name"),
        method="filter_tag",
        label="Tag",
        to_field_name="slug",
    )
    status = django_filters.ChoiceFilter(choices=Organization.Status.choices)

    class Meta:
        model = Organization
        fields = ["coalition", "tier", "kind", "country", "tag", "status"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = [
            (c, c)
            for c in current_organizations()
            .exclude(country="")
            .order_by("country")
            .values_list("country", flat=True)
            .distinct()
        ]

    def _memberships(self) -> models.QuerySet:
        active = Membership.objects.filter(
            organization_id=models.OuterRef("pk"), left_on__isnull=True
        )
        data = self.form.cleaned_data
        if data.get("coalition"):
            active = active.filter(coalition=data["coalition"])
        if data.get("tier"):
            active = active.filter(tier=data["tier"])
        return active

    def filter_coalition(self, queryset, name, value):
        return queryset.filter(models.Exists(self._memberships())) if value else queryset

    def filter_tier(self, queryset, name, value):
        # Coalition and tier together mean "this tier in that coalition"; one Exists covers both.
        if not value or self.form.cleaned_data.get("coalition"):
            return queryset
        return queryset.filter(models.Exists(self._memberships()))

    def filter_tag(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            models.Exists(
                Organization.tags.through.objects.filter(
                    content_object_id=models.OuterRef("pk"), tag=value
                )
            )
        )


class OrganizationIndexView(CoalitionIndexView):
    export_values = {"coalitions": _exported_coalitions, "tag_names": _exported_tags}

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        queryset = super().filter_queryset(queryset)
        asked = ""
        if self.filters and self.filters.is_valid():
            asked = self.filters.form.cleaned_data.get("status") or ""
        # Pending requests are no members: only asking for them by status lists them.
        if asked != Organization.Status.PENDING:
            queryset = queryset.exclude(status=Organization.Status.PENDING)
        return queryset

    def get_base_queryset(self) -> models.QuerySet:
        # The numbers of contacts are counted for the page shown (paginate_queryset), not in a
        # subquery per row: PostgreSQL would run that for every row an OFFSET skips as well.
        return current_organizations().prefetch_related(
            models.Prefetch(
                "memberships",
                queryset=Membership.objects.filter(left_on__isnull=True).select_related(
                    "coalition"
                ),
                to_attr="active_memberships",
            )
        )

    def order_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if self.ordering in ("contact_count", "-contact_count"):
            queryset = queryset.annotate(contact_count=_contact_count())
        return super().order_queryset(queryset)

    def paginate_queryset(self, queryset: models.QuerySet, page_size: int) -> tuple:
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = object_list = _with_contact_counts(list(object_list))
        return paginator, page, object_list, is_paginated

    def get_export_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        active = Membership.objects.filter(
            organization_id=models.OuterRef("pk"), left_on__isnull=True
        )
        tags = OrganizationTag.objects.filter(content_object_id=models.OuterRef("pk"))
        return queryset.annotate(
            exported_coalitions=_aggregated(
                active,
                "organization_id",
                Concat(
                    "coalition__name",
                    models.Value(PAIR),
                    "tier",
                    models.Value(PAIR),
                    Cast("joined_on", models.CharField()),
                ),
            ),
            exported_tags=_aggregated(tags, "content_object_id", "tag__name"),
            contact_count=_contact_count(),
        )

    def search_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if not self.is_searching:
            return queryset
        return search_organizations(queryset, self.search_query)

    @property
    def header_more_buttons(self) -> list:
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm("coalition.import_organizations"):
            buttons.append(
                Button(
                    "Import from CSV or XLSX",
                    url=reverse("coalition_import:index"),
                    icon_name="upload",
                    priority=80,
                )
            )
        if self.request.user.has_perms(
            [
                "coalition.merge_organizations",
                "coalition.change_organization",
                "coalition.delete_organization",
            ]
        ):
            buttons.append(
                Button(
                    "Likely duplicates",
                    url=reverse("coalition_organizations:duplicates"),
                    icon_name="group",
                    priority=90,
                )
            )
        return buttons


def validation_error(request: HttpRequest, message: str, form: forms.Form) -> None:
    """Wagtail's message for a form with errors, keeping the links in the errors.

    Wagtail joins each error to its field's label as plain text, so the warning about a likely
    duplicate printed its links as "<a href=…>" text.
    """
    detail = ""
    if form.non_field_errors():
        errors = [
            format_html(
                "{}{}", "" if name == NON_FIELD_ERRORS else f"{_label(form, name)}: ", error
            )
            for name, field_errors in form.errors.items()
            for error in field_errors
        ]
        detail = format_html(
            '<ul class="errorlist">{}</ul>',
            format_html_join("\n", "<li>{}</li>", ((error,) for error in errors)),
        )
    messages.error(request, admin_messages.render(message, None, detail=detail))


def _label(form: forms.Form, name: str) -> str:
    try:
        return str(form[name].label)
    except KeyError:
        return name


class OrganizationFormMixin:
    """The add and edit views of an organization: warnings that link, and "different" recorded."""

    def form_invalid(self, form):
        if not self.expects_json_response and self.produced_error_message is not None:
            validation_error(self.request, self.produced_error_message, form)
            # Said above, with the links kept: Wagtail's own message would say it again.
            self.produced_error_message = None
        return super().form_invalid(form)

    def save_instance(self) -> Organization:
        instance = super().save_instance()
        if self.form.cleaned_data.get("not_a_duplicate"):
            # Staff were warned and said it is another organization: the pairs are no longer
            # offered as likely duplicates.
            for other, reason in getattr(self.form, "likely_duplicates", []):
                if reason != "same name":
                    mark_distinct(instance, other, user=self.request.user)
        return instance


class OrganizationCreateView(OrganizationFormMixin, generic.CreateView):
    template_name = "coalition/organization/create.html"


class OrganizationEditView(OrganizationFormMixin, generic.EditView):
    template_name = "coalition/organization/edit.html"

    def get_queryset(self) -> models.QuerySet:
        # A record kept after a merge has a freed name key that saving would compute again.
        return current_organizations()


class OrganizationInspectView(generic.InspectView):
    template_name = "coalition/organization/inspect.html"

    def get_object(self, queryset=None):
        return views.get_organization_for_page(self.pk)

    def get_page_title(self) -> str:
        return self.object.printed_name

    def get_edit_url(self) -> str | None:
        # A record kept after a merge is history: its page links to the survivor instead.
        return None if self.object.merged_into_id else super().get_edit_url()

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(views.organization_page_context(self.request, self.object))
        return context


ORGANIZATION_PANELS = ObjectList(
    [
        MultiFieldPanel(
            [
                FieldPanel("name"),
                FieldRowPanel([FieldPanel("acronym"), FieldPanel("sort_name")]),
                FieldPanel("display"),
                FieldPanel("not_a_duplicate"),
            ],
            heading="Name",
        ),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("status"), FieldPanel("country")]),
        FieldPanel("public_page"),
        FieldPanel("website"),
        FieldPanel("logo"),
        FieldPanel("description"),
        FieldPanel("tags"),
        InlinePanel(
            "contacts",
            heading="Contacts",
            label="Contact",
            panels=[
                FieldRowPanel([FieldPanel("name"), FieldPanel("email")]),
                FieldRowPanel([FieldPanel("title"), FieldPanel("phone")]),
                FieldRowPanel(
                    [
                        FieldPanel("is_authorized_signer"),
                        FieldPanel("is_primary"),
                        FieldPanel("email_opt_out"),
                    ]
                ),
            ],
        ),
        InlinePanel(
            "memberships",
            heading="Memberships",
            label="Membership",
            panels=[
                FieldRowPanel([FieldPanel("coalition"), FieldPanel("tier")]),
                FieldRowPanel([FieldPanel("joined_on"), FieldPanel("left_on")]),
            ],
        ),
    ],
    base_form_class=OrganizationForm,
)


class OrganizationSearchForm(BaseFilterForm):
    """The chooser's search, as the listing's: names, acronyms and contacts, read from the tables.

    Wagtail's search index cannot filter out merged records (a search there failed) and lags
    behind imports until the worker has indexed them.
    """

    q = forms.CharField(
        label="Search term",
        widget=forms.TextInput(attrs={"placeholder": "Search"}),
        required=False,
    )

    def filter(self, objects: models.QuerySet) -> models.QuerySet:
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            objects = search_organizations(objects, query)
            self.is_searching = True
            self.search_query = query
        return objects


def _nothing_to_create(request: HttpRequest) -> HttpResponse:
    raise Http404("Records are created in their own forms, not from the chooser.")


class ChooseOnlyViewSet(ChooserViewSet):
    """A chooser with no "create" tab: Wagtail still mounts its create view, which fails on a POST
    (it has no form to read); it answers 404 here."""

    @property
    def create_view(self) -> Callable[..., HttpResponse]:
        return _nothing_to_create


class OrganizationChooserViewSet(ChooseOnlyViewSet):
    model = Organization
    icon = "group"
    choose_one_text = "Choose an organization"
    choose_another_text = "Choose another organization"
    edit_item_text = "Edit this organization"
    per_page = 20

    def get_object_list(self) -> models.QuerySet:
        return current_organizations()

    def get_common_view_kwargs(self, **kwargs) -> dict:
        return super().get_common_view_kwargs(filter_form_class=OrganizationSearchForm, **kwargs)


class ContactChooserViewSet(ChooseOnlyViewSet):
    model = Contact
    icon = "user"
    choose_one_text = "Choose a contact"
    choose_another_text = "Choose another contact"
    per_page = 20


organization_chooser_viewset = OrganizationChooserViewSet("coalition_organization_chooser")
OrganizationChooser = organization_chooser_viewset.widget_class
contact_chooser_viewset = ContactChooserViewSet("coalition_contact_chooser")
ContactChooser = contact_chooser_viewset.widget_class


class OrganizationViewSet(ModelViewSet):
    model = Organization
    delete_view_class = KeepReferencedDeleteView
    icon = "group"
    menu_label = "Organizations"
    index_view_class = OrganizationIndexView
    add_view_class = OrganizationCreateView
    edit_view_class = OrganizationEditView
    inspect_view_class = OrganizationInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    ordering = "sort_name"
    list_display = [
        "name",
        "acronym",
        Column("kind", label="Kind", accessor="get_kind_display", sort_key="kind"),
        Column("country", label="Country", sort_key="country"),
        Column("coalitions", label="Coalitions", accessor=_active_coalitions),
        Column("contact_count", label="Contacts", sort_key="contact_count"),
        Column("status", label="Status", accessor="get_status_display", sort_key="status"),
    ]
    filterset_class = OrganizationFilterSet
    # The columns the members import reads (coalition/crm/imports/base.py), under headings it knows,
    # so that a file exported, edited and imported again changes only what was edited.
    list_export = [
        "name",
        "acronym",
        "display",
        "sort_name",
        "kind",
        "country",
        "website",
        "public_page",
        "status",
        "description",
        "tag_names",
        "coalitions",
        "contact_count",
        "created_at",
    ]
    export_headings = {"tag_names": "Tags", "coalitions": "Coalitions", "contact_count": "Contacts"}
    export_filename = "organizations"
    edit_handler = ORGANIZATION_PANELS

    def get_urlpatterns(self) -> list:
        return [
            *super().get_urlpatterns(),
            path("log/<int:pk>/", views.log_interaction_view, name="log_interaction"),
            path("merge/<int:pk>/", views.merge_view, name="merge"),
            path("duplicates/", views.likely_duplicates_view, name="duplicates"),
            path("duplicates/distinct/", views.not_duplicates_view, name="not_duplicates"),
        ]


class ContactFilterSet(WagtailFilterSet):
    coalition = django_filters.ModelChoiceFilter(
        queryset=Coalition.objects.all(), method="filter_coalition", label="Coalition"
    )

    class Meta:
        model = Contact
        fields = ["coalition", "is_authorized_signer", "is_primary", "email_opt_out"]

    def filter_coalition(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            models.Exists(
                Membership.objects.filter(
                    organization_id=models.OuterRef("organization_id"),
                    coalition=value,
                    left_on__isnull=True,
                )
            )
        )


class ContactIndexView(CoalitionIndexView):
    export_permission = "coalition.export_contacts"

    def get_base_queryset(self) -> models.QuerySet:
        # Contacts of pending requests and of merged records are not members' contacts.
        return Contact.objects.filter(is_member("organization__")).select_related("organization")

    def search_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if not self.is_searching:
            return queryset
        return search_contacts(queryset, self.search_query)


class ContactViewSet(ModelViewSet):
    model = Contact
    delete_view_class = KeepReferencedDeleteView
    icon = "user"
    menu_label = "Contacts"
    index_view_class = ContactIndexView
    copy_view_enabled = False
    list_per_page = 50
    list_display = [
        "name",
        Column("email", label="Email", sort_key="email", classname="coalition-email"),
        Column(
            "organization",
            label="Organization",
            accessor="organization.name",
            sort_key="organization__sort_name",
        ),
        "title",
        YesNoColumn("is_authorized_signer", label="Authorized signer"),
        YesNoColumn("is_primary", label="Primary"),
        YesNoColumn("email_opt_out", label="Opted out"),
    ]
    filterset_class = ContactFilterSet
    list_export = [
        "name",
        "email",
        "title",
        "phone",
        "organization.name",
        "is_authorized_signer",
        "is_primary",
        "email_opt_out",
    ]
    export_headings = {"organization.name": "Organization"}
    export_filename = "contacts"
    edit_handler = ObjectList(
        [
            FieldPanel("organization", widget=OrganizationChooser),
            FieldRowPanel([FieldPanel("name"), FieldPanel("email")]),
            FieldRowPanel([FieldPanel("title"), FieldPanel("phone")]),
            FieldRowPanel(
                [
                    FieldPanel("is_authorized_signer"),
                    FieldPanel("is_primary"),
                    FieldPanel("email_opt_out"),
                ]
            ),
            FieldPanel("user"),
        ],
        base_form_class=ContactForm,
    )


class MembershipIndexView(CoalitionIndexView):
    def get_base_queryset(self) -> models.QuerySet:
        return Membership.objects.filter(is_member("organization__")).select_related(
            "organization", "coalition"
        )

    def search_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if not self.is_searching:
            return queryset
        return search_memberships(queryset, self.search_query)


class MembershipFilterSet(WagtailFilterSet):
    active = django_filters.BooleanFilter(
        field_name="left_on", lookup_expr="isnull", label="Active"
    )

    class Meta:
        model = Membership
        fields = ["coalition", "tier", "active"]


class MembershipViewSet(ModelViewSet):
    model = Membership
    delete_view_class = KeepReferencedDeleteView
    icon = "list-ul"
    menu_label = "Memberships"
    index_view_class = MembershipIndexView
    copy_view_enabled = False
    list_per_page = 50
    search_fields = ["organization__name"]
    list_display = [
        Column(
            "organization",
            label="Organization",
            accessor="organization.name",
            sort_key="organization__sort_name",
        ),
        Column(
            "coalition", label="Coalition", accessor="coalition.name", sort_key="coalition__name"
        ),
        Column("tier", label="Tier", accessor="get_tier_display", sort_key="tier"),
        "joined_on",
        "left_on",
    ]
    filterset_class = MembershipFilterSet
    list_export = [
        "organization.name",
        "organization.acronym",
        "coalition.name",
        "tier",
        "joined_on",
        "left_on",
    ]
    export_headings = {
        "organization.name": "Organization",
        "organization.acronym": "Acronym",
        "coalition.name": "Coalition",
    }
    export_filename = "memberships"
    edit_handler = ObjectList(
        [
            FieldPanel("organization", widget=OrganizationChooser),
            FieldRowPanel([FieldPanel("coalition"), FieldPanel("tier")]),
            FieldRowPanel([FieldPanel("joined_on"), FieldPanel("left_on")]),
        ]
    )


class InteractionIndexView(CoalitionIndexView):
    # The user as the listing prints it (str() of Django's user is the username).
    export_lookups = {"author": "author__username"}

    def get_base_queryset(self) -> models.QuerySet:
        return Interaction.objects.select_related("organization", "contact", "author")

    def search_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if not self.is_searching:
            return queryset
        return search_interactions(queryset, self.search_query)


class InteractionFilterSet(WagtailFilterSet):
    occurred_on = django_filters.DateFromToRangeFilter(label="Date", widget=DateRangePickerWidget)

    class Meta:
        model = Interaction
        fields = ["kind", "occurred_on"]


class InteractionViewSet(ModelViewSet):
    model = Interaction
    delete_view_class = KeepReferencedDeleteView
    icon = "comment"
    menu_label = "Interactions"
    index_view_class = InteractionIndexView
    copy_view_enabled = False
    list_per_page = 50
    search_fields = ["summary"]
    ordering = "-occurred_on"
    list_display = [
        Column(
            "organization",
            label="Organization",
            accessor="organization.name",
            sort_key="organization__sort_name",
        ),
        Column("kind", label="Kind", accessor="get_kind_display", sort_key="kind"),
        "occurred_on",
        Column("contact", label="Contact", accessor="contact.name"),
        Column(
            "author", label="By", accessor=lambda i: i.author.get_username() if i.author else ""
        ),
        "summary",
    ]
    filterset_class = InteractionFilterSet
    list_export = ["occurred_on", "kind", "organization.name", "contact.name", "author", "summary"]
    export_headings = {
        "organization.name": "Organization",
        "contact.name": "Contact",
        "author": "By",
    }
    export_filename = "interactions"
    edit_handler = ObjectList(
        [
            FieldPanel("organization", widget=OrganizationChooser),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("occurred_on")]),
            FieldPanel("contact", widget=ContactChooser),
            FieldPanel("summary"),
        ]
    )


class CoalitionIndexViewWithCounts(CoalitionIndexView):
    def get_base_queryset(self) -> models.QuerySet:
        active = (
            Membership.objects.filter(coalition_id=models.OuterRef("pk"), left_on__isnull=True)
            .filter(is_member("organization__"))
            .order_by()
            .values("coalition_id")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return Coalition.objects.annotate(member_count=Coalesce(models.Subquery(active), 0))


class CoalitionViewSet(ModelViewSet):
    model = Coalition
    delete_view_class = KeepReferencedDeleteView
    icon = "site"
    menu_label = "Coalitions"
    index_view_class = CoalitionIndexViewWithCounts
    copy_view_enabled = False
    search_fields = ["name", "description"]
    list_display = [
        "name",
        "slug",
        Column("member_count", label="Active members", sort_key="member_count"),
    ]
    list_export = ["name", "slug", "description", "member_count"]
    export_headings = {"member_count": "Active members"}
    export_filename = "coalitions"
    form_fields = ["name", "slug", "description"]


class ImportViewSet(ViewSet):
    """The members import as a menu item of its own."""

    icon = "upload"
    menu_label = "Import members"

    @property
    def menu_item_class(self) -> type:
        from wagtail.admin.menu import MenuItem

        class ImportMenuItem(MenuItem):
            def is_shown(self, request) -> bool:
                return request.user.has_perm("coalition.import_organizations")

        return ImportMenuItem

    def get_urlpatterns(self) -> list:
        return [path("", views.import_view, name="index")]


class CoalitionViewSetGroup(ViewSetGroup):
    menu_label = "Coalition"
    menu_icon = "group"
    menu_order = 150
    items = (
        OrganizationViewSet("coalition_organizations", url_prefix="coalition/organizations"),
        ContactViewSet("coalition_contacts", url_prefix="coalition/contacts"),
        MembershipViewSet("coalition_memberships", url_prefix="coalition/memberships"),
        InteractionViewSet("coalition_interactions", url_prefix="coalition/interactions"),
        CoalitionViewSet("coalition_coalitions", url_prefix="coalition/coalitions"),
        ImportViewSet("coalition_import", url_prefix="coalition/import"),
    )
