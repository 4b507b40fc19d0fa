"""Recipients' answers in the admin: recording one (text or a file, with its date), publishing it
on the letter's page once staff have seen who will be emailed, and the reminders of an answer,
proposed and shown before any is sent."""

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_safe

from coalition.core import emails
from letters import versions
from signatories import delivery_tasks, selectors, services
from signatories.delivery_forms import AnswerForm, ReminderForm

from .common import require_perm, showing_refusal
from .deliveries import attachment

DEFAULT_REMINDER_DAYS = 21


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def answers(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The letter's answers, and recording one."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    form = AnswerForm(
        request.POST or None, request.FILES or None, recipients=selectors.letter_recipients(letter)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with showing_refusal(request, form=form):
            services.record_answer(
                recipient=data["recipient"],
                received_on=data["received_on"],
                text=data["text"],
                file=form.checked_file,
                actor=services.Actor.from_request(request),
            )
            messages.success(
                request,
                f"Recorded the answer of {data['recipient'].contact.name}. It is not public "
                "until you publish it.",
            )
            return redirect("signatories_admin:answers", letter_pk)
    return TemplateResponse(
        request,
        "signatories/admin/answers.html",
        {
            "page_title": f"Answers: {letter.title}",
            "header_icon": "mail",
            "letter": letter,
            "answers": selectors.letter_answers(letter),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def publish_answer(request: HttpRequest, letter_pk: int, answer_pk: int) -> HttpResponse:
    """Who will be emailed when the answer is published, shown before the POST publishes it."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    answer = selectors.find_answer(letter, answer_pk)
    if answer is None:
        raise Http404("No such answer to this letter.")
    if request.method == "POST":
        with showing_refusal(request):
            services.publish_answer(answer=answer, actor=services.Actor.from_request(request))
            messages.success(
                request,
                f"Published the answer of {answer.recipient.contact.name} on the letter's page; "
                "its signers are being emailed.",
            )
        return redirect("signatories_admin:answers", letter_pk)
    return TemplateResponse(
        request,
        "signatories/admin/confirm_publish_answer.html",
        {
            "page_title": f"Publish the answer of {answer.recipient.contact.name}",
            "header_icon": "mail",
            "letter": letter,
            "answer": answer,
            "addresses": selectors.signer_addresses(letter.pk),
        },
    )


@require_safe
@require_perm("letters.publish_letter")
def answer_file(request: HttpRequest, letter_pk: int, answer_pk: int) -> FileResponse:
    """An answer's file for staff, published or not: a download, never a page."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    answer = selectors.find_answer(letter, answer_pk)
    if answer is None or not answer.file:
        raise Http404("No such file.")
    return attachment(answer.file, name=answer.file_name, media_type=answer.file_type)


@require_http_methods(["GET", "POST"])
@require_perm("letters.publish_letter")
def remind_recipients(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The recipients who have not answered after some days, each reminder shown; the POST
    sends those ticked."""
    letter = get_object_or_404(selectors.letter_pages(), pk=letter_pk)
    publication = versions.latest_version(letter) if letter.live else None
    if publication is None:
        raise Http404("This letter is not published: nobody awaits an answer yet.")
    data = request.POST if request.method == "POST" else request.GET
    form = ReminderForm(data if "days" in data else {"days": DEFAULT_REMINDER_DAYS})
    if not form.is_valid():
        return _reminder_page(request, letter, form, [], status=400)
    days = form.cleaned_data["days"]
    due = selectors.reminders_due(letter, after_days=days)
    if request.method == "POST":
        ticked = set(request.POST.getlist("recipient"))
        chosen = [d.recipient for d in due if str(d.recipient.pk) in ticked]
        with showing_refusal(request):
            reminded = services.remind_recipients(
                letter=letter,
                recipients=chosen,
                after_days=days,
                actor=services.Actor.from_request(request),
            )
            messages.success(request, f"Reminded {len(reminded)} recipient(s).")
            return redirect("signatories_admin:recipients", letter_pk)
    previews = []
    for item in due:
        outgoing = delivery_tasks.reminder_email(
            item.recipient, publication, item.reminders_sent + 1
        )
        subject, text, _ = emails.render(outgoing.name, outgoing.context)
        previews.append({"due": item, "subject": subject, "text": text})
    return _reminder_page(request, letter, form, previews)


def _reminder_page(
    request: HttpRequest, letter: Any, form: ReminderForm, previews: list[Any], status: int = 200
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "signatories/admin/remind_recipients.html",
        {
            "page_title": f"Remind recipients: {letter.title}",
            "header_icon": "mail",
            "letter": letter,
            "form": form,
            "previews": previews,
        },
        status=status,
    )
