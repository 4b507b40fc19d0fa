from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from coalition.models import Membership, sort_name_for
from letters.models import LetterPage, SignatoryLine


class SignatureQuerySet(models.QuerySet):
    def printable(self) -> "SignatureQuerySet":
        """Signatures that print on the letter: approved, signed, not withdrawn."""
        return self.filter(status=Signature.Status.APPROVED, response=Signature.Response.SIGNED)

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
            last = len(Membership.TIER_RANK)
            signatures.sort(
                key=lambda s: (Membership.TIER_RANK.get(getattr(s, "tier", None), last), s.sort_key.casefold())
            )
        if letter.group_signatories:
            # Groups print in the order in which they first appear; a stable sort keeps the rest.
            first_seen: dict[str, int] = {}
            for signature in sorted(signatures, key=lambda s: (s.position, s.pk)):
                first_seen.setdefault(signature.group, len(first_seen))
            signatures.sort(key=lambda s: first_seen[s.group])
        return signatures


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
    # Individuals signing in a personal capacity have no organization.
    affiliation = models.CharField(max_length=300, blank=True)
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

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["letter", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "organization"],
                condition=models.Q(
                    organization__isnull=False,
                    status__in=[
                        "unconfirmed",
                        "pending_review",
                        "approved",
                        "needs_reconfirmation",
                    ],
                ),
                name="one_active_signature_per_organization",
            ),
            models.UniqueConstraint(
                "letter",
                Lower("signer_email"),
                condition=models.Q(
                    organization__isnull=True,
                    status__in=[
                        "unconfirmed",
                        "pending_review",
                        "approved",
                        "needs_reconfirmation",
                    ],
                )
                & ~models.Q(signer_email=""),
                name="one_active_signature_per_individual",
            ),
            models.CheckConstraint(
                condition=~models.Q(display_name=""), name="signature_has_display_name"
            ),
        ]
        indexes = [models.Index(fields=["letter", "status", "response"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_individual(self) -> bool:
        return self.organization_id is None

    def as_line(self, *, with_signer: bool = False) -> SignatoryLine:
        detail = ""
        if with_signer and not self.is_individual:
            detail = ", ".join(part for part in (self.signer_name, self.signer_title) if part)
        return SignatoryLine(
            text=self.display_name,
            group=self.group,
            detail=detail,
            logo_url=self.logo.file.url if self.logo_id else "",
        )

    @staticmethod
    def default_individual_line(person: str, title: str, affiliation: str) -> str:
        return ", ".join(part for part in (person, title, affiliation) if part)

    def save(self, *args, **kwargs) -> None:
        if not self.sort_key:
            self.sort_key = sort_name_for(self.display_name)
        super().save(*args, **kwargs)
