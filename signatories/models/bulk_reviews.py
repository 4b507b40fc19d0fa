"""Staff's approvals and rejections by filter, as they run: what the queue page shows of each."""

import uuid

from django.db import models
from django.utils import timezone


class BulkReview(models.Model):
    """A bulk action on the review queue's filter, run by the worker in batches
    (services.bulk_review): how far it has got, and what it skipped and why.

    A display for staff: the record of what was done is each signature's event in its sign-on's
    chain. Kept in the database, not the cache, so that the web process shows what the worker
    wrote on every install (a development server's cache is its own).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    verb = models.CharField(max_length=10, choices=[("approve", "Approve"), ("reject", "Reject")])
    query = models.JSONField(default=dict, help_text="The review queue's filter, as its URL.")
    description = models.TextField()
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, help_text="How many were left alone, by why.")
    started_by = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    failed = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_verb_display()} {self.total} ({self.description})"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def percent(self) -> int:
        if not self.total:
            return 100
        return min(100, (self.done + self.skipped_count) * 100 // self.total)
