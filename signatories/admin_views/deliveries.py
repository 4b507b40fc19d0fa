"""Delivering a published letter from the admin: the email to its recipients, each one previewed
before anything is sent; a delivery by hand with its scan; and the scan itself."""

import hashlib
import json
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_safe

from coalition.core import emails
from letters import versions
from letters.models import LetterPage, Publication
from signatories import delivery_tasks, selectors, services
from signatories.delivery_forms import HandDeliveryForm, SendForm
from signatories.models import Recipient

from .common import require_perm, showing_refusal


def _fingerprint(
    publication: Publication, recipients: list[Recipient], data: dict[str, Any]
) -> str:
    """What the preview showed, in short: the POST sends only if it is what was shown."""
    shown = [publication.pk, sorted(r.pk for r in recipients), data["cover_message"]]
    shown.append(bool(data["pdf_attached"]))
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


def _previews(
    publication: Publication, recipients: list[Recipient], data: dict[str, Any]
) -> list[dict[str, str]]:
    """Each email as its recipient will read it."""
    previews = []
    for recipient in recipients:
        outgoing = delivery_tasks.delivery_email(
            recipient,
            publication,
            cover_message=data["cover_message"].strip(),
            pdf_attached=data["pdf_attached"],
            email=recipient.contact.email,
        )
        subject, text, _ = emails.render(outgoing.name, outgoing.context)
        previews.append({"to": recipient.contact.email, "subject": subject, "text": text})
    return previews


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def send_letter(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """Choose recipients and write the cover message; then see each email; then send them."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    publication = versions.latest_version(letter) if letter.live else None
    if publication is None:
        raise Http404("This letter is not published: there is nothing to deliver yet.")
    listed = selectors.letter_recipients(letter)
    form = SendForm(request.POST or None, recipients=listed)
    context: dict[str, Any] = {
        "page_title": f"Send the letter: {letter.title}",
        "header_icon": "mail",
        "letter": letter,
        "publication": publication,
        "form": form,
        "sent_already": selectors.emailed_this_version(list(listed), publication),
    }
    if request.method == "GET" or not form.is_valid():
        status = 400 if form.errors else 200
        return TemplateResponse(
            request, "signatories/admin/send_letter.html", context, status=status
        )
    chosen = list(form.cleaned_data["recipients"])
    fingerprint = _fingerprint(publication, chosen, form.cleaned_data)
    if request.POST.get("action") == "send":
        if request.POST.get("fingerprint") != fingerprint:
            messages.error(request, "What you send changed since its preview: look at it again.")
        else:
            with showing_refusal(request, form=form):
                sent = services.send_letter(
                    letter=letter,
                    recipients=chosen,
                    cover_message=form.cleaned_data["cover_message"],
                    pdf_attached=form.cleaned_data["pdf_attached"],
                    actor=services.Actor.from_request(request),
                )
                skipped = len(chosen) - len(sent)
                messages.success(
                    request,
                    f"The letter goes to {len(sent)} recipient(s)"
                    + (f"; {skipped} had been sent this version already." if skipped else "."),
                )
                return redirect("signatories_admin:recipients", letter_pk)
    context.update(
        previews=_previews(publication, chosen, form.cleaned_data),
        fingerprint=fingerprint,
        chosen=chosen,
    )
    return TemplateResponse(request, "signatories/admin/send_letter.html", context)


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def hand_delivery(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """Record the letter delivered by post, fax or in person, with its date and a scan."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    form = HandDeliveryForm(
        request.POST or None, request.FILES or None, recipients=selectors.letter_recipients(letter)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with showing_refusal(request, form=form):
            services.record_hand_delivery(
                recipient=data["recipient"],
                method=data["method"],
                delivered_on=data["delivered_on"],
                scan=form.checked_file,
                note=data["note"],
                actor=services.Actor.from_request(request),
            )
            messages.success(request, f"Recorded the delivery to {data['recipient'].contact.name}.")
            return redirect("signatories_admin:recipients", letter_pk)
    return TemplateResponse(
        request,
        "signatories/admin/hand_delivery.html",
        {
            "page_title": f"A delivery by hand: {letter.title}",
            "header_icon": "mail",
            "letter": letter,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


def attachment(file: Any, *, name: str, media_type: str) -> FileResponse:
    """A stored upload as a download of the type its bytes showed: never shown as a page."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=name)
    response["Content-Type"] = media_type or "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser show it after all, it runs nothing and reaches nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
@require_perm("letters.publish_letter")
def delivery_scan(request: HttpRequest, letter_pk: int, delivery_pk: int) -> FileResponse:
    letter: LetterPage = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    delivery = selectors.find_delivery(letter, delivery_pk)
    if delivery is None or not delivery.scan:
        raise Http404("No such scan.")
    name = str(delivery.scan.name).rsplit("/", 1)[-1]
    return attachment(delivery.scan, name=name, media_type=delivery.scan_type)
