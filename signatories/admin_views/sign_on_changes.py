"""What staff change of a sign-on from its tracker: invite, move the deadline, remind, close,
cancel, publish and recirculate. Each but the last is shown first on a page that says what it
will do, and done by the POST from that page."""

import copy

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from signatories import selectors, services
from signatories.deadlines import describe_deadline, format_moment
from signatories.forms import CancelForm, DeadlineForm, RecirculateForm
from signatories.models import SignOn
from signatories.services.sign_ons import change_deadline

from .common import confirmation_page, require_perm, showing_refusal


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite the audience's people added since the sign-on opened (a new contact, say), once
    staff have seen exactly who is emailed."""
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    if request.method == "GET":
        return confirmation_page(
            request,
            sign_on,
            title="Invite people added since the sign-on opened",
            template="confirm_invite.html",
            not_yet=selectors.not_yet_invited(sign_on),
        )
    # Only the people the page listed: anyone added since it was opened waits for another look.
    shown = {int(pk) for pk in request.POST.getlist("contact") if pk.isascii() and pk.isdigit()}
    if not shown:
        messages.error(request, "Nobody was invited: the list of people to invite was empty.")
        return redirect("signatories_admin:invite", pk)
    with showing_refusal(request):
        invited = services.invite_organizations(
            sign_on=sign_on,
            organizations=selectors.audience_of(sign_on),
            contacts=shown,
            actor=services.Actor.from_request(request),
        )
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
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    if request.method == "GET":
        counts = selectors.tally(sign_on)
        return confirmation_page(
            request,
            sign_on,
            title=f"Close the sign-on of “{sign_on.letter.title}” now",
            template="confirm_close.html",
            tally=counts,
            columns=[(label, counts.totals[key]) for key, label in selectors.COLUMNS.items()],
            early=not sign_on.is_past_deadline(),
            waiting=selectors.waiting_for_review(sign_on),
        )
    with showing_refusal(request):
        services.close_sign_on(sign_on=sign_on, actor=services.Actor.from_request(request))
        messages.success(request, "The sign-on is closed; responses are refused from now on.")
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def deadline(request: HttpRequest, pk: int) -> HttpResponse:
    """Extend the deadline or bring it forward: the new date and who is emailed show first."""
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
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
            with showing_refusal(request, form=form) as refusal:
                change_deadline(
                    sign_on=sign_on,
                    deadline=new_deadline,
                    actor=services.Actor.from_request(request),
                )
                messages.success(
                    request,
                    f"The deadline is now {format_moment(new_deadline)}; those who have not "
                    "answered are being told.",
                )
                return redirect("signatories_admin:tracker", pk)
            if not refusal.on_form:
                # Refused for the sign-on's sake, not the date's: the message says why.
                return redirect("signatories_admin:tracker", pk)
        else:
            moved = copy.copy(sign_on)
            moved.deadline = new_deadline
            return confirmation_page(
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
                recipients=selectors.awaiting_response_in_order(sign_on),
            )
    response = confirmation_page(
        request, sign_on, title="Move the deadline", template="confirm_deadline.html", form=form
    )
    if form.errors:
        response.status_code = 400
    return response


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    if request.method == "GET":
        return confirmation_page(
            request,
            sign_on,
            title="Send a reminder now",
            template="confirm_remind.html",
            recipients=services.reminder_recipients(sign_on, force=True),
        )
    with showing_refusal(request):
        reminded = services.send_reminders(
            sign_on=sign_on, actor=services.Actor.from_request(request), force=True
        )
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
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    if request.method == "GET":
        return confirmation_page(
            request,
            sign_on,
            title=f"Publish “{sign_on.letter.title}”",
            template="confirm_publish.html",
            lines=selectors.printable_lines(sign_on),
            waiting=selectors.waiting_for_review(sign_on),
            unreconfirmed=selectors.held_for_reconfirmation(sign_on),
            chain_problems=selectors.verify_event_chain(sign_on=sign_on),
        )
    with showing_refusal(request):
        publication = services.publish_sign_on(
            sign_on=sign_on, actor=services.Actor.from_request(request)
        )
        messages.success(
            request,
            f"Published “{publication.letter.title}” with {len(publication.signatories)} "
            "signatories; its PDF is rendered once and kept.",
        )
    return redirect("signatories_admin:tracker", pk)


@require_http_methods(["GET", "POST"])
@require_perm("change_signon")
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    form = CancelForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return confirmation_page(
            request,
            sign_on,
            title=f"Cancel the sign-on of “{sign_on.letter.title}”",
            template="confirm_cancel.html",
            form=form,
            tally=selectors.tally(sign_on),
        )
    with showing_refusal(request):
        services.cancel_sign_on(
            sign_on=sign_on,
            actor=services.Actor.from_request(request),
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, "The sign-on is cancelled; nothing of it will be published.")
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("change_signon")
def recirculate(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter_and_revision(), pk=pk)
    form = RecirculateForm(request.POST, sign_on=sign_on)
    if form.is_valid():
        data = form.cleaned_data
        material = data["change"] == "material"
        with showing_refusal(request, form=form):
            services.recirculate_sign_on(
                sign_on=sign_on,
                revision=data["approval"].revision,
                material=material,
                note=data["note"],
                actor=services.Actor.from_request(request),
            )
            messages.success(
                request,
                "The new revision is circulated; every signer is asked to reconfirm, and those "
                "who have not answered are sent the new text."
                if material
                else "The new revision is circulated; the signatures stand.",
            )
    # The tracker shows the form again without its values: each error is said with its label,
    # the service's refusals of a field as the form's own.
    for name, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form.fields[name].label}: {error}")
    return redirect("signatories_admin:tracker", pk)
