"""A letter published under embargo, from its tracker: set the moment, move it, lift it (which
publishes now, after a confirmation), and give press contacts links of their own."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from signatories import selectors, services
from signatories.deadlines import format_moment
from signatories.forms import EmbargoForm, PressPreviewForm
from signatories.models import SignOn

from .common import confirmation_page, require_perm, showing_refusal


def _page(
    request: HttpRequest,
    sign_on: SignOn,
    *,
    form: EmbargoForm | None = None,
    press_form: PressPreviewForm | None = None,
    status: int = 200,
) -> TemplateResponse:
    embargo = selectors.embargo_of(sign_on)
    return TemplateResponse(
        request,
        "signatories/admin/embargo.html",
        {
            "page_title": f"Embargo: {sign_on.letter.title}",
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "embargo": embargo,
            "until": format_moment(embargo.until) if embargo else "",
            "previews": selectors.press_previews(embargo) if embargo else [],
            "form": form or EmbargoForm(initial={"until": embargo.until} if embargo else None),
            "press_form": press_form or PressPreviewForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def embargo(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the embargo, or move it."""
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    if request.method == "GET":
        return _page(request, sign_on)
    form = EmbargoForm(request.POST)
    if not form.is_valid():
        return _page(request, sign_on, form=form, status=400)
    actor = services.Actor.from_request(request)
    current = selectors.active_embargo(sign_on)
    with showing_refusal(request, form=form):
        if current is None:
            done = services.embargo_sign_on(
                sign_on=sign_on, until=form.cleaned_data["until"], actor=actor
            )
            messages.success(
                request,
                f"“{sign_on.letter.title}” is published at {format_moment(done.until)}. Add the "
                "press contacts who may read it before then.",
            )
        else:
            done = services.move_embargo(
                embargo=current, until=form.cleaned_data["until"], actor=actor
            )
            messages.success(request, f"The embargo now ends at {format_moment(done.until)}.")
        return redirect("signatories_admin:embargo", pk)
    return _page(request, sign_on, form=form, status=400)


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def lift_embargo(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish the letter now, before its embargo ends: confirmed first."""
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    current = selectors.active_embargo(sign_on)
    if current is None:
        messages.error(request, "The letter is not under embargo.")
        return redirect("signatories_admin:tracker", pk)
    if request.method == "GET":
        return confirmation_page(
            request,
            sign_on,
            title=f"Lift the embargo on “{sign_on.letter.title}”",
            template="confirm_lift_embargo.html",
            until=format_moment(current.until),
            lines=selectors.printable_lines(sign_on),
        )
    with showing_refusal(request):
        publication = services.release_embargo(
            embargo=current, actor=services.Actor.from_request(request), early=True
        )
        if publication is not None:
            messages.success(
                request, f"The embargo is lifted: “{sign_on.letter.title}” is published."
            )
    return redirect("signatories_admin:tracker", pk)


@require_POST
@require_perm("letters.publish_letter")
def add_press_preview(request: HttpRequest, pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    current = selectors.active_embargo(sign_on)
    form = PressPreviewForm(request.POST)
    if current is None:
        messages.error(request, "The letter is not under embargo: there is nothing to preview.")
        return redirect("signatories_admin:tracker", pk)
    if not form.is_valid():
        return _page(request, sign_on, press_form=form, status=400)
    with showing_refusal(request, form=form):
        preview = services.add_press_preview(
            embargo=current,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            outlet=form.cleaned_data["outlet"],
            actor=services.Actor.from_request(request),
        )
        messages.success(request, f"{preview.name} is emailed a link of their own.")
        return redirect("signatories_admin:embargo", pk)
    return _page(request, sign_on, press_form=form, status=400)


@require_POST
@require_perm("letters.publish_letter")
def revoke_press_preview(request: HttpRequest, pk: int, preview_pk: int) -> HttpResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
    embargo = selectors.embargo_of(sign_on)
    if embargo is None:
        messages.error(request, "The letter is not under embargo.")
        return redirect("signatories_admin:tracker", pk)
    preview = get_object_or_404(selectors.press_previews(embargo), pk=preview_pk)
    services.revoke_press_preview(preview=preview)
    messages.success(request, f"{preview.name}'s link no longer opens.")
    return redirect("signatories_admin:embargo", pk)
