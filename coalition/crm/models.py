import re
import unicodedata
import uuid
from typing import Any

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

from coalition.core.addresses import readable_host
from coalition.core.validators import validate_no_bidi_controls

NAME_KEY_LENGTH = 255  # Organization.name_key's max_length

# Letters whose stroke or ligature no Unicode decomposition takes off, folded as people write them
# without it ("Łódź" as "Lodz", "Søren" as "Soren").
LATIN_FOLDS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "\u0131": "i", "æ": "ae"}
    | {"œ": "oe", "þ": "th"}
    # Russian prints "ё" without its dots more often than not.
    | {"ё": "\u0435"}
)
# Arabic vowel signs, shadda and sukun are optional in writing, and the tatweel only stretches a
# line: "اتِّحَاد" and "اتحـاد" are "اتحاد".
ARABIC_OPTIONAL = frozenset(map(chr, range(0x064B, 0x0653))) | {"\u0640"}


def _without_optional_marks(text: str) -> str:
    """Text in NFC without the marks a name may be written with or without.

    Accents are spelling variants in Latin and Greek ("Société" is "Societe", "Ένωση" "Ενωση"), so
    they go. A Cyrillic letter with a mark is a letter of its own ("й" is not "и"), so only stray
    stress marks go. Everywhere else a mark makes another letter (the voiced mark makes "ガ" of
    "カ"; Hindi vowel signs), so it stays.
    """
    kept = []
    after_alphabet = False  # the last letter was Latin, Greek or Cyrillic
    for ch in text:
        if unicodedata.category(ch).startswith("M"):
            if not after_alphabet and ch not in ARABIC_OPTIONAL:
                kept.append(ch)
            continue
        if ch in ARABIC_OPTIONAL:
            continue
        script = unicodedata.name(ch, "").partition(" ")[0]
        after_alphabet = script in ("LATIN", "GREEK", "CYRILLIC")
        if script in ("LATIN", "GREEK"):
            ch = unicodedata.normalize("NFD", ch)[0]
        kept.append(ch)
    return "".join(kept)


def name_words(text: str) -> list[str]:
    """Runs of letters, marks and digits; digits of every script as 0-9 ("٢٠٢٤" is "2024")."""
    words, word = [], []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            word.append(str(unicodedata.decimal(ch)))
        elif category[0] in "LMN":
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def name_key(value: str) -> str:
    """The form of a name that duplicates share, in its own script.

    No case (Unicode case folding), accents on Latin and Greek letters, punctuation, spacing or
    leading "The"; "&" is "and"; compatibility forms are one (NFKC: full-width Latin letters are
    plain ones, half-width "ｶﾞ" is "ガ"). Empty only for a name without a letter or digit.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    text = _without_optional_marks(text.translate(LATIN_FOLDS).replace("&", " and "))
    words = name_words(text)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    # "&" and compatibility forms ("㍿" is "株式会社") lengthen a name: cut to the column's length.
    return "".join(words)[:NAME_KEY_LENGTH]


def website_key(value: str) -> str:
    """A website reduced to its host and path, for spotting duplicates.

    An internationalized host is one site however it is written: "https://bücher.example" and
    "http://www.xn--bcher-kva.example/" match.
    """
    text = unicodedata.normalize("NFKC", value.strip()).casefold()
    text = re.sub(r"^[a-z]+://", "", text)
    text = re.sub(r"^www\.", "", text)
    host, slash, path = text.partition("/")
    return (readable_host(host) + slash + path).rstrip("/")


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

    name = models.CharField(max_length=255, validators=[validate_no_bidi_controls])
    acronym = models.CharField(max_length=50, blank=True, validators=[validate_no_bidi_controls])
    display = models.CharField(
        max_length=255,
        blank=True,
        help_text='How it prints on letters, when not "Name (ACRONYM)".',
        validators=[validate_no_bidi_controls],
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

    def derive_name_columns(self) -> None:
        """The columns kept in step with the name, so that lookups and ordering stay indexable:
        its key, and its sort name unless one was given. Every write of a name goes through here,
        one row or thousands (coalition.crm.services.create_organizations)."""
        self.name_key = name_key(self.name)
        if not self.sort_name:
            self.sort_name = sort_name_for(self.name)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_name_columns()
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
    name = models.CharField(max_length=255, validators=[validate_no_bidi_controls])
    email = models.EmailField(max_length=254)
    title = models.CharField(max_length=255, blank=True, validators=[validate_no_bidi_controls])
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


# letters.LetterPage, which names a coalition, is a Wagtail page and has no types: the plugin cannot
# resolve the reverse manager it adds here.
class Coalition(models.Model):  # type: ignore[django-manager-missing]
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
    TIER_RANK: dict[str, int] = {Tier.LEAD: 0, Tier.STEERING: 1, Tier.MEMBER: 2, Tier.OBSERVER: 3}

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


class ProfileProposal(models.Model):
    """A change to an organization's profile proposed by one of its contacts in the member portal.

    Nothing of it prints until staff approve it: the organization's name and logo go onto letters,
    and a contact is trusted to speak for their organization only as far as staff confirm.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: set(),
        Status.REJECTED: set(),
    }
    # The profile fields a contact may propose changes to, besides the logo, as the portal names them.
    FIELDS = {"name": "Name", "acronym": "Acronym", "display": "Printed as", "website": "Website"}

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="profile_proposals"
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="profile_proposals",
    )
    # Who proposed it, in words that outlive the contact row: "Jane Doe <jane@example.org>".
    proposed_by = models.CharField(max_length=500)
    changes = models.JSONField(
        default=dict, blank=True, help_text="The fields proposed, with their new values."
    )
    previous = models.JSONField(
        default=dict, blank=True, help_text="Those fields' values when the change was proposed."
    )
    logo = models.ImageField(
        upload_to="logos/proposed/",
        blank=True,
        help_text="A new logo, written afresh from the upload; it becomes an image on approval.",
    )
    message = models.TextField(blank=True, help_text="What the contact told staff about it.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, help_text="Staff's note to the contact.")
    # When the contact was emailed the decision (the outbox sends it once).
    decision_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Profile change for {self.organization.name} ({self.get_status_display()})"

    @classmethod
    def can_transition(cls, current: str, target: str) -> bool:
        return target in cls.TRANSITIONS.get(current, set())

    def changed_fields(self) -> list[tuple[str, str, str]]:
        """(label, value before, value proposed) for each field proposed, in the form's order."""
        return [
            (label, str(self.previous.get(name, "")), str(self.changes[name]))
            for name, label in self.FIELDS.items()
            if name in self.changes
        ]


class DistinctOrganizations(models.Model):
    """Two organizations that staff looked at as likely duplicates and found to be different.

    The pair is stored with the lower id first; the "Likely duplicates" page no longer offers it.
    """

    first = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "distinct organizations"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="distinct_pair_once"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="distinct_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} and {self.second_id} are different organizations"
