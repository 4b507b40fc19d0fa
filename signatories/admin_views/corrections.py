"""A published letter's corrections: its versions, adding or withdrawing a signatory, and
publishing the correction that prints the change."""

import hashlib
import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from letters import versions
from signatories import selectors, services
from signatories.forms import AddSignatoryForm, CorrectionForm, RetractForm

from .common import require_perm, showing_refusal


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def corrections(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """A published letter's versions, the changes since the latest, and adding a signatory.

    Withdrawing a signatory and publishing a correction each have a page that shows first.
    """
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    publications = selectors.letter_versions(letter)
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
        with showing_refusal(request):
            services.add_signatory(
                letter=letter, actor=services.Actor.from_request(request), **data
            )
            messages.success(
                request,
                f"Added “{data['display_name']}”: it prints once you publish a correction.",
            )
            return redirect("signatories_admin:corrections", letter_pk)
    _, pending = selectors.correction(letter, publications[0], with_latest_text=True)
    return TemplateResponse(
        request,
        "signatories/admin/corrections.html",
        {
            "page_title": f"Corrections: {letter.title}",
            "header_icon": "doc-full-inverse",
            "letter": letter,
            "publications": publications,
            "pending": pending,
            "printed": selectors.printable_in_order(letter),
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
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    latest = versions.latest_version(letter)
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
    revision, changes = selectors.correction(
        letter, latest, with_latest_text=form.cleaned_data["with_latest_text"]
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
            with showing_refusal(request):
                publication = services.publish_correction(
                    letter=letter,
                    note=form.cleaned_data["note"],
                    revision=revision,
                    actor=services.Actor.from_request(request),
                )
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
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    signature = get_object_or_404(selectors.printable_signatures(letter), pk=signature_pk)
    form = RetractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with showing_refusal(request):
            services.retract_signature(
                signature=signature,
                reason=form.cleaned_data["reason"],
                actor=services.Actor.from_request(request),
            )
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
            "latest": versions.latest_version(letter),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
