"""Email jobs after publication: the letter to each recipient, a reminder of an answer, and a
published answer to every signer. As in `tasks`, each job reads the current state, hands its
email to the outbox (which sends it once however often the job runs) and changes nothing else.

The email of a delivery is the same whether previewed by staff or sent by the job: both build it
here (`delivery_email`).
"""

import dataclasses

from django.core.files.storage import default_storage
from django.tasks import task
from django.urls import reverse

from coalition.core import deliveries, emails
from coalition.core.deliveries import Outgoing
from letters.models import LetterPage, Publication

from .models import Answer, LetterDelivery, Recipient
from .selectors import recipients as selectors

DELIVERY_JOB = "letter:delivery"


def delivery_key(recipient: Recipient, publication: Publication, email: str) -> str:
    """The outbox's once-only key of a version's email to a recipient: known before it goes, so
    that the provider's events about it find its delivery."""
    return _delivery_outgoing(recipient, publication, email, context={}).key


def _delivery_outgoing(
    recipient: Recipient, publication: Publication, email: str, *, context: dict[str, object]
) -> Outgoing:
    return Outgoing(
        name="letter-delivery",
        to=email,
        job=DELIVERY_JOB,
        regarding=f"recipient {recipient.pk}",
        occasion=f"publication {publication.pk}",
        topic=f"“{publication.letter.title}” (version {publication.version}) to its recipient",
        context=context,
    )


def letter_urls(letter: LetterPage, publication: Publication) -> dict[str, str]:
    letter_url = emails.absolute_url(letter.url or "/")
    return {"letter_url": letter_url, "pdf_url": f"{letter_url}pdf/v{publication.version}/"}


def delivery_email(
    recipient: Recipient,
    publication: Publication,
    *,
    cover_message: str,
    pdf_attached: bool,
    email: str,
) -> Outgoing:
    """The email that delivers a version to a recipient: the cover message, the letter's page,
    and its PDF attached or linked."""
    letter = publication.letter
    context: dict[str, object] = {
        "letter_title": letter.title,
        "name": recipient.contact.name,
        "office": recipient.contact.organization.name,
        "cover_message": cover_message,
        "pdf_attached": pdf_attached,
        "pdf_name": f"{letter.slug}-v{publication.version}.pdf",
        "sha256": publication.pdf_sha256,
        "why": f"the coalition addressed “{letter.title}” to you",
        **letter_urls(letter, publication),
    }
    return _delivery_outgoing(recipient, publication, email, context=context)


@task(backend="background", queue_name="email")
def send_letter_delivery(delivery_id: int, retrying: int | None = None) -> bool:
    """Email the published version to one recipient, at most once."""
    return deliveries.deliver(
        _delivery_to_send(delivery_id),
        job=send_letter_delivery,
        args=(delivery_id,),
        retrying=retrying,
    )


def _delivery_to_send(delivery_id: int) -> Outgoing | None:
    delivery = (
        LetterDelivery.objects.select_related(
            "recipient__contact__organization", "publication__letter"
        )
        .filter(pk=delivery_id, method=LetterDelivery.Method.EMAIL)
        .first()
    )
    if delivery is None or not delivery.email:
        return None
    publication = delivery.publication
    outgoing = delivery_email(
        delivery.recipient,
        publication,
        cover_message=delivery.cover_message,
        pdf_attached=delivery.pdf_attached,
        email=delivery.email,
    )
    if not delivery.pdf_attached or not publication.pdf:
        return outgoing
    with default_storage.open(str(publication.pdf.name), "rb") as pdf:
        attachment = (str(outgoing.context["pdf_name"]), pdf.read(), "application/pdf")
    return dataclasses.replace(outgoing, attachments=(attachment,))


# Reminders of an answer ----------------------------------------------------------------------


def reminder_email(recipient: Recipient, publication: Publication, number: int) -> Outgoing:
    """The n-th reminder to a recipient who has not answered (its number makes it once)."""
    letter = publication.letter
    return Outgoing(
        name="answer-reminder",
        to=recipient.contact.email,
        job="letter:answer_reminder",
        regarding=f"recipient {recipient.pk}",
        occasion=f"reminder {number}",
        topic=f"“{letter.title}”: a reminder to its recipient",
        context={
            "letter_title": letter.title,
            "name": recipient.contact.name,
            "sent_on": letter.first_published_at or publication.published_at,
            "why": f"the coalition addressed “{letter.title}” to you",
            **letter_urls(letter, publication),
        },
    )


@task(backend="background", queue_name="email")
def send_answer_reminder(recipient_id: int, number: int, retrying: int | None = None) -> bool:
    """Remind a recipient of the letter, once for each reminder staff confirmed."""
    return deliveries.deliver(
        _reminder_to_send(recipient_id, number),
        job=send_answer_reminder,
        args=(recipient_id, number),
        retrying=retrying,
    )


def _reminder_to_send(recipient_id: int, number: int) -> Outgoing | None:
    recipient = (
        Recipient.objects.select_related("contact", "letter").filter(pk=recipient_id).first()
    )
    if recipient is None or recipient.contact.email_opt_out:
        return None
    if Answer.objects.filter(recipient=recipient).exists():
        return None  # they answered while it waited
    publication = Publication.objects.filter(letter=recipient.letter, is_current=True).first()
    if publication is None:
        return None
    return reminder_email(recipient, publication, number)


# A published answer, to every signer -------------------------------------------------------


@task(backend="background", queue_name="email")
def announce_answer(answer_id: int) -> int:
    """Queue one email to each signer's address of the answer published."""
    answer = Answer.objects.select_related("recipient").filter(pk=answer_id).first()
    if answer is None or not answer.is_published:
        return 0
    addresses = selectors.signer_addresses(answer.recipient.letter_id)
    for address in addresses:
        send_answer_email.enqueue(answer_id, address)
    return len(addresses)


@task(backend="background", queue_name="email")
def send_answer_email(answer_id: int, address: str, retrying: int | None = None) -> bool:
    """Tell a signer that the letter they signed was answered, once per address."""
    return deliveries.deliver(
        _answer_email(answer_id, address),
        job=send_answer_email,
        args=(answer_id, address),
        retrying=retrying,
    )


def _answer_email(answer_id: int, address: str) -> Outgoing | None:
    answer = (
        Answer.objects.select_related("recipient__contact__organization", "recipient__letter")
        .filter(pk=answer_id, published_at__isnull=False)
        .first()
    )
    if answer is None:
        return None  # withdrawn from the page before this ran
    letter = answer.recipient.letter
    letter_url = emails.absolute_url(letter.url or "/")
    file_url = ""
    if answer.file:
        file_url = emails.absolute_url(
            reverse("public:answer_file", args=[letter.slug, answer.public_key])
        )
    return Outgoing(
        name="answer-published",
        to=address,
        job="letter:answer_published",
        regarding=f"answer {answer.pk}",
        occasion="published",
        topic=f"“{letter.title}”: an answer published",
        context={
            "letter_title": letter.title,
            "recipient": answer.recipient.contact.name,
            "office": answer.recipient.contact.organization.name,
            "received_on": answer.received_on,
            "text": answer.text,
            "file_url": file_url,
            "letter_url": f"{letter_url}#answers",
            "why": "you signed this letter",
        },
    )
