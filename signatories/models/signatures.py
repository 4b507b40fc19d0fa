"""An organization's or a person's answer to a sign-on, and the printed list read from them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Membership, sort_name_for
from letters.lines import SignatoryLine
from letters.models import LetterPage

from .sign_ons import Invitation, SignOn, StatusTable


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


class Signature(StatusTable, models.Model):
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
        # A person confirming where the sign-on approves individuals by rule is approved at once.
        Status.UNCONFIRMED: {
            Status.PENDING_REVIEW,
            Status.APPROVED,
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
    # The language version the signer read, by its code, when not the letter's own: the text
    # they agreed to is the letter's (text_hash), read through its translation.
    read_in = models.CharField(max_length=12, blank=True)
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
    # The signer is emailed each time the letter is published or corrected, unless they said not
    # to (on their own page): a preference, not part of the record.
    publication_emails = models.BooleanField(
        "email the signer when the letter is published or corrected", default=True
    )
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
        indexes = [
            models.Index(fields=["letter", "status", "response"]),
            # A person approved by rule is held instead where the same line already stands.
            models.Index(fields=["sign_on", "sort_key"], name="signature_sign_on_sort_key"),
            # The next signature's place (services.next_position) without reading them all.
            models.Index(fields=["letter", "position"], name="signature_letter_position"),
            # The review queue: the few thousand waiting for staff among a hundred thousand.
            models.Index(fields=["status", "sign_on"], name="signature_status_sign_on"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.sort_key:
            self.sort_key = sort_name_for(self.display_name)
        super().save(*args, **kwargs)

    @property
    def read_in_language(self) -> str:
        """The name of the translation the signer read, or "" for the letter as written."""
        from letters.translations import language_name

        return language_name(self.read_in) if self.read_in else ""

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
