"""After publication: a letter's recipients (CRM contacts), each sending of the published letter
to one of them with what the email provider reported of it, and their answers."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .sign_ons import StatusTable


class Recipient(models.Model):
    """A CRM contact the letter is addressed to (their office is the contact's organization)."""

    letter = models.ForeignKey("letters.LetterPage", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("coalition.Contact", on_delete=models.PROTECT, related_name="+")
    # Where they stand in the address block: the order staff added them in.
    position = models.PositiveSmallIntegerField(default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    # Reminders of an answer sent so far, each once (its number is its email's occasion).
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "contact"], name="one_recipient_per_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} (letter {self.letter_id})"


def new_public_key() -> str:
    return secrets.token_urlsafe(12)


class LetterDelivery(StatusTable, models.Model):
    """One sending of a published version to one recipient: by email through the outbox, its
    status then following the provider's webhooks; or by hand (post, fax, a meeting), recorded
    with its date and a scan."""

    class Method(models.TextChoices):
        EMAIL = "email", "Email"
        POST = "post", "Post"
        FAX = "fax", "Fax"
        MEETING = "meeting", "By hand, at a meeting"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        OPENED = "opened", "Opened"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    # Providers' events come late, twice, and out of order: a status only moves forward. An
    # open after a bounce (an image proxy, a guess) and anything after a spam complaint change
    # nothing; a bounce may follow delivery (the receiving server accepted, then gave up).
    TRANSITIONS: dict[str, set[str]] = {
        Status.QUEUED: {
            Status.SENT,
            Status.DELIVERED,
            Status.OPENED,
            Status.BOUNCED,
            Status.COMPLAINED,
        },
        Status.SENT: {Status.DELIVERED, Status.OPENED, Status.BOUNCED, Status.COMPLAINED},
        Status.DELIVERED: {Status.OPENED, Status.BOUNCED, Status.COMPLAINED},
        Status.OPENED: {Status.COMPLAINED},
        Status.BOUNCED: set(),
        Status.COMPLAINED: set(),
    }

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="deliveries")
    publication = models.ForeignKey(
        "letters.Publication", on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.EMAIL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # The address it went to, as it was then.
    email = models.EmailField(max_length=254, blank=True)
    cover_message = models.TextField(blank=True)
    pdf_attached = models.BooleanField(default=True)
    # The outbox's once-only key of its email (coalition.core.deliveries): the provider's
    # webhooks name it in the message's metadata.
    outbox_key = models.CharField(max_length=64, blank=True, db_index=True)
    delivered_on = models.DateField(null=True, blank=True, help_text="By hand: when.")
    scan = models.FileField(upload_to="letters/deliveries/", blank=True)
    scan_type = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the provider first reported each: a later event of the same kind keeps the first.
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True, help_text="A bounce's reason.")

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "letter deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "publication"],
                condition=models.Q(method="email"),
                name="one_email_per_recipient_and_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} to {self.recipient_id}: {self.get_status_display()}"

    @property
    def by_email(self) -> bool:
        return self.method == self.Method.EMAIL


class DeliveryEvent(models.Model):
    """One event a provider reported of a delivery's email, kept once however often it came."""

    delivery = models.ForeignKey(LetterDelivery, on_delete=models.CASCADE, related_name="events")
    provider = models.CharField(max_length=50)
    # The provider's id of the event, or a fingerprint of it where the provider gives none.
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # Whether it moved the delivery's status (an out-of-order event is kept, and moves nothing).
    applied = models.BooleanField(default=False)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "provider", "event_id"], name="one_row_per_provider_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Answer(models.Model):
    """A recipient's answer to the letter: text or a file, with its date; public once published."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="answers")
    received_on = models.DateField()
    text = models.TextField(blank=True)
    file = models.FileField(upload_to="letters/answers/", blank=True)
    # What the file is, as its bytes say (never as the browser that sent it said).
    file_type = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    # Its public address: a random key, not a countable id.
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text="") | ~models.Q(file=""), name="answer_has_text_or_file"
            ),
        ]

    def __str__(self) -> str:
        return f"Answer of {self.received_on:%Y-%m-%d} from recipient {self.recipient_id}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
