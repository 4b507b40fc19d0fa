"""The choosers of organizations and contacts, which search as the listings do."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.viewsets.chooser import ChooserViewSet

from coalition.crm.models import (
    Contact,
    Organization,
)
from coalition.crm.selectors import (
    current_organizations,
    search_organizations,
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

    def filter(self, objects: models.QuerySet[Organization]) -> models.QuerySet[Organization]:
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

    def get_object_list(self) -> models.QuerySet[Organization]:
        return current_organizations()

    def get_common_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
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
