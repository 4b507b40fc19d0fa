import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Membership, sort_name_for
from letters.lines import SignatoryLine
from letters.models import LetterPage, Publication

from . import chain

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


class SignOn(models.Model):
    """The circulation of one frozen revision of a letter to the organizations invited to sign."""

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

    @classmethod
    def can_transition(cls, current: str, target: str) -> bool:
        return target in cls.TRANSITIONS.get(current, set())

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


class SignatureQuerySet(models.QuerySet["Signature"]):
    def printable(self) -> "SignatureQuerySet":
        """Signatures that print on the letter: approved, signed, not withdrawn, not of a cancelled sign-on."""
        return self.filter(
            status=Signature.Status.APPROVED, response=Signature.Response.SIGNED
        ).exclude(sign_on__status=SignOn.Status.CANCELLED)

    def printable_lines(self, letter: "LetterPage") -> list[SignatoryLine]:
        """The printed lines of a letter's signatories, in the order the letter sets, in one query."""
        with_signers = letter.signatory_style == letter.SignatoryStyle.SIGNERS
        return [s.as_line(with_signer=with_signers) for s in self.printable_in_order(letter)]

    def printable_in_order(self, letter: "LetterPage") -> list["Signature"]:
        """A letter's printed signatures in the order the letter sets them."""
        rows = self.printable().filter(letter=letter).select_related("logo", "organization")
        order = letter.signatory_order
        if order == letter.SignatoryOrder.BY_TIER and letter.coalition_id:
            rows = rows.annotate(
                tier=Subquery(
                    Membership.objects.filter(
                        coalition_id=letter.coalition_id,
                        organization_id=OuterRef("organization_id"),
                        left_on__isnull=True,
                    ).values("tier")[:1]
                )
            )
        signatures = list(rows.order_by("position", "pk"))
        if order == letter.SignatoryOrder.ALPHABETICAL:
            signatures.sort(key=lambda s: s.sort_key.casefold())
        elif order == letter.SignatoryOrder.BY_TIER:
            rank = {str(tier): position for tier, position in Membership.TIER_RANK.items()}
            signatures.sort(
                # The annotation: a signature of an organization no longer a member ranks last.
                key=lambda s: (rank.get(getattr(s, "tier", ""), len(rank)), s.sort_key.casefold())
            )
        if letter.group_signatories:
            # Groups print in the order in which they first appear; a stable sort keeps the rest.
            # Lines without a heading come first: after a heading they would read as under it.
            first_seen: dict[str, int] = {"": -1}
            for signature in sorted(signatures, key=lambda s: (s.position, s.pk)):
                first_seen.setdefault(signature.group, len(first_seen))
            signatures.sort(key=lambda s: first_seen[s.group])
        return signatures


# An active response whose address is confirmed (invited, confirmed from the emailed link, or
# reconfirmed since): what stands as an organization's answer. Its complement among the active
# ones: requests through the open link that nobody confirmed, before a material change or since.
CONFIRMED_ACTIVE = models.Q(status__in=["pending_review", "approved"]) | (
    models.Q(status="needs_reconfirmation") & ~models.Q(status_before_reconfirmation="unconfirmed")
)
NEVER_CONFIRMED = models.Q(status="unconfirmed") | models.Q(
    status="needs_reconfirmation", status_before_reconfirmation="unconfirmed"
)


class Signature(models.Model):
    """An organization's (or an individual's) response to a letter."""

    class Response(models.TextChoices):
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined"

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Unconfirmed"
        PENDING_REVIEW = "pending_review", "Pending review"
        APPROVED = "approved", "Approved"
        NEEDS_RECONFIRMATION = "needs_reconfirmation", "Needs reconfirmation"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REJECTED = "rejected", "Rejected"

    ACTIVE_STATUSES = (
        Status.UNCONFIRMED,
        Status.PENDING_REVIEW,
        Status.APPROVED,
        Status.NEEDS_RECONFIRMATION,
    )

    TRANSITIONS: dict[str, set[str]] = {
        # Unconfirmed: asked through the open link; the address has not been confirmed yet.
        Status.UNCONFIRMED: {
            Status.PENDING_REVIEW,
            Status.WITHDRAWN,
            Status.REJECTED,
            Status.NEEDS_RECONFIRMATION,
        },
        Status.PENDING_REVIEW: {
            Status.APPROVED,
            Status.REJECTED,
            Status.WITHDRAWN,
            Status.NEEDS_RECONFIRMATION,
        },
        Status.APPROVED: {Status.WITHDRAWN, Status.NEEDS_RECONFIRMATION},
        # Reconfirming returns a signature to the status it had before the material change;
        # staff may still reject one that was waiting for review or confirmation then.
        Status.NEEDS_RECONFIRMATION: {
            Status.UNCONFIRMED,
            Status.PENDING_REVIEW,
            Status.APPROVED,
            Status.WITHDRAWN,
            Status.REJECTED,
        },
        Status.WITHDRAWN: set(),
        Status.REJECTED: set(),
    }
    # Who a signature on hold waits for, and which of these moves staff make: `awaits`,
    # `staff_may_approve` and `staff_may_reject` below.

    sign_on = models.ForeignKey(
        SignOn,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
        help_text="Empty for signatures that came with an imported letter.",
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )

    letter = models.ForeignKey(
        "letters.LetterPage", on_delete=models.CASCADE, related_name="signatures"
    )
    organization = models.ForeignKey(
        "coalition.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    response = models.CharField(max_length=20, choices=Response.choices, default=Response.SIGNED)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.UNCONFIRMED)
    status_before_reconfirmation = models.CharField(
        max_length=30,
        choices=Status.choices,
        blank=True,
        help_text="What reconfirming restores, while the signature needs reconfirmation.",
    )
    display_name = models.CharField(
        max_length=500, help_text="The line exactly as it prints on the letter."
    )
    sort_key = models.CharField(max_length=500, blank=True)
    group = models.CharField(
        max_length=100, blank=True, help_text="The heading it prints under, e.g. 'Individuals'."
    )
    position = models.PositiveIntegerField(default=0, help_text="Order as entered.")
    signer_name = models.CharField(max_length=200, blank=True)
    signer_title = models.CharField(max_length=200, blank=True)
    signer_email = models.EmailField(blank=True)
    # The mailbox the address reaches (see addresses.email_key): one person signs once.
    signer_email_key = models.CharField(max_length=254, blank=True)
    # Individuals signing in a personal capacity have no organization.
    affiliation = models.CharField(max_length=300, blank=True)
    # What a request through the open link said of its organization, kept on the request: a
    # pending organization holds nothing a stranger typed until staff approve one request.
    organization_name = models.CharField("organization name as asked", max_length=255, blank=True)
    acronym = models.CharField("acronym as asked", max_length=50, blank=True)
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported = models.BooleanField(default=False, help_text="Came with an imported final letter.")
    text_hash = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="Why it was declined or rejected.")
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    authorized = models.BooleanField(
        default=False, help_text="The signer stated they may sign for the organization."
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The signer's own link to the signature: confirm it, reconfirm it, withdraw it.
    token_nonce = models.CharField(max_length=32, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["letter", "position", "pk"]
        # One confirmed answer per organization (and per person signing personally): requests
        # through the open link whose address nobody confirmed may wait side by side, so that a
        # stranger's request neither holds the place nor cancels the real one; the first one
        # confirmed goes to review.
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "organization"],
                condition=models.Q(organization__isnull=False) & CONFIRMED_ACTIVE,
                name="one_confirmed_signature_per_organization",
            ),
            models.UniqueConstraint(
                "letter",
                "signer_email_key",
                condition=models.Q(organization__isnull=True)
                & CONFIRMED_ACTIVE
                & ~models.Q(signer_email_key=""),
                name="one_confirmed_signature_per_individual_mailbox",
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="signature_token_hash_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(display_name=""), name="signature_has_display_name"
            ),
        ]
        indexes = [models.Index(fields=["letter", "status", "response"])]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.sort_key:
            self.sort_key = sort_name_for(self.display_name)
        super().save(*args, **kwargs)

    @classmethod
    def can_transition(cls, current: str, target: str) -> bool:
        return target in cls.TRANSITIONS.get(current, set())

    def chain_state(self) -> dict[str, Any]:
        """What an event records of the signature after a change: the line as it prints and who."""
        return {
            "organization": self.organization_id,
            "response": self.response,
            "status": self.status,
            "display_name": self.display_name,
            "group": self.group,
            "signer_name": self.signer_name,
            "signer_title": self.signer_title,
            "signer_email": self.signer_email,
            "affiliation": self.affiliation,
            "organization_name": self.organization_name,
            "acronym": self.acronym,
            "website": self.website,
            "logo": self.logo_id,
            "text_hash": self.text_hash,
            "token_hash": self.token_hash,
        }

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def never_confirmed(self) -> bool:
        """Asked through the open link, and nobody confirmed the address (before a material
        change, or since)."""
        return self.status == self.Status.UNCONFIRMED or (
            self.status == self.Status.NEEDS_RECONFIRMATION
            and self.status_before_reconfirmation == self.Status.UNCONFIRMED
        )

    # A signature held for review waits for staff; one held for its address to be confirmed, or
    # for the changed text to be reconfirmed, waits for its signer while the sign-on takes
    # responses. Once it takes none, the signer can no longer reconfirm: staff settle the
    # signature, approving it (it then prints from the next correction, if the letter is out) or
    # rejecting it. A request whose address was never confirmed stays with its signer, and is
    # never approved. Staff approve what waits for them; they reject that too, and what waits for
    # its signer unless they had approved it before the text changed (its signer withdraws it, or
    # it lapses). Each is a move TRANSITIONS allows (tests/signatories/test_review_queue.py).

    def awaits(self, *, responses_open: bool) -> str:
        """Who the signature waits for: "staff", "signer", or "" when it is on no hold."""
        if self.status == self.Status.PENDING_REVIEW:
            return "staff"
        if self.never_confirmed:
            return "signer"
        if self.status == self.Status.NEEDS_RECONFIRMATION:
            return "signer" if responses_open else "staff"
        return ""

    def staff_may_approve(self, *, responses_open: bool) -> bool:
        return self.awaits(responses_open=responses_open) == "staff" and self.can_transition(
            self.status, self.Status.APPROVED
        )

    def staff_may_reject(self, *, responses_open: bool) -> bool:
        if not self.can_transition(self.status, self.Status.REJECTED):
            return False
        if self.never_confirmed or self.awaits(responses_open=responses_open) == "staff":
            return True
        return (
            self.status == self.Status.NEEDS_RECONFIRMATION
            and self.status_before_reconfirmation != self.Status.APPROVED
        )

    @property
    def is_individual(self) -> bool:
        return self.organization_id is None

    def as_line(self, *, with_signer: bool = False) -> SignatoryLine:
        detail = ""
        if with_signer and not self.is_individual:
            detail = ", ".join(part for part in (self.signer_name, self.signer_title) if part)
        organization = self.organization
        return SignatoryLine(
            text=self.display_name,
            group=self.group,
            detail=detail,
            logo_url=self.logo.file.url if self.logo is not None else "",
            url=reverse("public:organization", args=[organization.slug])
            if organization is not None and organization.public_page
            else "",
        )

    @staticmethod
    def default_individual_line(person: str, title: str, affiliation: str) -> str:
        return ", ".join(part for part in (person, title, affiliation) if part)


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
