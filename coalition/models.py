import re
import unicodedata
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.search import index


def name_key(value: str) -> str:
    """The form of a name that duplicates share: no case, accents, punctuation, spacing or leading "The"."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^the ", "", text)
    return text.replace(" ", "")


def website_key(value: str) -> str:
    """A website reduced to its host and path, for spotting duplicates."""
    text = value.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text)
    text = re.sub(r"^www\.", "", text)
    return text.rstrip("/")


def _slug_base(text: str) -> str:
    return slugify(text, allow_unicode=True)[:240] or "organization"


def _numbered(base: str, used: set[str]) -> str:
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    return slug


def unique_organization_slug(text: str, *, exclude_pk: int | None = None) -> str:
    """A slug for an organization's public page, in its own script, numbered if taken."""
    base = _slug_base(text)
    taken = Organization.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return _numbered(base, set(taken.values_list("slug", flat=True)))


def assign_slugs(organizations: "list[Organization]") -> None:
    """Slugs for organizations about to be bulk-created, which skips save(): one query."""
    used = set(Organization.objects.values_list("slug", flat=True))
    for organization in organizations:
        if not organization.slug:
            organization.slug = _numbered(
                _slug_base(organization.acronym or organization.name), used
            )
            used.add(organization.slug)


def sort_name_for(name: str) -> str:
    """Alphabetical order ignores a leading "The"."""
    return re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)


class OrganizationTag(TaggedItemBase):
    content_object = ParentalKey(
        "coalition.Organization", on_delete=models.CASCADE, related_name="tagged_items"
    )


class Organization(index.Indexed, ClusterableModel):
    class Kind(models.TextChoices):
        TRADE_ASSOCIATION = "trade_association", "Trade association"
        COMPANY = "company", "Company"
        NGO = "ngo", "NGO"
        UNION = "union", "Union"
        ACADEMIC = "academic", "Academic"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        # Asked to sign through an open link: no member, and outside listings and counts,
        # until staff approve it.
        PENDING = "pending", "Pending approval"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=255)
    acronym = models.CharField(max_length=50, blank=True)
    display = models.CharField(
        max_length=255,
        blank=True,
        help_text='How it prints on letters, when not "Name (ACRONYM)".',
    )
    sort_name = models.CharField(
        max_length=255,
        blank=True,
        help_text='Alphabetical order; blank means the name without "The".',
    )
    name_key = models.CharField(max_length=255, unique=True, editable=False)
    slug = models.SlugField(
        max_length=255,
        unique=True,
        allow_unicode=True,
        editable=False,
        help_text="Its public page's address, /organizations/<slug>/.",
    )
    public_page = models.BooleanField(
        "public page",
        default=True,
        help_text="Listed with a page of the letters it signed, linked from signatory lists.",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.TRADE_ASSOCIATION)
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True)
    tags = ClusterTaggableManager(through=OrganizationTag, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_organizations",
        help_text="Kept after a merge, for the history that refers to it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("acronym"),
        index.AutocompleteField("acronym"),
        index.FilterField("kind"),
        index.FilterField("status"),
        index.FilterField("country"),
    ]

    class Meta:
        ordering = ["sort_name", "name"]
        permissions = [
            ("import_organizations", "Can import organizations"),
            ("merge_organizations", "Can merge organizations"),
        ]
        indexes = [
            models.Index(fields=["sort_name"]),
            models.Index(Lower("acronym"), name="org_acronym_lower"),
        ]

    def __str__(self) -> str:
        return self.printed_name

    def save(self, *args, **kwargs) -> None:
        # Derived columns, kept in step with the name so that lookups and ordering stay indexable.
        self.name_key = name_key(self.name)
        if not self.sort_name:
            self.sort_name = sort_name_for(self.name)
        if not self.slug:
            # Set once: the public page keeps its address when the name is corrected.
            self.slug = unique_organization_slug(self.acronym or self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    @property
    def printed_name(self) -> str:
        """How the organization prints on a letter."""
        if self.display:
            return self.display
        if self.acronym:
            return f"{self.name} ({self.acronym})"
        return self.name


class Contact(index.Indexed, models.Model):
    # A ParentalKey so that the organization editor can edit its contacts inline.
    organization = ParentalKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=255)
    email = models.EmailField(max_length=254)
    title = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    is_authorized_signer = models.BooleanField(
        "authorized signer", default=False, help_text="May sign letters for the organization."
    )
    is_primary = models.BooleanField("primary contact", default=False)
    email_opt_out = models.BooleanField("opted out of email", default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("email"),
        index.FilterField("organization_id"),
    ]

    class Meta:
        ordering = ["name"]
        permissions = [("export_contacts", "Can export contact details")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="contact_email_unique_ci",
                violation_error_message="A contact with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Coalition(models.Model):
    name = models.CharField(max_length=255, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Tier(models.TextChoices):
        LEAD = "lead", "Lead"
        STEERING = "steering", "Steering"
        MEMBER = "member", "Member"
        OBSERVER = "observer", "Observer"

    # Tier order for "by tier, then alphabetical" signatory lists.
    TIER_RANK = {Tier.LEAD: 0, Tier.STEERING: 1, Tier.MEMBER: 2, Tier.OBSERVER: 3}

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="memberships")
    organization = ParentalKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.MEMBER)
    joined_on = models.DateField(default=timezone.localdate)
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["coalition__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "organization"],
                condition=models.Q(left_on__isnull=True),
                name="one_active_membership_per_coalition",
                violation_error_message="The organization already has an active membership of this coalition.",
            ),
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True)
                | models.Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
                violation_error_message="The date left cannot be before the date joined.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.coalition} ({self.get_tier_display()})"


class Interaction(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        NOTE = "note", "Note"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    occurred_on = models.DateField(default=timezone.localdate)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_on", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.organization} on {self.occurred_on}"


class ImportUpload(models.Model):
    """A members file between its dry run and its import.

    Kept in the database, where every app server finds it and nothing serves it (media is served
    to anyone with the name); deleted by the import, or after a day (delete_stale_imports).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.name}, uploaded {self.created_at:%Y-%m-%d %H:%M}"
