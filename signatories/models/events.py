"""The sign-on's append-only, hash-chained record of every change."""

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .. import chain
from .sign_ons import Invitation, SignOn
from .signatures import Signature


class Action(StrEnum):
    """What an event records. The values are stored in `Event.action` and hashed into the chain:
    a value never changes once written."""

    CREATED = "created"
    OPENED = "opened"
    INVITED = "invited"
    INVITATION_OPENED = "invitation_opened"
    REMINDER_SENT = "reminder_sent"
    DEADLINE_CHANGED = "deadline_changed"
    DEADLINE_NOTIFIED = "deadline_notified"
    SIGNED = "signed"
    INDIVIDUAL_SIGNED = "individual_signed"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    DECLINE_REPLACED = "decline_replaced"
    FORWARDED = "forwarded"
    WITHDRAWN = "withdrawn"
    WITHDRAWN_BY_STAFF = "withdrawn_by_staff"
    ADDED_BY_STAFF = "added_by_staff"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPLAY_NAME_CORRECTED = "display_name_corrected"
    RECONFIRMATION_REQUESTED = "reconfirmation_requested"
    RECONFIRMED = "reconfirmed"
    RECIRCULATED = "recirculated"
    OPEN_LINK_ISSUED = "open_link_issued"
    OPEN_LINK_CLOSED = "open_link_closed"
    APPROVAL_RULES_CHANGED = "approval_rules_changed"
    GOAL_REACHED = "goal_reached"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EMBARGOED = "embargoed"
    EMBARGO_MOVED = "embargo_moved"
    EMBARGO_LIFTED = "embargo_lifted"
    PUBLISHED = "published"
    CORRECTION_PUBLISHED = "correction_published"
    ORGANIZATION_MERGED = "organization_merged"


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only.")


class Event(models.Model):
    """An append-only audit record of one change in a sign-on, hash-chained to the one before."""

    sign_on = models.ForeignKey(SignOn, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField()
    action = models.CharField(max_length=50)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    signature = models.ForeignKey(
        Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    organization = models.ForeignKey(
        "coalition.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted, in words that survive the deletion of a user: "staff@example.org", "signer …".
    actor = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The state the change produced, by kind ("sign_on", "invitation", "signature"): the chain
    # covers the rows, not only the actions, so an edit made outside the services shows.
    state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["sign_on", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["sign_on", "sequence"], name="event_sequence_unique"),
        ]
        # A version's PDF names the head of the record it came from: found by it.
        indexes = [models.Index(fields=["hash"], name="event_hash")]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.action} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only.")

    def payload(self) -> dict[str, Any]:
        return {
            "sign_on": self.sign_on_id,
            "sequence": self.sequence,
            "action": self.action,
            "invitation": self.invitation_id,
            "signature": self.signature_id,
            "organization": self.organization_id,
            "user": self.user_id,
            "actor": self.actor,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "text_hash": self.text_hash,
            "detail": self.detail,
            "state": self.state,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self) -> str:
        return chain.digest(self.payload())

    def hash_is_valid(self) -> bool:
        return chain.matches(self.payload(), self.hash)
