"""A signer's link to their own signature: confirm the address, reconfirm, withdraw."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import ratelimits, selectors, services
from ..forms import (
    ReconfirmForm,
    WithdrawForm,
)
from ..models import Signature
from .common import (
    error_page,
    errors,
    letter_context,
    may_withdraw,
    reconfirmation,
    render_withdraw_page,
)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimits.limit_posts("sign")
def signature(request: HttpRequest, token: str) -> HttpResponse:
    try:
        # Confirming reads nothing of the letter; a page that shows it reads it below.
        found = selectors.find_signature(token, with_letter=request.method != "POST")
    except services.InvalidToken as error:
        return error_page(request, error.message, status=404)
    sign_on = found.sign_on
    assert sign_on is not None
    withdraw_form: WithdrawForm | None = None
    reconfirm_form: ReconfirmForm | None = None
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        actor = services.Actor.from_request(request, label=found.signer_email)
        try:
            if action in ("stop_publication_emails", "publication_emails"):
                return _publication_emails(request, found, token, action == "publication_emails")
            if action == "confirm":
                confirmed = services.confirm_signature(signature=found, actor=actor)
                messages.success(
                    request,
                    "Thank you: your address is confirmed, and your signature is listed."
                    if confirmed.status == Signature.Status.APPROVED
                    else "Thank you: your address is confirmed. The coalition's staff will review "
                    "the signature before it is listed.",
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
                if may_withdraw(found):
                    # The reason is typed on the question's page: its errors show there.
                    return render_withdraw_page(
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
        found = selectors.find_signature(token)  # as it is now: the answer refused may be
        # because it changed meanwhile
    elif "withdraw" in request.GET and may_withdraw(found):
        return render_withdraw_page(request, found, action_url=request.path)
    context: dict[str, Any] = {
        "signature": found,
        "sign_on": sign_on,
        "organization": found.organization,
        "closed": selectors.closed_message(sign_on),
        "deadline_words": selectors.deadline_words(sign_on),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "reconfirmation": reconfirmation(found, reconfirm_form),
        "errors": errors(withdraw_form, reconfirm_form),
        "notice": notice,
        "token": token,
    }
    if found.status == Signature.Status.NEEDS_RECONFIRMATION:
        context.update(letter_context(request, sign_on))
        context["show_letter"] = True
    return render(request, "signatories/signature.html", context, status=status)


def _publication_emails(
    request: HttpRequest, found: Signature, token: str, wanted: bool
) -> HttpResponse:
    """The signer says whether to be emailed when the letter is published or corrected."""
    services.set_publication_emails(signature=found, wanted=wanted)
    messages.success(
        request,
        "You will be emailed when the letter is published or corrected."
        if wanted
        else "You will not be emailed when the letter is published or corrected.",
    )
    return redirect("signatories:signature", token=token)
