"""Contacts, memberships, interactions and coalitions in the admin, and the CRM's menu."""

import django_filters
from django.db import models
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import URLPattern, path
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from coalition.crm import columns, views
from coalition.crm.forms import ContactForm
from coalition.crm.models import (
    Coalition,
    Contact,
    Interaction,
    Membership,
)
from coalition.crm.selectors import (
    is_member,
    search_contacts,
    search_interactions,
    search_memberships,
)

from .choosers import ContactChooser, OrganizationChooser
from .listings import CoalitionIndexView, KeepReferencedDeleteView
from .organizations import OrganizationViewSet
from .tables import PlainColumn, YesNoColumn


class ContactFilterSet(WagtailFilterSet):
    coalition = django_filters.ModelChoiceFilter(
        queryset=Coalition.objects.all(), method="filter_coalition", label="Coalition"
    )

    class Meta:
        model = Contact
        fields = ["coalition", "is_authorized_signer", "is_primary", "email_opt_out"]

    def filter_coalition(
        self, queryset: models.QuerySet[Contact], name: str, value: Coalition | None
    ) -> models.QuerySet[Contact]:
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

    def get_base_queryset(self) -> models.QuerySet[Contact]:
        # Contacts of pending requests and of merged records are not members' contacts.
        return Contact.objects.filter(is_member("organization__")).select_related("organization")

    def search_queryset(self, queryset: models.QuerySet[Contact]) -> models.QuerySet[Contact]:
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
        PlainColumn("email", label="Email", sort_key="email", classname="coalition-email"),
        PlainColumn(
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
    # Imported back as they are: the columns' import names follow the headings (coalition.crm.columns).
    list_export = columns.export_fields(columns.CONTACTS_EXPORT)
    export_headings = columns.export_headings(columns.CONTACTS_EXPORT)
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
    def get_base_queryset(self) -> models.QuerySet[Membership]:
        return Membership.objects.filter(is_member("organization__")).select_related(
            "organization", "coalition"
        )

    def search_queryset(self, queryset: models.QuerySet[Membership]) -> models.QuerySet[Membership]:
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
        PlainColumn(
            "organization",
            label="Organization",
            accessor="organization.name",
            sort_key="organization__sort_name",
        ),
        PlainColumn(
            "coalition", label="Coalition", accessor="coalition.name", sort_key="coalition__name"
        ),
        PlainColumn("tier", label="Tier", accessor="get_tier_display", sort_key="tier"),
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

    def get_base_queryset(self) -> models.QuerySet[Interaction]:
        return Interaction.objects.select_related("organization", "contact", "author")

    def search_queryset(
        self, queryset: models.QuerySet[Interaction]
    ) -> models.QuerySet[Interaction]:
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
        PlainColumn(
            "organization",
            label="Organization",
            accessor="organization.name",
            sort_key="organization__sort_name",
        ),
        PlainColumn("kind", label="Kind", accessor="get_kind_display", sort_key="kind"),
        "occurred_on",
        PlainColumn("contact", label="Contact", accessor="contact.name"),
        PlainColumn(
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
    def get_base_queryset(self) -> models.QuerySet[Coalition]:
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
        PlainColumn("member_count", label="Active members", sort_key="member_count"),
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
            def is_shown(self, request: HttpRequest) -> bool:
                return request.user.has_perm("coalition.import_organizations")

        return ImportMenuItem

    def get_urlpatterns(self) -> list[URLPattern]:
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
