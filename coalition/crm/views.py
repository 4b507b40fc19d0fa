"""Admin views of the member CRM beyond Wagtail's generic ones: log, merge, duplicates, import."""

from typing import cast

from django import forms
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from coalition.crm.duplicates import likely_duplicate_pairs, mark_distinct
from coalition.crm.forms import MERGE_PERMISSIONS, ImportForm, LogInteractionForm, MergeForm
from coalition.crm.imports import import_members
from coalition.crm.imports.uploads import keep_upload, take_upload
from coalition.crm.merging import merge_preview
from coalition.crm.models import Membership, Organization
from coalition.crm.selectors import (
    current_organizations,
    find_duplicate_organizations,
    organization_timeline,
    search_organizations,
)
from coalition.crm.services import CoalitionError, MergeError, log_interaction, merge_organizations

IMPORT_SALT = "coalition.import"
MAX_REPORT_ROWS = 1000
# Enough to see what is wrong with a file; a file wrong on every row says so in one line more.
MAX_REPORT_ERRORS = 100


def _is_id(value: str) -> bool:
    # ASCII digits only: "²" is a digit to str.isdigit() and an error to int().
    return value.isascii() and value.isdigit()


def acting_user(request: HttpRequest) -> User | None:
    """The signed-in person a change is recorded under; None for nobody signed in."""
    return request.user if isinstance(request.user, User) else None


def _deny_unless(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def get_organization_for_page(pk: int) -> Organization:
    """An organization with everything its page shows, in a fixed number of queries."""
    return get_object_or_404(
        Organization.objects.select_related("logo", "merged_into").prefetch_related(
            "contacts",
            "tags",
            models.Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("coalition").order_by(
                    "left_on", "coalition__name"
                ),
            ),
        ),
        pk=pk,
    )


def organization_page_context(request: HttpRequest, org: Organization) -> dict[str, object]:
    user = request.user
    # A record kept after a merge is history: it is read, never edited or merged again.
    current = org.merged_into_id is None
    return {
        "organization": org,
        "contacts": list(org.contacts.all()),
        "memberships": list(org.memberships.all()),
        "tags": list(org.tags.all()),
        "timeline": organization_timeline(org),
        "log_form": LogInteractionForm(organization=org)
        if current and user.has_perm("coalition.add_interaction")
        else None,
        "log_url": reverse("coalition_organizations:log_interaction", args=[org.pk]),
        "edit_url": reverse("coalition_organizations:edit", args=[org.pk])
        if current and user.has_perm("coalition.change_organization")
        else None,
        "merge_url": reverse("coalition_organizations:merge", args=[org.pk])
        if current and user.has_perm("coalition.merge_organizations")
        else None,
        "merged_into_url": reverse("coalition_organizations:inspect", args=[org.merged_into_id])
        if not current
        else None,
        "history_url": reverse("coalition_organizations:history", args=[org.pk]),
    }


@require_POST
def log_interaction_view(request: HttpRequest, pk: int) -> HttpResponse:
    _deny_unless(request, "coalition.add_interaction")
    org = get_object_or_404(current_organizations(), pk=pk)
    page = reverse("coalition_organizations:inspect", args=[org.pk])
    form = LogInteractionForm(request.POST, organization=org)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label or name.title() if name in form.fields else 'Form'}: {' '.join(str(error) for error in errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"The interaction was not logged. {problems}")
        return redirect(page)
    try:
        log_interaction(
            organization=org,
            author=acting_user(request),
            kind=form.cleaned_data["kind"],
            summary=form.cleaned_data["summary"],
            occurred_on=form.cleaned_data["occurred_on"],
            contact=form.cleaned_data["contact"],
        )
    except CoalitionError as error:
        messages.error(request, f"The interaction was not logged. {error}")
    else:
        messages.success(request, f"Logged the {form.cleaned_data['kind']} with {org.name}.")
    return redirect(page)


def merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the duplicate, see both records side by side and what the merge makes of each
    field and relation, and only then merge (POST)."""
    _deny_unless(request, *MERGE_PERMISSIONS)
    survivor = get_object_or_404(current_organizations(), pk=pk)
    query = request.GET.get("q", "").strip()
    # Pending requests may be merged into the member they duplicate; tombstones are history.
    others = current_organizations().exclude(pk=survivor.pk)
    chosen = None
    form = MergeForm(request.POST or None)
    cast(forms.ModelChoiceField[Organization], form.fields["duplicate"]).queryset = others
    if request.method == "POST" and form.is_valid():
        chosen = duplicate = form.cleaned_data["duplicate"]
        try:
            result = merge_organizations(
                survivor=survivor, duplicate=duplicate, user=acting_user(request)
            )
        except MergeError as error:
            messages.error(request, str(error))
        else:
            moved = ", ".join(f"{n} {what}" for what, n in result.moved.items()) or "nothing else"
            kept = (
                f" {duplicate.name} is kept, archived, as a record of the merge, because "
                "history refers to it."
                if result.kept
                else ""
            )
            messages.success(
                request, f"Merged {duplicate.name} into {survivor.name} (moved {moved}).{kept}"
            )
            return redirect("coalition_organizations:inspect", survivor.pk)
    elif request.method != "POST":
        # The pair offered by the list of likely duplicates or the editor's warning, or chosen
        # below: compared side by side before anything is merged.
        duplicate_id = request.GET.get("duplicate", "")
        chosen = others.filter(pk=duplicate_id).first() if _is_id(duplicate_id) else None
    if query:
        candidates = list(search_organizations(others, query)[:20])
        reasons = {}
    else:
        found = find_duplicate_organizations(
            name=survivor.name,
            acronym=survivor.acronym,
            website=survivor.website,
            exclude_pk=survivor.pk,
        )
        candidates = [org for org, _ in found]
        reasons = {org.pk: reason for org, reason in found}
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    return TemplateResponse(
        request,
        "coalition/organization/merge.html",
        {
            "survivor": survivor,
            "form": form,
            "query": query,
            "candidates": [(org, reasons.get(org.pk, "")) for org in candidates],
            "chosen": chosen.pk if chosen is not None else None,
            "preview": merge_preview(survivor=survivor, duplicate=chosen)
            if chosen is not None
            else None,
            "page_url": reverse("coalition_organizations:inspect", args=[survivor.pk]),
        },
    )


def likely_duplicates_view(request: HttpRequest) -> HttpResponse:
    """Pairs of organizations that look like one, each with a link to merge them."""
    _deny_unless(request, *MERGE_PERMISSIONS)
    pairs = [
        {
            "older": older,
            "newer": newer,
            "reason": reason,
            "merge_url": reverse("coalition_organizations:merge", args=[older.pk])
            + f"?duplicate={newer.pk}",
        }
        for older, newer, reason in likely_duplicate_pairs()
    ]
    return TemplateResponse(request, "coalition/duplicates.html", {"pairs": pairs})


@require_POST
def not_duplicates_view(request: HttpRequest) -> HttpResponse:
    """Staff say a pair offered as likely duplicates are two organizations: it is not offered again."""
    _deny_unless(request, "coalition.merge_organizations", "coalition.change_organization")
    ids = [request.POST.get("older", ""), request.POST.get("newer", "")]
    if not all(_is_id(value) for value in ids):
        messages.error(request, "Choose the two organizations from the list.")
        return redirect("coalition_organizations:duplicates")
    found = current_organizations().in_bulk([int(value) for value in ids])
    if len(found) != 2:
        messages.error(request, "One of the two organizations no longer exists, or was merged.")
        return redirect("coalition_organizations:duplicates")
    older, newer = (found[int(value)] for value in ids)
    mark_distinct(older, newer, user=acting_user(request))
    messages.success(
        request, f"{older.name} and {newer.name} are kept apart: they are no longer offered."
    )
    return redirect("coalition_organizations:duplicates")


@permission_required("coalition.import_organizations", raise_exception=True)
def import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm()
    report = None
    token = ""
    if request.method == "POST" and request.POST.get("token"):
        try:
            stored = signing.loads(request.POST["token"], salt=IMPORT_SALT, max_age=3600)
        except signing.BadSignature:
            messages.error(request, "That upload has expired. Please choose the file again.")
            return redirect("coalition_import:index")
        upload = take_upload(upload_id=stored["upload"], user=request.user)
        if upload is None:
            messages.error(request, "That upload has already been imported or has expired.")
            return redirect("coalition_import:index")
        report = import_members(data=bytes(upload.data), filename=upload.name, dry_run=False)
        if report.ok:
            messages.success(request, report.summary())
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            data = upload_file.read()
            report = import_members(data=data, filename=upload_file.name, dry_run=True)
            if report.ok:
                # The real run reads the same bytes back: the user confirms what the dry run showed.
                kept = keep_upload(data=data, name=upload_file.name, user=request.user)
                token = signing.dumps({"upload": str(kept.pk)}, salt=IMPORT_SALT)
    rows = report.rows if report else []
    errors = report.errors if report else []
    return TemplateResponse(
        request,
        "coalition/import.html",
        {
            "form": form,
            "report": report,
            "rows": rows[:MAX_REPORT_ROWS],
            "rows_hidden": max(0, len(rows) - MAX_REPORT_ROWS),
            "errors": errors[:MAX_REPORT_ERRORS],
            "errors_hidden": max(0, len(errors) - MAX_REPORT_ERRORS),
            "token": token,
        },
    )
