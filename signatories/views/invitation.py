"""An invited person's own link: sign, decline or pass the invitation on."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import ratelimits, selectors, services
from ..forms import (
    DeclineForm,
    ForwardForm,
    ReconfirmForm,
    SignerForm,
    SignForm,
    WithdrawForm,
)
from ..models import Invitation, Signature, SignOn
from .common import (
    AnySignerForm,
    closed_status,
    error_page,
    errors,
    letter_context,
    may_withdraw,
    reading_in,
    reconfirmation,
    render_withdraw_page,
)


def _find_invitation(token: str, *, reading: bool = True) -> Invitation | str:
    try:
        return selectors.find_invitation(token, reading=reading)
    except services.InvalidToken as error:
        return error.message


def _render_sign_page(
    request: HttpRequest,
    invitation: Invitation,
    token: str,
    *,
    bound: AnySignerForm | None = None,
    notice: str = "",
    status: int = 200,
    standing: Signature | None = None,
) -> HttpResponse:
    """The invited person's page, with the form they sent (and its errors) where it belongs.

    `standing` is the organization's response when the caller has just read it.
    """
    sign_on = invitation.sign_on
    organization = invitation.organization
    response, withdrawn = standing, None
    if standing is None and selectors.may_have_answered(invitation):
        response, withdrawn = selectors.page_responses(sign_on, organization.pk)
    contact = invitation.contact
    forms: dict[type[AnySignerForm], AnySignerForm] = {
        SignForm: SignForm(
            organization_name=organization.name,
            initial={
                "display_name": organization.printed_name,
                "signer_name": invitation.name,
                "signer_title": contact.title if contact else "",
                "text_hash": sign_on.text_hash,
            },
        ),
        DeclineForm: DeclineForm(initial={"signer_name": invitation.name}),
        ForwardForm: ForwardForm(),
        WithdrawForm: WithdrawForm(),
    }
    if bound is not None:
        forms[type(bound)] = bound
    context: dict[str, Any] = {
        "invitation": invitation,
        "sign_on": sign_on,
        "organization": organization,
        "deadline_words": selectors.deadline_words(sign_on),
        "response": response,
        "withdrawn": withdrawn,
        "response_is_mine": response is not None and response.invitation_id == invitation.pk,
        "authorized": contact is not None and contact.is_authorized_signer,
        "sign_form": forms[SignForm],
        "decline_form": forms[DeclineForm],
        "forward_form": forms[ForwardForm],
        "withdraw_form": forms[WithdrawForm],
        "reconfirmation": reconfirmation(
            response, bound if isinstance(bound, ReconfirmForm) else None
        ),
        "errors": errors(bound),
        "notice": notice,
        "closed": selectors.closed_message(sign_on),
        "token": token,
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(letter_context(request, sign_on))
        reading_in(context, forms.values())
    else:
        context["letter_title"] = sign_on.letter.title
    return render(request, "signatories/sign.html", context, status=status)


def _act[Input](
    request: HttpRequest,
    invitation: Invitation,
    token: str,
    form: SignerForm[Input],
    act: Callable[[Input, services.Actor], object],
    *,
    done: str,
    message: Callable[[Input], str] | None = None,
) -> HttpResponse:
    """Run one service with a valid form's input; a refusal comes back on the page, by field."""
    if selectors.closed_message(invitation.sign_on):
        return _render_sign_page(
            request, invitation, token, status=closed_status(invitation.sign_on)
        )
    if not form.is_valid():
        return _render_sign_page(request, invitation, token, bound=form, status=400)
    try:
        act(form.input, services.Actor.from_request(request))
    except services.ResponsesClosed:
        return _render_sign_page(request, invitation, token, status=410)
    except services.AlreadyResponded as error:
        # The response that stands came with the refusal: the page shows it without a query.
        standing = error.signature
        if standing is not None and (
            standing.organization_id != invitation.organization_id or not standing.is_active
        ):
            standing = None
        return _render_sign_page(
            request, invitation, token, notice=error.message, status=409, standing=standing
        )
    except services.RateLimited as error:
        return _render_sign_page(request, invitation, token, notice=error.message, status=429)
    except services.SignOnError as error:
        field = form.fields.get(error.field or "")
        form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)
        return _render_sign_page(request, invitation, token, bound=form, status=400)
    if message is not None:
        messages.success(request, message(form.input))
    return redirect(done, token=token)


def _answer(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """One POST of the invited person's page, by its `action`."""
    action = request.POST.get("action", "sign")
    name = invitation.organization.name
    if action == "withdraw":
        return _withdraw(request, invitation, token)
    if action == "reconfirm":
        return _reconfirm(request, invitation, token)
    if action == "decline":
        return _act(
            request,
            invitation,
            token,
            DeclineForm(request.POST),
            lambda declining, actor: services.decline_letter(
                invitation=invitation, declining=declining, actor=actor
            ),
            done="signatories:thanks",
        )
    if action == "forward":
        return _act(
            request,
            invitation,
            token,
            ForwardForm(request.POST),
            lambda forwarding, actor: services.forward_invitation(
                invitation=invitation, forwarding=forwarding, actor=actor
            ),
            done="signatories:sign",
            message=lambda forwarding: (
                f"{forwarding.name} has been sent a link of their own to answer for {name}."
            ),
        )
    signing = SignForm(request.POST, organization_name=name)
    return _act(
        request,
        invitation,
        token,
        signing,
        lambda input, actor: services.sign_letter(
            invitation=invitation, signing=input, text_hash=signing.text_hash_sent, actor=actor
        ),
        done="signatories:thanks",
    )


# Only withdrawing and reconfirming act on the standing response: signing finds it itself.


def _withdraw(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    response = selectors.active_response(invitation.sign_on, invitation.organization_id)
    if response is None or response.response != Signature.Response.SIGNED:
        return _render_sign_page(
            request,
            invitation,
            token,
            notice="Your organization has no signature to withdraw.",
            status=409,
        )
    withdrawing = WithdrawForm(request.POST)
    if not selectors.closed_message(invitation.sign_on) and not withdrawing.is_valid():
        # The reason is typed on the question's page: its errors show there.
        return render_withdraw_page(
            request,
            response,
            action_url=request.path,
            form=withdrawing,
            can_sign_again=True,
            status=400,
        )
    name = invitation.organization.name
    return _act(
        request,
        invitation,
        token,
        withdrawing,
        lambda withdrawing, actor: services.withdraw_signature(
            signature=response, withdrawing=withdrawing, actor=actor, by=invitation
        ),
        done="signatories:sign",
        message=lambda withdrawing: f"The signature of {name} is withdrawn.",
    )


def _reconfirm(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    response = selectors.active_response(invitation.sign_on, invitation.organization_id)
    if response is None or response.status != Signature.Status.NEEDS_RECONFIRMATION:
        return _render_sign_page(
            request,
            invitation,
            token,
            notice="Your organization has no signature waiting to be reconfirmed.",
            status=409,
        )
    reconfirm = ReconfirmForm(request.POST)
    name = invitation.organization.name
    return _act(
        request,
        invitation,
        token,
        reconfirm,
        lambda _, actor: services.reconfirm_signature(
            signature=response, text_hash=reconfirm.text_hash_sent, actor=actor
        ),
        done="signatories:sign",
        message=lambda _: f"The signature of {name} is reconfirmed on the new text.",
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimits.limit_posts("sign")
def sign(request: HttpRequest, token: str) -> HttpResponse:
    # An answer shows the letter again only when it is refused.
    invitation = _find_invitation(token, reading=request.method != "POST")
    if isinstance(invitation, str):
        return error_page(request, invitation, status=404)
    if request.method == "POST":
        return _answer(request, invitation, token)
    # Reading changes no response: mail scanners open links too.
    services.record_invitation_opened(
        invitation=invitation, actor=services.Actor.from_request(request)
    )
    if "withdraw" in request.GET:
        standing = selectors.active_response(invitation.sign_on, invitation.organization_id)
        contact = invitation.contact
        # As the page offers it: to the one who signed, or an authorized signer.
        mine = standing is not None and standing.invitation_id == invitation.pk
        authorized = contact is not None and contact.is_authorized_signer
        if standing is not None and may_withdraw(standing) and (mine or authorized):
            return render_withdraw_page(
                request, standing, action_url=request.path, can_sign_again=True
            )
    closed = selectors.closed_message(invitation.sign_on)
    return _render_sign_page(
        request, invitation, token, status=closed_status(invitation.sign_on) if closed else 200
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find_invitation(token)
    if isinstance(invitation, str):
        return error_page(request, invitation, status=404)
    response = selectors.active_response(invitation.sign_on, invitation.organization_id)
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
            "deadline_words": selectors.deadline_words(invitation.sign_on),
        },
    )
