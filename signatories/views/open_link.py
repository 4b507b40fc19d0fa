"""A sign-on's open link: any organization or person asks to sign."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import selectors, services
from ..forms import (
    IndividualSignForm,
    RequestToSignForm,
)
from ..models import SignOn
from .common import (
    OPEN_LINK_COOKIE,
    OPEN_LINK_COOKIE_SECONDS,
    closed_status,
    error_page,
    errors,
    letter_context,
    reading_in,
)


def _render_open_page(
    request: HttpRequest,
    sign_on: SignOn,
    token: str,
    *,
    bound: RequestToSignForm | IndividualSignForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    initial = {"text_hash": sign_on.text_hash}
    request_form = (
        bound if isinstance(bound, RequestToSignForm) else RequestToSignForm(initial=initial)
    )
    individual_form = (
        bound if isinstance(bound, IndividualSignForm) else IndividualSignForm(initial=initial)
    )
    context: dict[str, Any] = {
        "sign_on": sign_on,
        "deadline_words": selectors.deadline_words(sign_on),
        "token": token,
        "closed": selectors.closed_message(sign_on),
        "notice": notice,
        "request_form": request_form if sign_on.accepts_requests else None,
        "individual_form": individual_form if sign_on.letter.accepts_individuals else None,
        "errors": errors(bound),
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(letter_context(request, sign_on))
        reading_in(context, [request_form, individual_form])
    return render(request, "signatories/open_link.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = selectors.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return error_page(request, error.message, status=404)
    if selectors.closed_message(sign_on):
        return _render_open_page(request, sign_on, token, status=closed_status(sign_on))
    if request.method != "POST":
        return _render_open_page(request, sign_on, token)
    action = request.POST.get("action")
    form: RequestToSignForm | IndividualSignForm
    if action == "individual" and sign_on.letter.accepts_individuals:
        form = IndividualSignForm(request.POST)
    elif action == "organization" and sign_on.accepts_requests:
        form = RequestToSignForm(request.POST)
    else:
        return _render_open_page(
            request, sign_on, token, notice="Choose one of the forms below to sign.", status=400
        )
    if not form.is_valid():
        return _render_open_page(request, sign_on, token, bound=form, status=400)
    actor = services.Actor.from_request(request)
    try:
        if isinstance(form, IndividualSignForm):
            signature = services.sign_as_individual(
                sign_on=sign_on, signing=form.input, text_hash=form.text_hash_sent, actor=actor
            )
        else:
            signature = services.request_to_sign(
                sign_on=sign_on, request=form.input, text_hash=form.text_hash_sent, actor=actor
            )
    except services.InvalidToken as error:
        return error_page(request, error.message, status=404)
    except services.ResponsesClosed:
        return _render_open_page(request, sign_on, token, status=410)
    except services.AlreadyResponded as error:
        return _render_open_page(
            request, sign_on, token, bound=form, notice=error.message, status=409
        )
    except services.RateLimited as error:
        return _render_open_page(request, sign_on, token, notice=error.message, status=429)
    except services.SignOnError as error:
        field = form.fields.get(error.field or "")
        form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)
        return _render_open_page(request, sign_on, token, bound=form, status=400)
    response = redirect("signatories:open_link_thanks", token=token)
    response.set_signed_cookie(
        OPEN_LINK_COOKIE,
        str(signature.pk),
        salt=_cookie_salt(sign_on),
        max_age=OPEN_LINK_COOKIE_SECONDS,
        path=reverse("signatories:open_link_thanks", args=[token]),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _cookie_salt(sign_on: SignOn) -> str:
    return f"signatories.open_link_request.{sign_on.pk}"


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_link_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = selectors.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return error_page(request, error.message, status=404)
    # Only the browser that asked sees its request: the link itself is shared.
    kept = (
        request.get_signed_cookie(
            OPEN_LINK_COOKIE,
            default="",
            salt=_cookie_salt(sign_on),
            max_age=OPEN_LINK_COOKIE_SECONDS,
        )
        or ""
    )
    found = selectors.own_open_link_request(sign_on, int(kept)) if kept.isdigit() else None
    if found is None:
        return redirect("signatories:open_link", token=token)
    return render(
        request,
        "signatories/open_link_thanks.html",
        {
            "sign_on": sign_on,
            "response": found,
            "deadline_words": selectors.deadline_words(sign_on),
        },
    )
