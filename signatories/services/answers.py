"""A recipient's answer: recorded by staff (text or a file, with its date), published on the
letter's page beside its versions, and then told to every signer, once. And the reminder of an
answer to recipients who have not given one, sent only when staff confirm it."""

import datetime
from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from letters.caching import invalidate_public_pages
from letters.models import LetterPage
from signatories import delivery_tasks
from signatories.answer_files import CheckedFile
from signatories.errors import SignOnError
from signatories.models import Answer, Recipient

from .events import Actor

MAX_ANSWER_CHARACTERS = 20_000


def record_answer(
    *,
    recipient: Recipient,
    received_on: datetime.date,
    text: str,
    file: CheckedFile | None,
    actor: Actor,
) -> Answer:
    """Record what a recipient answered: its text, or the file it came as, or both."""
    text = text.strip()
    if not text and file is None:
        raise SignOnError("Give the answer's text, or upload the answer as a file.", field="text")
    if len(text) > MAX_ANSWER_CHARACTERS:
        raise SignOnError(
            f"Text: at most {MAX_ANSWER_CHARACTERS:,} characters; upload a long answer as a file.",
            field="text",
        )
    if received_on > timezone.localdate():
        raise SignOnError(
            "Received on: an answer cannot come from the future.", field="received_on"
        )
    answer = Answer(recipient=recipient, received_on=received_on, text=text, recorded_by=actor.user)
    if file is not None:
        answer.file.save(file.name, file.content, save=False)
        answer.file_type, answer.file_name, answer.file_size = file.media_type, file.name, file.size
    answer.save()
    return answer


def publish_answer(*, answer: Answer, actor: Actor) -> Answer:
    """Show the answer on the letter's page, and email every signer of it, once, after commit."""
    with transaction.atomic():
        locked = Answer.objects.select_for_update().select_related("recipient__letter")
        answer = locked.get(pk=answer.pk)
        if answer.is_published:
            raise SignOnError("This answer is published already: its signers were told then.")
        letter = answer.recipient.letter
        if not letter.live:
            raise SignOnError("The letter is not published: publish it before its answers.")
        answer.published_at, answer.published_by = timezone.now(), actor.user
        answer.save(update_fields=["published_at", "published_by"])
        invalidate_public_pages(letter=letter)
        transaction.on_commit(partial(delivery_tasks.announce_answer.enqueue, answer.pk))
    return answer


def remind_recipients(
    *, letter: LetterPage, recipients: Sequence[Recipient], after_days: int, actor: Actor
) -> list[Recipient]:
    """Remind these recipients, each of whom has not answered, that the letter awaits an answer:
    one email each. One reminded within `after_days` is left out, so that a second click (or a
    second member of staff) sends no second reminder."""
    if not recipients:
        raise SignOnError("Tick at least one recipient to remind.", field="recipients")
    reminded = []
    recent = timezone.now() - datetime.timedelta(days=after_days)
    with transaction.atomic():
        rows = Recipient.objects.select_for_update().filter(
            pk__in=[r.pk for r in recipients], letter=letter
        )
        for recipient in rows.select_related("contact"):
            if recipient.answers.exists():
                raise SignOnError(f"{recipient.contact.name} has answered: no reminder is due.")
            if recipient.reminded_at is not None and recipient.reminded_at > recent:
                continue
            Recipient.objects.filter(pk=recipient.pk).update(
                reminders_sent=F("reminders_sent") + 1, reminded_at=timezone.now()
            )
            number = recipient.reminders_sent + 1
            transaction.on_commit(
                partial(delivery_tasks.send_answer_reminder.enqueue, recipient.pk, number)
            )
            reminded.append(recipient)
    return reminded
