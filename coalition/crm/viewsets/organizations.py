"""The organizations' listing, filters, exports, forms and pages in the admin."""

from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.html import format_html, format_html_join
from taggit.models import Tag
from wagtail.admin import messages as admin_messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from coalition.crm import columns, views
from coalition.crm.duplicates import mark_distinct
from coalition.crm.forms import OrganizationForm
from coalition.crm.models import (
    Coalition,
    Contact,
    Membership,
    Organization,
    OrganizationTag,
)
from coalition.crm.selectors import (
    current_organizations,
    search_organizations,
)

from .listings import CoalitionIndexView, ExportRow, KeepReferencedDeleteView, Rows
from .tables import PlainColumn


def _in_coalition(coalition: str, tier: str) -> str:
    return f"{coalition} ({Membership.Tier(tier).label.lower()})"


def _active_coalitions(org: Organization) -> str:
    return ", ".join(_in_coalition(m.coalition.name, m.tier) for m in org.active_memberships)


Organizations = models.QuerySet[Organization]

if TYPE_CHECKING:

    class _FormView(generic.CreateView):
        """Wagtail's add and edit views, which the mixin below joins (untyped: Any to mypy)."""

else:
    _FormView = object


# An export reads each organization's coalitions and tags as one string per row, aggregated by
# the database in the same query: a control character no name contains separates the parts,
# which Python sorts (SQLite before 3.44 cannot order inside an aggregate).
PART = "\x1f"
PAIR = "\x1e"


def _aggregated(
    rows: models.QuerySet[models.Model], group_by: str, value: models.Expression | str
) -> models.Subquery:
    return models.Subquery(
        rows.order_by()
        .values(group_by)
        .annotate(joined=models.StringAgg(value, models.Value(PART)))
        .values("joined")
    )


def _parts(joined: object) -> list[str]:
    """The parts an aggregate joined, None where it had none to join."""
    return [part for part in str(joined or "").split(PART) if part]


def _exported_coalitions(row: ExportRow) -> str:
    """Every membership with its tier and the day it began, which the import reads back:
    "Digital Trade Coalition (lead; joined 2021-03-01), AI Policy Working Group (member; …)"."""
    memberships = sorted(part.split(PAIR) for part in _parts(row["exported_coalitions"]))
    return ", ".join(
        f"{_in_coalition(coalition, tier)[:-1]}; joined {joined[:10]})"
        if joined
        else _in_coalition(coalition, tier)
        for coalition, tier, joined in memberships
    )


def _exported_tags(row: ExportRow) -> str:
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = [
            (c, c)
            for c in current_organizations()
            .exclude(country="")
            .order_by("country")
            .values_list("country", flat=True)
            .distinct()
        ]

    def _memberships(self) -> models.QuerySet[Membership]:
        active = Membership.objects.filter(
            organization_id=models.OuterRef("pk"), left_on__isnull=True
        )
        data = self.form.cleaned_data
        if data.get("coalition"):
            active = active.filter(coalition=data["coalition"])
        if data.get("tier"):
            active = active.filter(tier=data["tier"])
        return active

    def filter_coalition(
        self, queryset: Organizations, name: str, value: Coalition | None
    ) -> Organizations:
        return queryset.filter(models.Exists(self._memberships())) if value else queryset

    def filter_tier(self, queryset: Organizations, name: str, value: str) -> Organizations:
        # Coalition and tier together mean "this tier in that coalition"; one Exists covers both.
        if not value or self.form.cleaned_data.get("coalition"):
            return queryset
        return queryset.filter(models.Exists(self._memberships()))

    def filter_tag(self, queryset: Organizations, name: str, value: Tag | None) -> Organizations:
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

    def filter_queryset(self, queryset: Organizations) -> Organizations:
        queryset = super().filter_queryset(queryset)
        asked = ""
        if self.filters and self.filters.is_valid():
            asked = self.filters.form.cleaned_data.get("status") or ""
        # Pending requests are no members: only asking for them by status lists them.
        if asked != Organization.Status.PENDING:
            queryset = queryset.exclude(status=Organization.Status.PENDING)
        return queryset

    def get_base_queryset(self) -> Organizations:
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

    def order_queryset(self, queryset: Organizations) -> Organizations:
        if self.ordering in ("contact_count", "-contact_count"):
            queryset = queryset.annotate(contact_count=_contact_count())
        return super().order_queryset(queryset)

    def paginate_queryset(
        self, queryset: Organizations, page_size: int
    ) -> tuple[Paginator[Organization], Page[Organization], list[Organization], bool]:
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = object_list = _with_contact_counts(list(object_list))
        return paginator, page, object_list, is_paginated

    def get_export_queryset(self, queryset: Rows) -> Rows:
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

    def search_queryset(self, queryset: Organizations) -> Organizations:
        if not self.is_searching:
            return queryset
        return search_organizations(queryset, self.search_query)

    @property
    def header_more_buttons(self) -> list[Button]:
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


class OrganizationFormMixin(_FormView):
    """The add and edit views of an organization: warnings that link, and "different" recorded."""

    produced_error_message: str | None

    def form_invalid(self, form: OrganizationForm) -> HttpResponse:
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
                    mark_distinct(instance, other, user=views.acting_user(self.request))
        return instance


class OrganizationCreateView(OrganizationFormMixin, generic.CreateView):
    template_name = "coalition/organization/create.html"


class OrganizationEditView(OrganizationFormMixin, generic.EditView):
    template_name = "coalition/organization/edit.html"

    def get_queryset(self) -> Organizations:
        # A record kept after a merge has a freed name key that saving would compute again.
        return current_organizations()


class OrganizationInspectView(generic.InspectView):
    template_name = "coalition/organization/inspect.html"

    def get_object(self, queryset: Organizations | None = None) -> Organization:
        return views.get_organization_for_page(self.pk)

    def get_page_title(self) -> str:
        return self.object.printed_name

    def get_edit_url(self) -> str | None:
        # A record kept after a merge is history: its page links to the survivor instead.
        return None if self.object.merged_into_id else super().get_edit_url()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
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
        PlainColumn("kind", label="Kind", accessor="get_kind_display", sort_key="kind"),
        PlainColumn("country", label="Country", sort_key="country"),
        PlainColumn("coalitions", label="Coalitions", accessor=_active_coalitions),
        PlainColumn("contact_count", label="Contacts", sort_key="contact_count"),
        PlainColumn("status", label="Status", accessor="get_status_display", sort_key="status"),
    ]
    filterset_class = OrganizationFilterSet
    # The columns the members import reads, under headings it knows (coalition.crm.columns), so
    # that a file exported, edited and imported again changes only what was edited.
    list_export = columns.export_fields(columns.ORGANIZATIONS_EXPORT)
    export_headings = columns.export_headings(columns.ORGANIZATIONS_EXPORT)
    export_filename = "organizations"
    edit_handler = ORGANIZATION_PANELS

    def get_urlpatterns(self) -> list[URLPattern | URLResolver]:
        return [
            *super().get_urlpatterns(),
            path("log/<int:pk>/", views.log_interaction_view, name="log_interaction"),
            path("merge/<int:pk>/", views.merge_view, name="merge"),
            path("duplicates/", views.likely_duplicates_view, name="duplicates"),
            path("duplicates/distinct/", views.not_duplicates_view, name="not_duplicates"),
        ]
