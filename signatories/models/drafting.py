"""Drafting together: a letter's draft shared with member contacts, who comment on its passages
and suggest new wording through links of their own, without an account; staff accept or reject
each comment, and an accepted suggestion becomes a new revision of the letter."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .sign_ons import StatusTable


class DraftShare(models.Model):
    """One member contact's own link to a letter's draft (their name and address as shared).

    Comments through it close once the letter has a revision approved for circulation after it
    was shared: the text they would change has been settled (selectors.drafting).
    """

    letter = models.ForeignKey("letters.LetterPage", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        "coalition.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=255)
    email = models.EmailField(max_length=254)
    organization_name = models.CharField(max_length=255, blank=True)
    token_nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="Sent with the link.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shared_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "contact"],
                condition=Q(revoked_at__isnull=True),
                name="one_draft_link_per_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class DraftComment(StatusTable, models.Model):
    """A comment on one passage of a shared draft, with new wording suggested or not."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        # The text was approved for circulation before staff decided.
        CLOSED = "closed", "Closed without a decision"

    TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.ACCEPTED, Status.REJECTED, Status.CLOSED},
        Status.ACCEPTED: set(),
        Status.REJECTED: set(),
        Status.CLOSED: set(),
    }

    share = models.ForeignKey(DraftShare, on_delete=models.CASCADE, related_name="comments")
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The revision the reader commented on.",
    )
    passage = models.CharField(max_length=130, help_text="The passage's key (letters.passages).")
    quoted = models.TextField(help_text="The passage as it read then.")
    comment = models.TextField(blank=True)
    suggestion = models.TextField(blank=True, help_text="New wording for the passage, plain text.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Staff's word to the reader on the decision.")
    accepted_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The revision that accepting the suggestion made.",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(comment="") | ~Q(suggestion=""), name="draft_comment_says_something"
            ),
            # An accepted suggestion made a revision; nothing else did.
            models.CheckConstraint(
                condition=(
                    Q(status="accepted", accepted_revision__isnull=False) & ~Q(suggestion="")
                )
                | (Q(accepted_revision__isnull=True) & (~Q(status="accepted") | Q(suggestion=""))),
                name="draft_comment_revision_iff_suggestion_accepted",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="draft_comment_decided_when_not_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.share.name} on passage {self.passage}"
