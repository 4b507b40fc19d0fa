"""Staff views in the Wagtail admin: sign-on list, opening form, tracker, export, review queue."""

import copy
import csv
import datetime
import hashlib
import io
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from coalition.core import emails
from coalition.crm.viewsets import neutralise_formula
from letters.models import LetterPage

from . import selectors, services
from .deadlines import describe_deadline, format_moment
from .forms import (
    AddSignatoryForm,
    ApproveForm,
    CancelForm,
    CorrectionForm,
    DeadlineForm,
    OpenLinkForm,
    OpenSignOnForm,
    RecirculateForm,
    RejectForm,
    RetractForm,
)
from .models import Event, Signature, SignOn
from .services.sign_ons import change_deadline, not_yet_invited

View = Callable[..., HttpResponse]


def require_perm(codename: str) -> Callable[[View], View]:
    """The view needs this permission: a codename of this app, or "app.codename" of another."""
    permission = codename if "." in codename else f"signatories.{codename}"

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        # Read by the test of every door: who must be let in, and who refused.
        wrapped.required_permission = permission  # type: ignore[attr-defined]
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
            "events": [_with_note(event) for event in _latest_events(sign_on)],
            # Checked each time the tracker opens: a rewrite shows before anyone acts on it.
            "chain_problems": selectors.verify_event_chain(sign_on=sign_on),
            "not_yet_invited": not_yet_invited(sign_on),
        },
    )


def _latest_events(sign_on: SignOn) -> list[Event]:
    return list(sign_on.events.select_related("organization").order_by("-sequence")[:50])


def _with_note(event: Event) -> Event:
    """The event, with what its action alone does not say: where the deadline moved."""
    detail = event.detail or {}
    note = ""
    if event.action == "deadline_changed":
        try:
            before, after = (
                datetime.datetime.fromisoformat(detail[key])
                for key in ("previous_deadline", "deadline")
            )
        except (KeyError, TypeError, ValueError):
            pass
        else:
            how = "extended" if after > before else "brought forward"
            note = f"{how} from {format_moment(before)} to {format_moment(after)}"
    elif event.action == "deadline_notified":
        note = "emailed the new deadline"
    event.note = note  # type: ignore[attr-defined]
    return event


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


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite the audience's people added since the sign-on opened (a new contact, say), once
    staff have seen exactly who is emailed."""
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    if request.method == "GET":
        return _confirm(
            request,
            sign_on,
            title="Invite people added since the sign-on opened",
            template="confirm_invite.html",
            not_yet=not_yet_invited(sign_on),
        )
    # Only the people the page listed: anyone added since it was opened waits for another look.
    shown = {int(pk) for pk in request.POST.getlist("contact") if pk.isascii() and pk.isdigit()}
    if not shown:
        messages.error(request, "Nobody was invited: the list of people to invite was empty.")
        return redirect("signatories_admin:invite", pk)
    audience = services.audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )
    try:
        invited = services.invite_organizations(
            sign_on=sign_on,
            organizations=audience,
            contacts=shown,
            actor=services.Actor.from_request(request),
        )
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        organizations = len({invitation.organization_id for invitation in invited})
        messages.success(
            request,
            f"Invited {len(invited)} {'person' if len(invited) == 1 else 'people'} at "
            f"{organizations} organization{'s' if organizations != 1 else ''}; their emails are "
            "on their way.",
        )
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def close(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    if request.method == "GET":
        counts = selectors.tally(sign_on)
        return _confirm(
            request,
            sign_on,
            title=f"Close the sign-on of “{sign_on.letter.title}” now",
            template="confirm_close.html",
            tally=counts,
            columns=[(label, counts.totals[key]) for key, label in selectors.COLUMNS.items()],
            early=not sign_on.is_past_deadline(),
            waiting=sign_on.signatures.filter(status=Signature.Status.PENDING_REVIEW).count(),
        )
    try:
        services.close_sign_on(sign_on=sign_on, actor=services.Actor.from_request(request))
    except services.SignOnError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The sign-on is closed; responses are refused from now on.")
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def deadline(request: HttpRequest, pk: int) -> HttpResponse:
    """Extend the deadline or bring it forward: the new date and who is emailed show first."""
    sign_on = get_object_or_404(SignOn.objects.select_related("letter"), pk=pk)
    if sign_on.status != SignOn.Status.OPEN:
        messages.error(
            request,
            f"Only an open sign-on's deadline can move; this one is "
            f"{sign_on.get_status_display().lower()}.",
        )
        return redirect("signatories_admin:tracker", pk)
    # The form is sent by GET to see the new date; only the confirmation's POST moves it.
    data = request.POST if request.method == "POST" else request.GET
    form = DeadlineForm(
        data if "deadline" in data else None,
        sign_on=sign_on,
        initial={"deadline": timezone.localtime(sign_on.deadline)},
    )
    if form.is_bound and form.is_valid():
        new_deadline = form.cleaned_data["deadline"]
        if request.method == "POST":
            try:
                change_deadline(
                    sign_on=sign_on,
                    deadline=new_deadline,
                    actor=services.Actor.from_request(request),
                )
            except services.SignOnError as error:
                if error.field != "deadline":
                    messages.error(request, error.message)
                    return redirect("signatories_admin:tracker", pk)
                form.add_error("deadline", error.message)
            else:
                messages.success(
                    request,
                    f"The deadline is now {format_moment(new_deadline)}; those who have not "
                    "answered are being told.",
                )
                return redirect("signatories_admin:tracker", pk)
        else:
            moved = copy.copy(sign_on)
            moved.deadline = new_deadline
            return _confirm(
                request,
                sign_on,
                title="Move the deadline",
                template="confirm_deadline.html",
                form=form,
                new_deadline=new_deadline,
                new_deadline_at=format_moment(new_deadline),
                new_deadline_words=describe_deadline(new_deadline),
                extended=new_deadline > sign_on.deadline,
                reminder_schedule=services.describe_reminder_schedule(moved),
                recipients=list(
                    selectors.awaiting_response(sign_on)
                    .select_related("organization")
                    .order_by("organization__sort_name", "name", "pk")
                ),
            )
    response = _confirm(
        request, sign_on, title="Move the deadline", template="confirm_deadline.html", form=form
    )
    if form.errors:
        response.status_code = 400
    return response


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
@require_perm("letters.publish_letter")
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
    """Signatures waiting for staff, those waiting for their signers, and requests never confirmed."""
    groups, people = selectors.unconfirmed_by_organization()
    return TemplateResponse(
        request,
        "signatories/admin/review.html",
        {
            "page_title": "Signatures to review",
            "header_icon": "doc-full-inverse",
            "pending": selectors.review_items(selectors.review_queue()),
            "with_signers": [
                (signature, signature.staff_may_reject(responses_open=True))
                for signature in selectors.awaiting_reconfirmation()
            ],
            "unconfirmed_groups": groups,
            "unconfirmed_people": people,
            "reject_form": RejectForm(),
            "approve_form": ApproveForm(),
        },
    )


def _ticked(request: HttpRequest) -> list[int]:
    """The signature ids ticked in the review queue; anything else posted is ignored."""
    return [
        int(value)
        for value in request.POST.getlist("signature")
        if value.isascii() and value.isdigit() and len(value) < 19
    ]


def _display_names(request: HttpRequest, signatures: list[Signature]) -> dict[int, str]:
    """The lines as the queue's rows show them, perhaps corrected by staff, by signature."""
    return {
        signature.pk: request.POST[f"display_name-{signature.pk}"]
        for signature in signatures
        if f"display_name-{signature.pk}" in request.POST
    }


def _approved_message(approved: list[Signature], published: list[str]) -> str:
    names = "; ".join(f"“{s.display_name}”" for s in approved)
    count = len(approved)
    message = (
        f"Approved {count} signature{'s' if count != 1 else ''}: {names}. "
        f"{'Its signer is' if count == 1 else 'Each signer is'} emailed."
    )
    if published:
        message += (
            f" “{'”, “'.join(published)}” {'is' if len(published) == 1 else 'are'} already "
            "published: the approved signatures print from the next correction, published from "
            "the letter's corrections page."
        )
    return message


def _approve(request: HttpRequest, chosen: list[Signature]) -> HttpResponse:
    form = ApproveForm(request.POST)
    if not chosen:
        messages.error(request, "Tick the signatures to approve.")
    elif not form.is_valid():
        messages.error(
            request, "Nothing was approved: the note is too long (at most 2000 characters)."
        )
    else:
        try:
            approved = services.approve_signatures(
                signatures=chosen,
                display_names=_display_names(request, chosen),
                note=form.cleaned_data["note"],
                actor=services.Actor.from_request(request),
            )
        except services.SignOnError as error:
            messages.error(request, f"Nothing was approved: {error.message}")
        else:
            published = sorted(
                {
                    signature.sign_on.letter.title
                    for signature in chosen
                    if signature.sign_on is not None
                    and signature.sign_on.status == SignOn.Status.PUBLISHED
                }
            )
            messages.success(request, _approved_message(approved, published))
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve one signature, as its row in the queue shows it (its line perhaps corrected)."""
    signature = get_object_or_404(
        Signature.objects.select_related("sign_on", "sign_on__letter"), pk=pk, sign_on__isnull=False
    )
    return _approve(request, [signature])


@require_POST
@require_perm("change_signon")
def approve_ticked(request: HttpRequest) -> HttpResponse:
    """Approve the ticked signatures, all or none, each as its row shows it."""
    chosen = list(
        Signature.objects.filter(pk__in=_ticked(request), sign_on__isnull=False)
        .select_related("sign_on", "sign_on__letter")
        .order_by("pk")
    )
    return _approve(request, chosen)


@require_POST
@require_perm("change_signon")
def correct_display_name(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct how a signature waiting for review prints; its signer is emailed the old and new."""
    signature = get_object_or_404(Signature, pk=pk, sign_on__isnull=False)
    old = signature.display_name
    typed = request.POST.get(f"display_name-{pk}", request.POST.get("display_name", ""))
    try:
        services.correct_display_name(
            signature=signature, display_name=typed, actor=services.Actor.from_request(request)
        )
    except services.SignOnError as error:
        messages.error(request, f"The line of “{old}” is unchanged: {error.message}")
    else:
        signature.refresh_from_db()
        messages.success(
            request,
            f"“{old}” now prints as “{signature.display_name}”; its signer is emailed the "
            "correction.",
        )
    return redirect("signatories_admin:review")


@require_POST
@require_perm("change_signon")
def reject(request: HttpRequest) -> HttpResponse:
    """Reject the ticked signatures, all or none, with one reason."""
    chosen = list(Signature.objects.filter(pk__in=_ticked(request), sign_on__isnull=False))
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
@require_perm("letters.publish_letter")
def corrections(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """A published letter's versions, the changes since the latest, and adding a signatory.

    Withdrawing a signatory and publishing a correction each have a page that shows first.
    """
    letter = get_object_or_404(LetterPage, pk=letter_pk)
    publications = list(letter.publications.order_by("-version"))
    if not publications:
        raise Http404("This letter is not published: there is nothing to correct.")
    action = request.POST.get("action")
    # The forms of earlier pages posted these here: they now lead to the page that shows first.
    if action == "publish":
        fields = ("note", "with_latest_text")
        query = {key: request.POST[key] for key in fields if key in request.POST}
        url = reverse("signatories_admin:publish_correction", args=[letter_pk])
        return redirect(f"{url}?{urlencode(query)}")
    signature = request.POST.get("signature", "")
    if action == "retract" and signature.isascii() and signature.isdigit():
        return redirect("signatories_admin:retract", letter_pk, int(signature))
    add_form = AddSignatoryForm(request.POST if action == "add" else None)
    if request.method == "POST" and action == "add" and add_form.is_valid():
        data = add_form.cleaned_data
        try:
            services.add_signatory(
                letter=letter, actor=services.Actor.from_request(request), **data
            )
        except services.SignOnError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Added “{data['display_name']}”: it prints once you publish a correction.",
            )
            return redirect("signatories_admin:corrections", letter_pk)
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
            "correction_form": CorrectionForm(),
        },
        status=400 if add_form.errors else 200,
    )


def _correction_fingerprint(version: int, revision_id: int | None, changes: dict[str, Any]) -> str:
    """What a correction would publish, in short: the POST acts only if it is what was shown."""
    shown = json.dumps([version, revision_id, changes], sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def publish_correction(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The version a correction will publish (lines added and removed, the text or not), shown
    before the POST that publishes it."""
    letter = get_object_or_404(LetterPage, pk=letter_pk)
    latest = letter.publications.order_by("-version").first()
    if latest is None:
        raise Http404("This letter is not published: there is nothing to correct.")
    data = request.POST if request.method == "POST" else request.GET
    form = CorrectionForm(data if "note" in data else None)
    context: dict[str, Any] = {
        "page_title": f"Publish a correction: {letter.title}",
        "header_icon": "doc-full-inverse",
        "letter": letter,
        "latest": latest,
        "version": latest.version + 1,
        "form": form,
    }
    if not form.is_bound or not form.is_valid():
        return TemplateResponse(
            request,
            "signatories/admin/confirm_correction.html",
            context,
            status=400 if form.errors else 200,
        )
    revision = letter.get_latest_revision() if form.cleaned_data["with_latest_text"] else None
    changes = services.changes_between(
        latest, revision or latest.revision, Signature.objects.printable_lines(letter)
    )
    fingerprint = _correction_fingerprint(latest.version, revision and revision.pk, changes)
    context.update(
        changes=changes,
        nothing_changed=not (changes["added"] or changes["removed"] or changes["text"]),
        note=form.cleaned_data["note"],
        fingerprint=fingerprint,
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("fingerprint") != fingerprint:
            context["moved"] = True
            status = 409
        else:
            try:
                publication = services.publish_correction(
                    letter=letter,
                    note=form.cleaned_data["note"],
                    revision=revision,
                    actor=services.Actor.from_request(request),
                )
            except services.SignOnError as error:
                messages.error(request, error.message)
                return redirect("signatories_admin:corrections", letter_pk)
            messages.success(
                request,
                f"Published correction {publication.version - 1} (version "
                f"{publication.version}); the earlier versions stay online with their PDFs.",
            )
            return redirect("signatories_admin:corrections", letter_pk)
    return TemplateResponse(
        request, "signatories/admin/confirm_correction.html", context, status=status
    )


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def retract(request: HttpRequest, letter_pk: int, signature_pk: int) -> HttpResponse:
    """Withdraw a printed signature after the deadline, once staff have seen which and why."""
    letter = get_object_or_404(LetterPage, pk=letter_pk)
    signature = get_object_or_404(
        Signature.objects.printable().select_related("organization"),
        pk=signature_pk,
        letter=letter,
    )
    form = RetractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.retract_signature(
                signature=signature,
                reason=form.cleaned_data["reason"],
                actor=services.Actor.from_request(request),
            )
        except services.SignOnError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Withdrew “{signature.display_name}”: it stops printing once you publish a "
                "correction.",
            )
        return redirect("signatories_admin:corrections", letter_pk)
    return TemplateResponse(
        request,
        "signatories/admin/confirm_retract.html",
        {
            "page_title": f"Withdraw “{signature.display_name}”",
            "header_icon": "doc-full-inverse",
            "letter": letter,
            "signature": signature,
            "latest": letter.publications.order_by("-version").first(),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
