"""The signer's pages: public, no account, a token in the URL.

Three links lead here: an invited person's own link (sign, decline, pass it on), a signer's link
to their own signature (confirm the address, reconfirm after a change, withdraw), and a sign-on's
open link. Reading never changes a response (mail scanners open links); only an explicit POST
does. Each POST hands a form's typed input to one service and shows its refusal where it belongs.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from letters.lines import SignatoryLine
from letters.models import Letterhead, LetterPage

from . import ratelimits, selectors, services, text_diff
from .forms import (
    DeclineForm,
    ForwardForm,
    IndividualSignForm,
    ReconfirmForm,
    RequestToSignForm,
    SignerForm,
    SignForm,
    WithdrawForm,
)
from .models import Invitation, Signature, SignOn

OPEN_LINK_SESSION_KEY = "open_link_signature"
# A revision's text never changes; the hour bounds what a template change or a moved page that
# the text links to leaves showing.
LETTER_CACHE_SECONDS = 3600
AnySignerForm = SignerForm[Any]


def _error_page(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "signatories/link_error.html", {"message": message}, status=status)


def _closed_status(sign_on: SignOn) -> int:
    return 403 if sign_on.status == SignOn.Status.DRAFT else 410


def _letter_context(request: HttpRequest, sign_on: SignOn) -> dict[str, Any]:
    """The circulated revision as the signer reads it, with who signed so far if staff allow."""
    title, html = _circulated_letter(request, sign_on)
    context: dict[str, Any] = {"letter_title": title, "letter_html": html}
    if sign_on.show_signatories:
        context["signed_so_far"] = selectors.signed_so_far(sign_on)
    return context


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:32]


def _circulated_letter(request: HttpRequest, sign_on: SignOn) -> tuple[str, SafeString]:
    """The circulated revision's title and its text as it prints, rendered once per revision and
    letterhead and then read from the shared cache: two hundred signers opening their links in
    the last hour would otherwise build and render the same revision two hundred times.

    Where staff show who has signed, the list is read on each request and the text is rendered
    again only when the list has changed.
    """
    # The letterhead the page's own frame shows (already read for it): no query of its own.
    letterhead = Letterhead.for_request(request)
    lines: list[SignatoryLine] = []
    if sign_on.show_signatories:
        # The circulated revision's order and style, from its content, without building the page.
        circulated = LetterPage.from_serializable_data(
            sign_on.revision.content, check_fks=False, strict_fks=False
        )
        lines = Signature.objects.printable_lines(circulated)
    printed_with = [str(getattr(letterhead, f.attname)) for f in Letterhead._meta.concrete_fields]
    key = f"signatories:letter:{sign_on.revision_id}:{_digest(printed_with)}"
    version = _digest(lines)
    cached = cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1], mark_safe(cached[2])  # noqa: S308 (autoescaped by the template below)
    page = sign_on.revision.as_object()
    page.__dict__["letterhead"] = letterhead
    context = page.letter_context(lines)
    context["hide_signatories"] = not lines
    html = render_to_string("letters/includes/letter_text.html", context)
    cache.set(key, (version, page.title, html), LETTER_CACHE_SECONDS)
    return page.title, mark_safe(html)  # noqa: S308 (autoescaped by the template)


def _reconfirmation(
    signature: Signature | None, form: ReconfirmForm | None
) -> dict[str, Any] | None:
    """What changed since the signer signed, and the form to reconfirm, while that is due."""
    if signature is None or signature.status != Signature.Status.NEEDS_RECONFIRMATION:
        return None
    assert signature.sign_on is not None
    signed = selectors.signed_revision(signature)
    return {
        "changes": text_diff.diff_revisions(signed, signature.sign_on.revision) if signed else [],
        "form": form or ReconfirmForm(initial={"text_hash": signature.sign_on.text_hash}),
    }


def _errors(*forms: AnySignerForm | None) -> list[tuple[str, str]]:
    """Every error on the page, as (the field's id, the message), for the summary at the top."""
    found = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            anchor = form[name].auto_id if field is not None and not field.widget.is_hidden else ""
            found += [(anchor, str(message)) for message in errors]
    return found


def _may_withdraw(signature: Signature | None) -> bool:
    """Whether the signature can be withdrawn now: a signature, active, the sign-on open."""
    return (
        signature is not None
        and signature.sign_on is not None
        and signature.is_active
        and signature.response == Signature.Response.SIGNED
        and signature.status != Signature.Status.UNCONFIRMED
        and not selectors.closed_message(signature.sign_on)
    )


def _render_withdraw_page(
    request: HttpRequest,
    signature: Signature,
    *,
    action_url: str,
    form: WithdrawForm | None = None,
    can_sign_again: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The one question before a signer's withdrawal: what it does, and the POST that does it."""
    sign_on = signature.sign_on
    assert sign_on is not None
    organization = signature.organization
    context = {
        "signature": signature,
        "whose": organization.name if organization is not None else signature.signer_name,
        "letter_title": sign_on.letter.title,
        "deadline_words": selectors.deadline_words(sign_on),
        "withdraw_form": form or WithdrawForm(),
        "errors": _errors(form),
        "action_url": action_url,
        "can_sign_again": can_sign_again,
    }
    return render(request, "signatories/withdraw.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# An invited person's link


def _find_invitation(token: str) -> Invitation | str:
    try:
        return selectors.find_invitation(token)
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
        "reconfirmation": _reconfirmation(
            response, bound if isinstance(bound, ReconfirmForm) else None
        ),
        "errors": _errors(bound),
        "notice": notice,
        "closed": selectors.closed_message(sign_on),
        "token": token,
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(_letter_context(request, sign_on))
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
            request, invitation, token, status=_closed_status(invitation.sign_on)
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
    # Only withdrawing and reconfirming act on the standing response: signing finds it itself.
    response = (
        selectors.active_response(invitation.sign_on, invitation.organization_id)
        if action in ("withdraw", "reconfirm")
        else None
    )
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
    if action == "withdraw":
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
            return _render_withdraw_page(
                request,
                response,
                action_url=request.path,
                form=withdrawing,
                can_sign_again=True,
                status=400,
            )
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
    if action == "reconfirm":
        if response is None or response.status != Signature.Status.NEEDS_RECONFIRMATION:
            return _render_sign_page(
                request,
                invitation,
                token,
                notice="Your organization has no signature waiting to be reconfirmed.",
                status=409,
            )
        reconfirm = ReconfirmForm(request.POST)
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


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimits.limit_posts("sign")
def sign(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find_invitation(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
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
        if standing is not None and _may_withdraw(standing) and (mine or authorized):
            return _render_withdraw_page(
                request, standing, action_url=request.path, can_sign_again=True
            )
    closed = selectors.closed_message(invitation.sign_on)
    return _render_sign_page(
        request, invitation, token, status=_closed_status(invitation.sign_on) if closed else 200
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _find_invitation(token)
    if isinstance(invitation, str):
        return _error_page(request, invitation, status=404)
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


# ---------------------------------------------------------------------------------------------
# A signer's link to their own signature


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimits.limit_posts("sign")
def signature(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = selectors.find_signature(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    sign_on = found.sign_on
    assert sign_on is not None
    withdraw_form: WithdrawForm | None = None
    reconfirm_form: ReconfirmForm | None = None
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        actor = services.Actor.from_request(request, label=found.signer_email)
        try:
            if action == "confirm":
                services.confirm_signature(signature=found, actor=actor)
                messages.success(
                    request,
                    "Thank you: your address is confirmed. The coalition's staff will review the "
                    "signature before it is listed.",
                )
                return redirect("signatories:signature", token=token)
            if action == "reconfirm":
                reconfirm_form = ReconfirmForm(request.POST)
                reconfirm_form.is_valid()  # nothing to type: the hash is checked by the service
                services.reconfirm_signature(
                    signature=found, text_hash=reconfirm_form.text_hash_sent, actor=actor
                )
                messages.success(request, "The signature is reconfirmed on the new text.")
                return redirect("signatories:signature", token=token)
            if action == "withdraw":
                withdraw_form = WithdrawForm(request.POST)
                if withdraw_form.is_valid():
                    services.withdraw_signature(
                        signature=found, withdrawing=withdraw_form.input, actor=actor
                    )
                    messages.success(request, "The signature is withdrawn; it will not be listed.")
                    return redirect("signatories:signature", token=token)
                if _may_withdraw(found):
                    # The reason is typed on the question's page: its errors show there.
                    return _render_withdraw_page(
                        request, found, action_url=request.path, form=withdraw_form, status=400
                    )
                status = 400
            else:
                notice, status = "Choose one of the buttons on this page.", 400
        except services.ResponsesClosed as error:
            notice, status = error.message, 410
        except services.SignOnError as error:
            # A field of the page was wrong (the text changed under it): 400; else a conflict.
            notice, status = error.message, 400 if error.field else 409
        found.refresh_from_db()
    elif "withdraw" in request.GET and _may_withdraw(found):
        return _render_withdraw_page(request, found, action_url=request.path)
    context: dict[str, Any] = {
        "signature": found,
        "sign_on": sign_on,
        "organization": found.organization,
        "closed": selectors.closed_message(sign_on),
        "deadline_words": selectors.deadline_words(sign_on),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "reconfirmation": _reconfirmation(found, reconfirm_form),
        "errors": _errors(withdraw_form, reconfirm_form),
        "notice": notice,
        "token": token,
    }
    if found.status == Signature.Status.NEEDS_RECONFIRMATION:
        context.update(_letter_context(request, sign_on))
        context["show_letter"] = True
    return render(request, "signatories/signature.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# The open link


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
        "errors": _errors(bound),
        "show_letter": sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.CANCELLED),
    }
    if context["show_letter"]:
        context.update(_letter_context(request, sign_on))
    return render(request, "signatories/open_link.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = selectors.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    if selectors.closed_message(sign_on):
        return _render_open_page(request, sign_on, token, status=_closed_status(sign_on))
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
        return _error_page(request, error.message, status=404)
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
    request.session[OPEN_LINK_SESSION_KEY] = signature.pk
    return redirect("signatories:open_link_thanks", token=token)


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_link_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        sign_on = selectors.find_sign_on_by_open_link(token)
    except services.InvalidToken as error:
        return _error_page(request, error.message, status=404)
    # Only the browser that asked sees its request: the link itself is shared.
    found = Signature.objects.filter(
        pk=int(request.session.get(OPEN_LINK_SESSION_KEY) or 0), sign_on=sign_on
    ).first()
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
