"""Staff views in the Wagtail admin: sign-on list, opening form, tracker, export, review queue."""

import csv
import datetime
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from coalition.viewsets import neutralise_formula
from letters.models import LetterPage

from . import emails, selectors, services
from .forms import (
    AddSignatoryForm,
    CancelForm,
    CorrectionForm,
    OpenLinkForm,
    OpenSignOnForm,
    RecirculateForm,
    RejectForm,
    RetractForm,
)
from .models import Signature, SignOn

View = Callable[..., HttpResponse]


def require_perm(codename: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
            "pending_count": selectors.review_queue().count(),
        },
    )


def _picked_from_query(request: HttpRequest) -> dict[str, Any]:
    """Organizations named in the address (`?organizations=3&organizations=7`), ticked in advance.

    The Word import links here with the members its signatory block names. Ids that are not
    numbers or not active organizations are left out, as the form would refuse them.
    """
    if request.method != "GET":
        return {}
    ids = [int(value) for value in request.GET.getlist("organizations") if value.isdigit()]
    if not ids:
        return {}
    queryset = OpenSignOnForm.base_fields["organizations"].queryset  # type: ignore[attr-defined]
    return {"organizations": list(queryset.filter(pk__in=ids).order_by("pk"))}


@require_perm("add_signon")
def open_sign_on(request: HttpRequest) -> HttpResponse:
    form = OpenSignOnForm(request.POST or None, initial=_picked_from_query(request))
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
                recipients=data["recipients"],
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
            field = {"revision": "approval"}.get(error.field or "", error.field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                f"The sign-on is open: {sign_on.invitations.count()} people at "
                f"{sign_on.invitations.values('organization').distinct().count()} organizations "
                "are being invited.",
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
    sign_on = get_object_or_404(SignOn.objects.select_related("letter", "revision"), pk=pk)
    counts = selectors.tally(sign_on)
    return TemplateResponse(
        request,
        "signatories/admin/tracker.html",
        {
            "page_title": f"Sign-on: {sign_on.letter.title}",
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "deadline_words": selectors.deadline_words(sign_on),
            "reminder_schedule": services.describe_reminder_schedule(sign_on),
            "tally": counts,
            "columns": selectors.COLUMNS,
            "chart": selectors.response_chart(sign_on),
            "chart_series": selectors.CHART_SERIES,
            "open_link_form": OpenLinkForm(initial={"accepts_requests": sign_on.accepts_requests}),
            "recirculate_form": RecirculateForm(sign_on=sign_on)
            if sign_on.status == SignOn.Status.OPEN
            else None,
            "events": sign_on.events.select_related("organization").order_by("-sequence")[:50],
            # Checked each time the tracker opens: a rewrite shows before anyone acts on it.
            "chain_problems": selectors.verify_event_chain(sign_on=sign_on),
            "not_invited": selectors.audience_without_invitation(sign_on),
        },
    )


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
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
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


def _confirm(
    request: HttpRequest, sign_on: SignOn, *, title: str, template: str, **context: object
) -> TemplateResponse:
    """The page that says what an irreversible action will do, before it is done."""
    return TemplateResponse(
        request,
        f"signatories/admin/{template}",
        {
            "page_title": title,
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "deadline_words": selectors.deadline_words(sign_on),
            **context,
        },
    )


@require_POST
@require_perm("change_signon")
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite the audience's people added since the sign-on opened (a new contact, say)."""
    sign_on = get_object_or_404(SignOn, pk=pk)
    audience = services.audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )
    try:
        invited = services.invite_organizations(
            sign_on=sign_on, organizations=audience, actor=services.Actor.from_request(request)
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Invited {len(invited)} {'person' if len(invited) == 1 else 'people'}."
        )
    return redirect("signatories_admin:tracker", pk)


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


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    if request.method == "GET":
        return _confirm(
            request,
            sign_on,
            title="Send a reminder now",
            template="confirm_remind.html",
            recipients=services.reminder_recipients(sign_on, force=True),
        )
    try:
        reminded = services.send_reminders(
            sign_on=sign_on, actor=services.Actor.from_request(request), force=True
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        people = len(reminded)
        organizations = len({i.organization_id for i in reminded})
        messages.success(
            request,
            f"Reminding {people} {'person' if people == 1 else 'people'} at {organizations} "
            f"organization{'s' if organizations != 1 else ''} that have not answered.",
        )
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    if request.method == "GET":
        return _confirm(
            request,
            sign_on,
            title=f"Publish “{sign_on.letter.title}”",
            template="confirm_publish.html",
            lines=selectors.printable_lines(sign_on),
            waiting=selectors.review_queue()
            .filter(sign_on=sign_on, status=Signature.Status.PENDING_REVIEW)
            .count(),
            unreconfirmed=sign_on.signatures.filter(
                status=Signature.Status.NEEDS_RECONFIRMATION
            ).count(),
            chain_problems=selectors.verify_event_chain(sign_on=sign_on),
        )
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


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    form = CancelForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return _confirm(
            request,
            sign_on,
            title=f"Cancel the sign-on of “{sign_on.letter.title}”",
            template="confirm_cancel.html",
            form=form,
            tally=selectors.tally(sign_on),
        )
    try:
        services.cancel_sign_on(
            sign_on=sign_on,
            actor=services.Actor.from_request(request),
            reason=form.cleaned_data["reason"],
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The sign-on is cancelled; nothing of it will be published.")
    return redirect("signatories_admin:tracker", pk)


@require_perm("change_signon")
def review(request: HttpRequest) -> TemplateResponse:
    pending = [
        (signature, selectors.review_reasons(signature)) for signature in selectors.review_queue()
    ]
    return TemplateResponse(
        request,
        "signatories/admin/review.html",
        {
            "page_title": "Signatures to review",
            "header_icon": "doc-full-inverse",
            "pending": pending,
            "unconfirmed": selectors.unconfirmed_requests(),
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
def reject(request: HttpRequest) -> HttpResponse:
    """Reject the ticked signatures, all or none, with one reason."""
    chosen = list(
        Signature.objects.filter(
            pk__in=[pk for pk in request.POST.getlist("signature") if pk.isdigit()],
            sign_on__isnull=False,
        )
    )
    form = RejectForm(request.POST)
    if not chosen:
        messages.error(request, "Tick the signatures to reject.")
    elif not form.is_valid():
        messages.error(request, "Reason: give the reason for rejecting (at most 2000 characters).")
    else:
        try:
            rejected = services.reject_signatures(
                signatures=chosen,
                reason=form.cleaned_data["reason"],
                actor=services.Actor.from_request(request),
            )
        except services.SignOnError as error:
            messages.error(request, f"Nothing was rejected: {error.message}")
        else:
            emailed = sum(1 for s in rejected if s.confirmed_at or s.invitation_id)
            messages.success(
                request,
                f"Rejected {len(rejected)} signature{'s' if len(rejected) != 1 else ''}; "
                f"{emailed} signer{'s' if emailed != 1 else ''} emailed the reason.",
            )
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
        field = {"revision": "approval"}.get(error.field or "", error.field)
        label = form.fields[field].label if field in form.fields else None
        messages.error(request, f"{label}: {error.message}" if label else error.message)
    else:
        messages.success(
            request,
            "The new revision is circulated; every signer is asked to reconfirm, and those who "
            "have not answered are sent the new text."
            if material
            else "The new revision is circulated; the signatures stand.",
        )
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def corrections(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """A published letter's versions, the changes since the latest, and publishing a correction."""
    letter = get_object_or_404(LetterPage, pk=letter_pk)
    publications = list(letter.publications.order_by("-version"))
    if not publications:
        raise Http404("This letter is not published: there is nothing to correct.")
    actor = services.Actor.from_request(request)
    add_form = AddSignatoryForm(request.POST if request.POST.get("action") == "add" else None)
    correction_form = CorrectionForm(
        request.POST if request.POST.get("action") == "publish" else None
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and add_form.is_valid():
                data = add_form.cleaned_data
                services.add_signatory(letter=letter, actor=actor, **data)
                messages.success(
                    request, f"Added “{data['display_name']}”: it prints from the next correction."
                )
                return redirect("signatories_admin:corrections", letter_pk)
            if action == "retract":
                signature = get_object_or_404(
                    Signature, pk=request.POST.get("signature", 0), letter=letter
                )
                retract = RetractForm(request.POST)
                if retract.is_valid():
                    services.retract_signature(
                        signature=signature, reason=retract.cleaned_data["reason"], actor=actor
                    )
                    messages.success(
                        request,
                        f"Withdrew “{signature.display_name}”: it stops printing from the next "
                        "correction.",
                    )
                    return redirect("signatories_admin:corrections", letter_pk)
                messages.error(request, "Reason: say why the signature is withdrawn.")
            if action == "publish" and correction_form.is_valid():
                data = correction_form.cleaned_data
                publication = services.publish_correction(
                    letter=letter,
                    note=data["note"],
                    revision=letter.get_latest_revision() if data["with_latest_text"] else None,
                    actor=actor,
                )
                messages.success(
                    request,
                    f"Published correction {publication.version - 1} (version "
                    f"{publication.version}); the earlier versions stay online with their PDFs.",
                )
                return redirect("signatories_admin:corrections", letter_pk)
        except services.SignOnError as error:
            messages.error(request, error.message)
    lines = Signature.objects.printable_lines(letter)
    latest_revision = letter.get_latest_revision()
    pending = services.changes_between(
        publications[0], latest_revision or publications[0].revision, lines
    )
    return TemplateResponse(
        request,
        "signatories/admin/corrections.html",
        {
            "page_title": f"Corrections: {letter.title}",
            "header_icon": "doc-full-inverse",
            "letter": letter,
            "publications": publications,
            "pending": pending,
            "printed": Signature.objects.printable_in_order(letter),
            "add_form": add_form,
            "retract_form": RetractForm(),
            "correction_form": correction_form,
        },
        status=400 if add_form.errors or correction_form.errors else 200,
    )
