"""Staff views in the Wagtail admin: sign-on list, opening form, tracker, export, review queue."""

import csv
import io
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from coalition.viewsets import neutralise_formula

from . import emails, selectors, services
from .deadlines import describe_deadline
from .forms import OpenLinkForm, OpenSignOnForm, RecirculateForm, RejectForm
from .models import Signature, SignOn


def require_perm(codename: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(f"signatories.{codename}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@require_perm("view_signon")
def index(request: HttpRequest) -> TemplateResponse:
    sign_ons = SignOn.objects.select_related("letter").order_by("-created_at")
    return TemplateResponse(
        request,
        "signatories/admin/index.html",
        {
            "page_title": "Sign-ons",
            "header_icon": "doc-full-inverse",
            "sign_ons": sign_ons,
            "pending_count": Signature.objects.filter(
                status=Signature.Status.PENDING_REVIEW, sign_on__isnull=False
            ).count(),
        },
    )


@require_perm("add_signon")
def open_sign_on(request: HttpRequest) -> HttpResponse:
    form = OpenSignOnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = services.Actor.from_request(request)
        try:
            sign_on = services.create_sign_on(
                revision=data["approval"].revision,
                deadline=data["deadline"],
                coalitions=data["coalitions"],
                tiers=data["tiers"],
                organizations=data["organizations"],
                message=data["message"],
                auto_approve_authorized=data["auto_approve_authorized"],
                show_signatories=data["show_signatories"],
                reminder_days=data["reminder_days"],
                actor=actor,
            )
            sign_on = services.open_sign_on(sign_on=sign_on, actor=actor)
            token = (
                services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
                if data["accepts_requests"]
                else ""
            )
        except services.SignOnError as error:
            field = {"revision": "approval"}.get(error.field, error.field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                f"The sign-on is open: {sign_on.invitations.count()} organizations are being invited.",
            )
            if token:
                _announce_open_link(request, token)
            return redirect("signatories_admin:tracker", sign_on.pk)
    return TemplateResponse(
        request,
        "signatories/admin/open.html",
        {"page_title": "Open a sign-on", "header_icon": "doc-full-inverse", "form": form},
        status=400 if form.errors else 200,
    )


def _announce_open_link(request: HttpRequest, token: str) -> None:
    url = emails.absolute_url(reverse("signatories:open_link", args=[token]))
    messages.success(
        request,
        f"The open link is {url} — copy it now: it is shown only this once. "
        "Anyone with it may ask to sign; every such signature waits for your review.",
    )


@require_POST
@require_perm("change_signon")
def issue_open_link(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    form = OpenLinkForm(request.POST)
    form.is_valid()  # a single optional checkbox: always valid
    try:
        token = services.issue_open_link(
            sign_on=sign_on,
            accepts_requests=form.cleaned_data.get("accepts_requests", False),
            actor=services.Actor.from_request(request),
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        _announce_open_link(request, token)
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def close_open_link(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    try:
        services.close_open_link(sign_on=sign_on, actor=services.Actor.from_request(request))
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The open link is turned off; it no longer opens anything.")
    return redirect("signatories_admin:tracker", pk)


@require_perm("view_signon")
def tracker(request: HttpRequest, pk: int) -> TemplateResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    rows = selectors.organization_rows(sign_on)
    totals, by_group = selectors.counts(rows)
    return TemplateResponse(
        request,
        "signatories/admin/tracker.html",
        {
            "page_title": f"Sign-on: {sign_on.letter.title}",
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "deadline_words": describe_deadline(sign_on.deadline),
            "reminder_schedule": services.describe_reminder_schedule(sign_on),
            "rows": rows,
            "totals": totals,
            "by_group": by_group,
            "chart": selectors.response_chart(sign_on),
            "awaiting_reconfirmation": sum(1 for r in rows if r.state == "needs_reconfirmation"),
            "open_link_counts": selectors.open_link_counts(sign_on),
            "open_link_form": OpenLinkForm(initial={"accepts_requests": sign_on.accepts_requests}),
            "recirculate_form": RecirculateForm(sign_on=sign_on)
            if sign_on.status == SignOn.Status.OPEN
            else None,
            "events": sign_on.events.select_related("organization").order_by("-sequence")[:50],
            "chain_problems": services.verify_event_chain(sign_on=sign_on)
            if request.GET.get("verify")
            else None,
        },
    )


EXPORT_HEADINGS = [
    "Organization",
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


def _export_values(row: selectors.OrganizationRow) -> list[str]:
    response = row.response
    invitation = row.invitation

    def when(value) -> str:
        return value.isoformat(timespec="minutes") if value else ""

    return [
        invitation.organization.name,
        "; ".join(f"{coalition} ({tier})" for coalition, tier in row.groups),
        row.state_label,
        response.display_name if response else "",
        response.signer_name if response else "",
        response.signer_title if response else "",
        response.signer_email if response else "",
        when(invitation.sent_at),
        when(invitation.opened_at),
        when(invitation.responded_at),
    ]


@require_perm("view_signon")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    rows = [_export_values(row) for row in selectors.organization_rows(sign_on)]
    filename = f"sign-on-{sign_on.letter.slug}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Organizations"
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
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow(EXPORT_HEADINGS)
        writer.writerows([[neutralise_formula(v) for v in values] for values in rows])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@require_POST
@require_perm("change_signon")
def close(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    try:
        services.close_sign_on(sign_on=sign_on, actor=services.Actor.from_request(request))
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The sign-on is closed; responses are refused from now on.")
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    try:
        reminded = services.send_reminders(
            sign_on=sign_on, actor=services.Actor.from_request(request), force=True
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Reminding {len(reminded)} organizations that have not responded."
        )
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    try:
        publication = services.publish_sign_on(
            sign_on=sign_on, actor=services.Actor.from_request(request)
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Published “{publication.letter.title}” with {len(publication.signatories)} "
            "signatories; its PDF is rendered once and kept.",
        )
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn, pk=pk)
    try:
        services.cancel_sign_on(
            sign_on=sign_on,
            actor=services.Actor.from_request(request),
            reason=request.POST.get("reason", "")[:2000],
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The sign-on is cancelled.")
    return redirect("signatories_admin:tracker", pk)


@require_perm("change_signon")
def review(request: HttpRequest) -> TemplateResponse:
    pending = (
        Signature.objects.filter(status=Signature.Status.PENDING_REVIEW, sign_on__isnull=False)
        .select_related("organization", "invitation", "sign_on", "sign_on__letter")
        .order_by("created_at")
    )
    return TemplateResponse(
        request,
        "signatories/admin/review.html",
        {
            "page_title": "Signatures to review",
            "header_icon": "doc-full-inverse",
            "pending": pending,
            "reject_form": RejectForm(),
        },
    )


@require_POST
@require_perm("change_signon")
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(Signature, pk=pk, sign_on__isnull=False)
    try:
        services.approve_signature(signature=signature, actor=services.Actor.from_request(request))
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Approved the signature of {signature.display_name}.")
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(Signature, pk=pk, sign_on__isnull=False)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Reason: give the reason for rejecting; it is emailed to the signer."
        )
        return redirect("signatories_admin:review")
    try:
        services.reject_signature(
            signature=signature,
            reason=form.cleaned_data["reason"],
            actor=services.Actor.from_request(request),
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Rejected the signature of {signature.display_name}.")
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def recirculate(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("revision"), pk=pk)
    form = RecirculateForm(request.POST, sign_on=sign_on)
    if not form.is_valid():
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}")
        return redirect("signatories_admin:tracker", pk)
    data = form.cleaned_data
    material = data["change"] == "material"
    try:
        services.recirculate_sign_on(
            sign_on=sign_on,
            revision=data["approval"].revision,
            material=material,
            note=data["note"],
            actor=services.Actor.from_request(request),
        )
    except services.SignOnError as error:
        field = {"revision": "approval"}.get(error.field, error.field)
        label = form.fields[field].label if field in form.fields else None
        messages.error(request, f"{label}: {error.message}" if label else error.message)
    else:
        messages.success(
            request,
            "The new revision is circulated; every signer is asked to reconfirm."
            if material
            else "The new revision is circulated; the signatures stand.",
        )
    return redirect("signatories_admin:tracker", pk)
