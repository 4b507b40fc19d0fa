"""A sign-on (one round of organizations answering a letter) and the invitations it sends."""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from letters.models import Publication

MAX_REMINDERS = 5


def default_reminder_days() -> list[int]:
    return [7, 2]


def validate_reminder_days(value: object) -> None:
    """A reminder schedule: up to five different whole numbers of days before the deadline."""
    if not isinstance(value, list) or not all(
        isinstance(day, int) and not isinstance(day, bool) and day > 0 for day in value
    ):
        raise ValidationError("Give whole numbers of days before the deadline, such as “7, 2”.")
    if len(set(value)) != len(value):
        raise ValidationError("Give each number of days once.")
    if len(value) > MAX_REMINDERS:
        raise ValidationError(f"Give at most {MAX_REMINDERS} reminders.")


class StatusTable:
    """A model whose status moves only as its TRANSITIONS table allows (checked by
    services.core.check_status before every change)."""

    TRANSITIONS: dict[str, set[str]]

    @classmethod
    def can_transition(cls, current: str, target: str) -> bool:
        return target in cls.TRANSITIONS.get(current, set())


class SignOn(StatusTable, models.Model):
    """The circulation of one frozen revision of a letter to the organizations invited to sign."""

    # Whether its letter has a live translation, where a link's read found out (selectors.links):
    # None when not read.
    letter_translated: bool | None = None

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    class Recipients(models.TextChoices):
        SIGNERS = "signers", "Authorized signers, or the primary contact where none is listed"
        ALL = "all", "Every contact of the organization"

    TRANSITIONS: dict[str, set[str]] = {
        Status.DRAFT: {Status.OPEN, Status.CANCELLED},
        Status.OPEN: {Status.CLOSED, Status.CANCELLED},
        Status.CLOSED: {Status.PUBLISHED},
        Status.PUBLISHED: set(),
        Status.CANCELLED: set(),
    }

    letter = models.ForeignKey(
        "letters.LetterPage", on_delete=models.PROTECT, related_name="sign_ons"
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The revision circulated: signers see exactly this text.",
    )
    previous_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The revision circulated before the latest recirculation.",
    )
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the circulated revision.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    deadline = models.DateTimeField()
    coalitions = models.ManyToManyField("coalition.Coalition", blank=True, related_name="+")
    tiers = models.JSONField(
        default=list, blank=True, help_text="Membership tiers invited; empty means every tier."
    )
    organizations = models.ManyToManyField(
        "coalition.Organization", blank=True, related_name="+", help_text="Hand-picked."
    )
    recipients = models.CharField(
        "who is invited at each organization",
        max_length=20,
        choices=Recipients.choices,
        default=Recipients.SIGNERS,
        help_text="Each person invited gets a link of their own; the organization answers once.",
    )
    auto_approve_authorized = models.BooleanField(
        "approve known authorized signers automatically", default=True
    )
    # The rule for an open letter at scale: a person who confirmed their address is listed at
    # once, and staff review only the exceptions (selectors.held_by_rule says which).
    auto_approve_individuals = models.BooleanField(
        "approve individuals automatically once they confirm their address", default=False
    )
    show_signatories = models.BooleanField("show signers who has signed so far", default=False)
    accepts_requests = models.BooleanField(
        "organizations outside the audience may ask to sign", default=False
    )
    # SHA-256 of the open link's token; empty while there is no open link.
    open_link_token_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True, help_text="Sent to invitees with the link.")
    reminder_days = models.JSONField(
        "reminder schedule",
        default=default_reminder_days,
        blank=True,
        validators=[validate_reminder_days],
        help_text="Days before the deadline on which organizations that have not responded are reminded.",
    )
    # A goal: "publish when 25 organizations have signed" (and/or so many individuals). Staff
    # are told once every goal set is reached; with publish_at_goal, the sign-on then closes and
    # the letter goes out by itself.
    goal_organizations = models.PositiveIntegerField(
        "goal: organizations signed", null=True, blank=True
    )
    goal_individuals = models.PositiveIntegerField(
        "goal: individuals signed", null=True, blank=True
    )
    publish_at_goal = models.BooleanField(
        "close and publish by itself when the goal is reached", default=False
    )
    goal_reached_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The head of the event chain: deleting the latest events is detectable against it.
    event_count = models.PositiveIntegerField(default=0)
    last_event_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sign-on"
        constraints = [
            models.UniqueConstraint(
                fields=["letter"],
                condition=~models.Q(status="cancelled"),
                name="one_live_sign_on_per_letter",
                violation_error_message="This letter already has a sign-on.",
            ),
            models.UniqueConstraint(
                fields=["open_link_token_hash"],
                condition=~models.Q(open_link_token_hash=""),
                name="sign_on_open_link_token_hash_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-on: {self.letter.title}"

    def is_past_deadline(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.deadline

    @property
    def accepts_responses(self) -> bool:
        return self.status == self.Status.OPEN and not self.is_past_deadline()

    def reminder_moments(self) -> list[datetime.datetime]:
        """When reminders fall due, earliest first."""
        days = sorted(set(self.reminder_days or ()), reverse=True)
        return [self.deadline - datetime.timedelta(days=day) for day in days]

    @property
    def has_goal(self) -> bool:
        return bool(self.goal_organizations or self.goal_individuals)

    @property
    def publication(self) -> "Publication | None":
        """The latest published version of the letter, once this sign-on published it."""
        if self.status != self.Status.PUBLISHED:
            return None
        return Publication.objects.filter(letter_id=self.letter_id).order_by("-version").first()

    def chain_state(self) -> dict[str, Any]:
        """What an event records of the sign-on after a change: a later edit must show."""
        return {
            "status": self.status,
            "revision": self.revision_id,
            "text_hash": self.text_hash,
            "deadline": self.deadline.isoformat(),
            "open_link_token_hash": self.open_link_token_hash,
            "accepts_requests": self.accepts_requests,
            "auto_approve_authorized": self.auto_approve_authorized,
            "auto_approve_individuals": self.auto_approve_individuals,
            "goal_organizations": self.goal_organizations,
            "goal_individuals": self.goal_individuals,
            "publish_at_goal": self.publish_at_goal,
            "goal_reached_at": self.goal_reached_at.isoformat() if self.goal_reached_at else None,
        }


class Invitation(models.Model):
    """One person invited to answer a sign-on for their organization, with a link of their own.

    The organization answers once, whoever of its people answers first.
    """

    sign_on = models.ForeignKey(SignOn, on_delete=models.CASCADE, related_name="invitations")
    organization = models.ForeignKey(
        "coalition.Organization", on_delete=models.PROTECT, related_name="invitations"
    )
    contact = models.ForeignKey(
        "coalition.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        help_text="Empty when a colleague was forwarded the request at an address not on file.",
    )
    name = models.CharField(max_length=255, help_text="The person invited, as greeted.")
    email = models.EmailField(max_length=254, help_text="The address the link was sent to.")
    forwarded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forwards",
        help_text="The invitation of the colleague who passed the request on.",
    )
    token_nonce = models.CharField(max_length=32, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sign_on", "organization__sort_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sign_on", "contact"],
                condition=models.Q(contact__isnull=False),
                name="one_invitation_per_contact",
            ),
            models.UniqueConstraint("sign_on", Lower("email"), name="one_invitation_per_address"),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="invitation_token_hash_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.organization} invited to {self.sign_on}"

    def chain_state(self) -> dict[str, Any]:
        return {
            "organization": self.organization_id,
            "contact": self.contact_id,
            "email": self.email,
            "token_hash": self.token_hash,
            "forwarded_by": self.forwarded_by_id,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "responded_at": self.responded_at.isoformat() if self.responded_at else None,
            "reminders_sent": self.reminders_sent,
        }
