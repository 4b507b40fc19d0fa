"""Delivering a published letter to its recipients: by email through the outbox, once per
recipient and version; by hand, recorded with its date and a scan; and what the email provider
reports of each email afterwards (django-anymail's tracking webhooks)."""

import datetime
import hashlib
from collections.abc import Sequence
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from letters import versions
from letters.models import LetterPage, Publication
from signatories import delivery_tasks
from signatories.answer_files import CheckedFile
from signatories.errors import SignOnError
from signatories.models import DeliveryEvent, LetterDelivery, Recipient

from .events import Actor

Status = LetterDelivery.Status

# Anymail's normalized event types, as a delivery's status. A provider's "rejected" (its
# suppression list) and "failed" leave the email as undelivered as a bounce does; the others
# (deferred, clicked, unsubscribed …) are kept in the delivery's events and move nothing.
EVENT_STATUS: dict[str, str] = {
    "queued": Status.QUEUED,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "opened": Status.OPENED,
    "bounced": Status.BOUNCED,
    "rejected": Status.BOUNCED,
    "failed": Status.BOUNCED,
    "complained": Status.COMPLAINED,
}
# When each status was first reported.
REPORTED_AT: dict[str, str] = {
    Status.SENT: "sent_at",
    Status.DELIVERED: "delivered_at",
    Status.OPENED: "opened_at",
    Status.BOUNCED: "bounced_at",
    Status.COMPLAINED: "complained_at",
}
# What a status implies happened before it: an event of those that arrives after it (out of
# order) is true, and gives its time, though it moves nothing.
IMPLIED: dict[str, set[str]] = {
    Status.DELIVERED: {Status.SENT},
    Status.OPENED: {Status.SENT, Status.DELIVERED},
    Status.COMPLAINED: {Status.SENT, Status.DELIVERED, Status.OPENED},
    Status.BOUNCED: {Status.SENT},
}


def current_version(letter: LetterPage) -> Publication:
    publication = versions.latest_version(letter)
    if publication is None or not letter.live:
        raise SignOnError("This letter is not published: there is nothing to deliver yet.")
    return publication


def send_letter(
    *,
    letter: LetterPage,
    recipients: Sequence[Recipient],
    cover_message: str,
    pdf_attached: bool,
    actor: Actor,
) -> list[LetterDelivery]:
    """Email the current version to each recipient who has not been sent it, through the outbox
    (once each, after commit); a recipient sent it already is left out."""
    publication = current_version(letter)
    if pdf_attached and not publication.pdf:
        raise SignOnError(
            "The PDF of this version is still being prepared: link it instead of attaching it, "
            "or send in a minute.",
            field="pdf_attached",
        )
    if not recipients:
        raise SignOnError("Tick at least one recipient to send the letter to.", field="recipients")
    if any(recipient.letter_id != letter.pk for recipient in recipients):
        raise SignOnError("Only the letter's own recipients can be sent it.", field="recipients")
    for recipient in recipients:
        if recipient.contact.email_opt_out or not recipient.contact.email:
            raise SignOnError(
                f"{recipient.contact.name} does not take email (the CRM says so): record a "
                "delivery by hand instead.",
                field="recipients",
            )
    created = []
    with transaction.atomic():
        LetterPage.objects.select_for_update().filter(pk=letter.pk).first()
        for recipient in recipients:
            email = recipient.contact.email
            delivery = LetterDelivery(
                recipient=recipient,
                publication=publication,
                method=LetterDelivery.Method.EMAIL,
                email=email,
                cover_message=cover_message.strip(),
                pdf_attached=pdf_attached,
                outbox_key=delivery_tasks.delivery_key(recipient, publication, email),
                created_by=actor.user,
            )
            try:
                with transaction.atomic():
                    delivery.save()
            except IntegrityError:
                continue  # sent this version already: the outbox would not send it twice either
            created.append(delivery)
    for delivery in created:
        transaction.on_commit(partial(delivery_tasks.send_letter_delivery.enqueue, delivery.pk))
    return created


def record_hand_delivery(
    *,
    recipient: Recipient,
    method: str,
    delivered_on: datetime.date,
    scan: CheckedFile | None,
    note: str,
    actor: Actor,
) -> LetterDelivery:
    """Record the letter handed over another way (post, fax, a meeting): when, and its scan."""
    if method == LetterDelivery.Method.EMAIL or method not in LetterDelivery.Method.values:
        raise SignOnError("Choose how the letter was delivered: post, fax, …", field="method")
    if delivered_on > timezone.localdate():
        raise SignOnError("Delivered on: a delivery cannot be in the future.", field="delivered_on")
    publication = current_version(recipient.letter)
    delivery = LetterDelivery(
        recipient=recipient,
        publication=publication,
        method=method,
        status=Status.DELIVERED,
        delivered_on=delivered_on,
        note=note.strip(),
        created_by=actor.user,
        delivered_at=timezone.now(),
    )
    if scan is not None:
        delivery.scan.save(scan.name, scan.content, save=False)
        delivery.scan_type = scan.media_type
    delivery.save()
    return delivery


def _fingerprint(provider: str, event_type: str, occurred_at: datetime.datetime, text: str) -> str:
    """An event's identity where its provider gives it none: the same report twice is one."""
    raw = "\n".join((provider, event_type, occurred_at.isoformat(), text))
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def record_provider_event(
    *,
    outbox_key: str,
    provider: str,
    event_type: str,
    event_id: str | None,
    occurred_at: datetime.datetime | None,
    description: str = "",
) -> bool:
    """What the provider reported of a delivery's email: kept once (a replay is recognised by its
    id), and moving the delivery's status only forward (TRANSITIONS). True if it was new.

    An event about an email that is no delivery of a letter (another email of the outbox, a
    message of another system) changes nothing.
    """
    occurred_at = occurred_at or timezone.now()
    description = (description or "")[:500]
    event_id = (event_id or _fingerprint(provider, event_type, occurred_at, description))[:200]
    status = EVENT_STATUS.get(event_type)
    with transaction.atomic():
        delivery = (
            LetterDelivery.objects.select_for_update()
            .filter(outbox_key=outbox_key, method=LetterDelivery.Method.EMAIL)
            .first()
        )
        if delivery is None:
            return False
        applied = status is not None and LetterDelivery.can_transition(delivery.status, status)
        try:
            with transaction.atomic():
                DeliveryEvent.objects.create(
                    delivery=delivery,
                    provider=provider[:50],
                    event_id=event_id,
                    event_type=event_type[:20],
                    occurred_at=occurred_at,
                    applied=applied,
                    description=description,
                )
        except IntegrityError:
            return False  # a replay: recorded the first time
        changes: dict[str, object] = {}
        if applied and status is not None:
            changes["status"] = status
            if status == Status.BOUNCED:
                changes["problem"] = description or event_type
        told = status is not None and (applied or status in IMPLIED.get(delivery.status, set()))
        column = REPORTED_AT.get(status or "")
        if told and column and getattr(delivery, column) is None:
            changes[column] = occurred_at
        if changes:
            LetterDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return True
