"""The signer's pages: public, no account, the invitation token in the URL.

Reading never changes a response (mail scanners open links); only an explicit POST does.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Revision

from . import services, text_diff
from .deadlines import describe_deadline
from .forms import (
    DeclineForm,
    IndividualSignForm,
    ReconfirmForm,
    RequestToSignForm,
    SignForm,
    WithdrawForm,
)
from .models import Invitation, Signature, SignOn


def _error_page(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "signatories/link_error.html", {"message": message}, status=status)


def _closed_status(sign_on: SignOn) -> int:
    return 403 if sign_on.status == SignOn.Status.DRAFT else 410


def _active_response(invitation: Invitation) -> Signature | None:
    return (
        Signature.objects.filter(
            letter_id=invitation.sign_on.letter_id,
            organization_id=invitation.organization_id,
            status__in=Signature.ACTIVE_STATUSES,
        )
        .order_by("-created_at")
        .first()
    )


def _letter_context(sign_on: SignOn) -> dict:
    """The frozen revision as the signer reads it, with the signatories so far if staff allow."""
    page = sign_on.revision.as_object()
    if not sign_on.show_signatories:
        return {**page.letter_context([]), "hide_signatories": True}
    return page.letter_context(Signature.objects.printable_lines(page))


def _reconfirmation(
    sign_on: SignOn, response: Signature | None, form: ReconfirmForm | None
) -> dict | None:
    """What changed since the signer signed, and the form to reconfirm, while that is due."""
    if response is None or response.status != Signature.Status.NEEDS_RECONFIRMATION:
        return None
    signed_id = services.signed_revision_id(sign_on=sign_on, text_hash=response.text_hash)
    signed = Revision.objects.filter(pk=signed_id).first() if signed_id else None
    return {
        "changes": text_diff.diff_revisions(signed, sign_on.revision) if signed else [],
        "form": form or ReconfirmForm(initial={"text_hash": sign_on.text_hash}),
    }


def _render_sign_page(
    request: HttpRequest,
    invitation: Invitation,
    *,
    sign_form: SignForm | None = None,
    decline_form: DeclineForm | None = None,
    reconfirm_form: ReconfirmForm | None = None,
    notice: str = "",
    closed: str = "",
    status: int = 200,
) -> HttpResponse:
    sign_on = invitation.sign_on
    organization = invitation.organization
    response = _active_response(invitation)
    if sign_form is None:
        sign_form = SignForm(
            organization_name=organization.name,
            initial={"display_name": organization.printed_name, "text_hash": sign_on.text_hash},
        )
    context = {
        "invitation": invitation,
        "sign_on": sign_on,
        "organization": organization,
        "deadline_words": describe_deadline(sign_on.deadline),
        "response": response,
        "sign_form": sign_form,
        "decline_form": decline_form or DeclineForm(),
        "withdraw_form": WithdrawForm(),
        "reconfirmation": _reconfirmation(sign_on, response, reconfirm_form),
        "notice": notice,
        "closed": closed,
        "token": request.resolver_match.kwargs["token"],
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(_letter_context(sign_on))
    return render(request, "signatories/sign.html", context, status=status)


def _find(token: str) -> Invitation | str:
    try:
        return services.find_invitation(token)
    except services.InvalidToken as error:
        return error.message


def _closed_message(sign_on: SignOn) -> str:
    try:
        services.check_accepts_responses(sign_on)
    except services.ResponsesClosed as error:
        return error.message
    return ""


def _respond(
    request: HttpRequest,
    invitation: Invitation,
    *,
    form: forms.Form,
    form_key: str,
    act: Callable[[dict, services.Actor], object],
) -> HttpResponse:
    """Pass a signer's form to its service; refusals come back on the page, by field."""
    sign_on = invitation.sign_on
    closed = _closed_message(sign_on)
    if closed:
        return _render_sign_page(request, invitation, closed=closed, status=_closed_status(sign_on))
    if not form.is_valid():
        return _render_sign_page(request, invitation, **{form_key: form}, status=400)
    try:
        act(form.cleaned_data, services.Actor.from_request(request))
    except services.ResponsesClosed as error:
        return _render_sign_page(request, invitation, closed=error.message, status=410)
    except services.AlreadyResponded as error:
        return _render_sign_page(request, invitation, notice=error.message, status=409)
    except services.SignOnError as error:
        field = form.fields.get(error.field or "")
        form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)
        return _render_sign_page(request, invitation, **{form_key: form}, status=400)
    return redirect("signatories:thanks", token=request.resolver_match.kwargs["token"])


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
    sign_on = invitation.sign_on
    if request.method != "POST":
        # Reading changes no response: mail scanners open links too.
        if sign_on.status == SignOn.Status.OPEN:
            services.record_invitation_opened(
                invitation=invitation, actor=services.Actor.from_request(request)
            )
        closed = _closed_message(sign_on)
        return _render_sign_page(
            request, invitation, closed=closed, status=_closed_status(sign_on) if closed else 200
        )
    return _respond(
        request,
        invitation,
        form=SignForm(request.POST, organization_name=invitation.organization.name),
        form_key="sign_form",
        act=lambda data, actor: services.sign_letter(invitation=invitation, actor=actor, **data),
    )


@never_cache
@require_POST
def decline(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
    return _respond(
        request,
        invitation,
        form=DeclineForm(request.POST),
        form_key="decline_form",
        act=lambda data, actor: services.decline_letter(invitation=invitation, actor=actor, **data),
    )


@never_cache
@require_POST
def reconfirm(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
    closed = _closed_message(invitation.sign_on)
    if closed:
        return _render_sign_page(
            request, invitation, closed=closed, status=_closed_status(invitation.sign_on)
        )
    response = _active_response(invitation)
    if response is None or response.status != Signature.Status.NEEDS_RECONFIRMATION:
        return _render_sign_page(
            request,
            invitation,
            notice="Your organization has no signature waiting to be reconfirmed.",
            status=409,
        )
    form = ReconfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise services.SignOnError("The page was incomplete; reload it and try again.")
        services.reconfirm_signature(
            signature=response,
            text_hash=form.cleaned_data["text_hash"],
            actor=services.Actor.from_request(
                request, label=f"reconfirmation for {response.signer_email}"
            ),
        )
    except services.ResponsesClosed as error:
        return _render_sign_page(request, invitation, closed=error.message, status=410)
    except services.SignOnError as error:
        return _render_sign_page(request, invitation, notice=error.message, status=409)
    messages.success(
        request, f"The signature of {invitation.organization.name} is reconfirmed on the new text."
    )
    return redirect("signatories:sign", token=token)


@never_cache
@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
    response = _active_response(invitation)
    if response is None:
        return redirect("signatories:sign", token=token)
    return render(
        request,
        "signatories/thanks.html",
        {
            "invitation": invitation,
            "sign_on": invitation.sign_on,
            "response": response,
            "token": token,
            "closed": _closed_message(invitation.sign_on),
            "deadline_words": describe_deadline(invitation.sign_on.deadline),
            "withdraw_form": WithdrawForm(),
        },
    )


@never_cache
@require_POST
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
    response = _active_response(invitation)
    if response is None or response.response != Signature.Response.SIGNED:
        return _render_sign_page(
            request,
            invitation,
            notice="Your organization has no signature to withdraw.",
            status=409,
        )
    return _withdraw(request, response, redirect_to=("signatories:sign", token))


def _withdraw(request: HttpRequest, signature: Signature, *, redirect_to: tuple) -> HttpResponse:
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.withdraw_signature(
            signature=signature,
            reason=reason,
            actor=services.Actor.from_request(
                request, label=f"withdrawal for {signature.signer_email}"
            ),
        )
    except services.ResponsesClosed as error:
        return _error_page(request, error.message, status=410)
    except services.SignOnError as error:
        return _error_page(request, error.message, status=409)
    whose = (
        f"The signature of {signature.organization.name}"
        if signature.organization
        else "Your signature"
    )
    messages.success(request, f"{whose} has been withdrawn.")
    return redirect(*redirect_to)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        signature = services.find_signature_by_withdraw_token(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    if request.method == "POST":
        if not signature.is_active:
            return _error_page(request, "This signature was already withdrawn.", status=410)
        return _withdraw(request, signature, redirect_to=("signatories:withdraw_by_link", token))
    closed = _closed_message(signature.sign_on)
    return render(
        request,
        "signatories/withdraw.html",
        {
            "signature": signature,
            "sign_on": signature.sign_on,
            "closed": closed,
            "withdraw_form": WithdrawForm(),
        },
        status=410 if closed else 200,
    )


OPEN_LINK_SESSION_KEY = "open_link_signature"


def _render_open_page(
    request: HttpRequest,
    sign_on: SignOn,
    *,
    request_form: RequestToSignForm | None = None,
    individual_form: IndividualSignForm | None = None,
    notice: str = "",
    closed: str = "",
    status: int = 200,
) -> HttpResponse:
    initial = {"text_hash": sign_on.text_hash}
    context = {
        "sign_on": sign_on,
        "deadline_words": describe_deadline(sign_on.deadline),
        "token": request.resolver_match.kwargs["token"],
        "closed": closed,
        "notice": notice,
        "request_form": (request_form or RequestToSignForm(initial=initial))
        if sign_on.accepts_requests
        else None,
        "individual_form": (individual_form or IndividualSignForm(initial=initial))
        if sign_on.letter.accepts_individuals
        else None,
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(_letter_context(sign_on))
    return render(request, "signatories/open_link.html", context, status=status)


def _open_link_error(
    request: HttpRequest,
    sign_on: SignOn,
    form: RequestToSignForm | IndividualSignForm,
    error: services.SignOnError,
) -> HttpResponse:
    """Turn a refusal of the service into the page again, the message where it belongs."""
    forms = (
        {"request_form": form} if isinstance(form, RequestToSignForm) else {"individual_form": form}
    )
    if isinstance(error, services.ResponsesClosed):
        return _render_open_page(request, sign_on, closed=error.message, status=410)
    if isinstance(error, services.AlreadyResponded):
        return _render_open_page(request, sign_on, notice=error.message, status=409, **forms)
    field = error.field
    if isinstance(form, IndividualSignForm):
        field = {"signer_name": "person", "signer_title": "title"}.get(field, field)
    visible = field in form.fields and not form.fields[field].widget.is_hidden
    form.add_error(field if visible else None, error.message)
    return _render_open_page(request, sign_on, status=400, **forms)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = services.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    closed = _closed_message(sign_on)
    if closed:
        return _render_open_page(request, sign_on, closed=closed, status=_closed_status(sign_on))
    if request.method != "POST":
        return _render_open_page(request, sign_on)
    action = request.POST.get("action")
    form: RequestToSignForm | IndividualSignForm
    if action == "individual" and sign_on.letter.accepts_individuals:
        form, form_key, act = (
            IndividualSignForm(request.POST),
            "individual_form",
            services.sign_as_individual,
        )
    elif action == "organization" and sign_on.accepts_requests:
        form, form_key, act = (
            RequestToSignForm(request.POST),
            "request_form",
            services.request_to_sign,
        )
    else:
        return _render_open_page(
            request, sign_on, notice="Choose one of the forms below to sign.", status=400
        )
    if not form.is_valid():
        return _render_open_page(request, sign_on, **{form_key: form}, status=400)
    try:
        # The forms' fields are the services' arguments.
        signature = act(
            sign_on=sign_on, actor=services.Actor.from_request(request), **form.cleaned_data
        )
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    except services.SignOnError as error:
        return _open_link_error(request, sign_on, form, error)
    request.session[OPEN_LINK_SESSION_KEY] = signature.pk
    return redirect("signatories:open_link_thanks", token=token)


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_link_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = services.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    # Only the browser that signed sees its response: the link itself is shared.
    signature = Signature.objects.filter(
        pk=request.session.get(OPEN_LINK_SESSION_KEY), sign_on=sign_on
    ).first()
    if signature is None:
        return redirect("signatories:open_link", token=token)
    return render(
        request,
        "signatories/open_link_thanks.html",
        {
            "sign_on": sign_on,
            "response": signature,
            "deadline_words": describe_deadline(sign_on.deadline),
        },
    )
