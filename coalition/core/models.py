"""The machinery's own tables: the email outbox's deliveries and the task workers' heartbeats.

They were made by the sign-on app (its migration 0009) and are this package's since its
migration 0001, under the same table names.
"""

import datetime

from django.db import models
from django.utils import timezone


class EmailDelivery(models.Model):
    """One email a job decided to send, recorded before it goes so that no second run sends it.

    Keyed by what makes it the same email: the job and its kind, the row it is about, the event
    it follows (its occasion) and the address. A job that runs twice, or is picked up again after
    its worker died, finds the row and does not send. See `coalition/core/deliveries.py`.
    """

    class Status(models.TextChoices):
        SENDING = "sending", "being sent"
        RETRYING = "retrying", "waiting to retry"
        SENT = "sent", "sent"
        FAILED = "failed", "failed, not sent"
        # The run sending it died before the mail server's answer was recorded: it may have
        # gone or not. Never sent again automatically; staff decide.
        UNCERTAIN = "uncertain", "uncertain: the sender died while sending"

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of what makes it one.")
    job = models.CharField(max_length=100, help_text="The job and kind, e.g. invitation:reminder.")
    regarding = models.CharField(max_length=100, help_text="The row it is about: invitation 12.")
    occasion = models.CharField(max_length=100, blank=True, help_text="The event it follows.")
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=500, blank=True)
    topic = models.CharField(
        max_length=300, blank=True, help_text="What it was sent for, in words: a letter's title."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="The last attempt's error.")
    # Who made the last attempt: the worker (see WorkerHeartbeat) and its job's result id.
    worker_id = models.CharField(max_length=64, blank=True)
    job_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempted_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "email deliveries"
        indexes = [
            models.Index(fields=["status", "attempted_at"], name="email_delivery_status_idx"),
            models.Index(fields=["created_at"], name="email_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job} to {self.recipient} ({self.get_status_display()})"


class WorkerHeartbeat(models.Model):
    """A task worker's sign of life, renewed every few seconds while it runs.

    A job left running by a worker whose heartbeat expired was cut short (the worker killed, out
    of memory, its machine gone): `coalition/core/worker.py` puts it back in the queue.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    queues = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)
    # Set by the worker itself at each beat, so that workers configured differently agree on
    # when one of them is dead.
    expires_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id}"

    def is_alive(self, now: datetime.datetime) -> bool:
        return self.stopped_at is None and self.expires_at >= now
