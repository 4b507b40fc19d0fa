"""A letter's recipients: chosen from the CRM or added to it on the spot, checked against the
letter's address block; each one's deliveries and answers, and the letter's timeline after
publication."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from letters import versions
from letters.models import LetterPage
from signatories import selectors, services
from signatories.delivery_forms import NewRecipientForm

from .common import require_perm, showing_refusal


def _posted_id(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 18 else None


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def recipients(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The recipients, whether the address block names them, and adding or removing one."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    action = request.POST.get("action", "")
    new_form = NewRecipientForm(request.POST if action == "new" else None)
    actor = services.Actor.from_request(request)
    if request.method == "POST":
        if action == "add":
            contact_id = _posted_id(request, "contact")
            contact = selectors.contact_by_id(contact_id) if contact_id else None
            if contact is None:
                messages.error(request, "Contact: choose a contact of the CRM to add.")
            else:
                with showing_refusal(request):
                    services.add_recipient(letter=letter, contact=contact, actor=actor)
                    messages.success(request, f"{contact.name} is a recipient of the letter.")
                    return redirect("signatories_admin:recipients", letter_pk)
        elif action == "new" and new_form.is_valid():
            with showing_refusal(request, form=new_form):
                recipient = services.add_new_recipient(
                    letter=letter, actor=actor, **new_form.cleaned_data
                )
                messages.success(request, f"{recipient.contact.name} is a recipient of the letter.")
                return redirect("signatories_admin:recipients", letter_pk)
        elif action == "remove":
            return _remove(request, letter, actor)
        elif action != "new":
            messages.error(request, "Nothing was changed: the form did not say what to do.")
    return _page(request, letter, new_form)


def _remove(request: HttpRequest, letter: LetterPage, actor: services.Actor) -> HttpResponse:
    recipient_id = _posted_id(request, "recipient")
    recipient = selectors.find_recipient(letter, recipient_id) if recipient_id else None
    if recipient is None:
        messages.error(request, "Recipient: choose one of the letter's recipients to remove.")
    else:
        with showing_refusal(request):
            services.remove_recipient(recipient=recipient, actor=actor)
            messages.success(request, f"{recipient.contact.name} is no longer a recipient.")
    return redirect("signatories_admin:recipients", letter.pk)


def _page(request: HttpRequest, letter: LetterPage, new_form: NewRecipientForm) -> HttpResponse:
    listed = list(selectors.letter_recipients(letter))
    query = request.GET.get("q", "").replace("\x00", "")
    deliveries = list(selectors.letter_deliveries(letter))
    answers = list(selectors.letter_answers(letter))
    return TemplateResponse(
        request,
        "signatories/admin/recipients.html",
        {
            "page_title": f"Recipients: {letter.title}",
            "header_icon": "mail",
            "letter": letter,
            "publication": versions.latest_version(letter) if letter.live else None,
            "recipients": listed,
            "warnings": selectors.address_block_warnings(letter, listed),
            "query": query,
            "matches": selectors.contacts_matching(letter, query),
            "new_form": new_form,
            "deliveries": [(d, selectors.shown_status(d)) for d in deliveries],
            "answers": answers,
            "timeline": selectors.letter_timeline(letter, deliveries, answers),
        },
        status=400 if new_form.errors else 200,
    )
