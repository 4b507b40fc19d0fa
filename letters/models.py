import datetime
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import cached_property
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import LetterBodyBlock


@dataclass(frozen=True)
class SignatoryLine:
    """One printed line of a signatory list, as handed to the letter templates."""

    text: str
    group: str = ""
    detail: str = ""
    logo_url: str = ""


@dataclass(frozen=True)
class SignatoryGroup:
    heading: str
    lines: list[SignatoryLine]


def group_lines(lines: list[SignatoryLine]) -> list[SignatoryGroup]:
    """Consecutive lines under the same heading form one section, in order."""
    groups: list[SignatoryGroup] = []
    for line in lines:
        if not groups or groups[-1].heading != line.group:
            groups.append(SignatoryGroup(heading=line.group, lines=[]))
        groups[-1].lines.append(line)
    return groups


@register_setting(icon="doc-full")
class Letterhead(BaseSiteSetting):
    class PaperSize(models.TextChoices):
        LETTER = "Letter", "US Letter"
        A4 = "A4", "A4"

    class DateFormat(models.TextChoices):
        US = "us", "March 12, 2025"
        INTERNATIONAL = "international", "12 March 2025"

    coalition_name = models.CharField(max_length=255, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.TextField(blank=True, help_text="Printed under the name, one line each.")
    footer = models.CharField(max_length=255, blank=True, help_text="Printed at the foot of each page.")
    paper_size = models.CharField(max_length=10, choices=PaperSize.choices, default=PaperSize.LETTER)
    date_format = models.CharField(max_length=20, choices=DateFormat.choices, default=DateFormat.US)

    panels = ["coalition_name", "logo", "address", "footer", "paper_size", "date_format"]

    class Meta:
        verbose_name = "letterhead"

    def format_date(self, value: datetime.date) -> str:
        if self.date_format == self.DateFormat.INTERNATIONAL:
            return f"{value.day} {value:%B} {value.year}"
        return f"{value:%B} {value.day}, {value.year}"

    @property
    def address_lines(self) -> list[str]:
        return [line for line in self.address.splitlines() if line.strip()]

    def fingerprint(self) -> str:
        """Changes whenever anything that prints on the letterhead changes."""
        return f"{self.pk}:{self.coalition_name}:{self.logo_id}:{self.address}:{self.footer}:{self.paper_size}:{self.date_format}"


class LetterIndexPage(Page):
    intro = models.TextField(blank=True)

    content_panels = [*Page.content_panels, "intro"]
    subpage_types = ["letters.LetterPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "letter archive"

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        context = super().get_context(request, *args, **kwargs)
        context["letters"] = (
            LetterPage.objects.live().public().child_of(self).order_by("-letter_date", "-first_published_at")
        )
        return context


def lines_field_validator(value: str) -> None:
    if any(len(line) > 500 for line in value.splitlines()):
        raise ValidationError("Each line must be at most 500 characters.")


class LetterPage(RoutablePageMixin, Page):
    class SignatoryOrder(models.TextChoices):
        ALPHABETICAL = "alphabetical", "Alphabetical by sort name"
        AS_ENTERED = "as_entered", "As entered"
        BY_TIER = "by_tier", "By membership tier, then alphabetical"

    class SignatoryStyle(models.TextChoices):
        ORGANIZATIONS = "organizations", "Organizations only"
        SIGNERS = "signers", "Signer and title with the organization"

    coalition = models.ForeignKey(
        "coalition.Coalition",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="letters",
        help_text="The coalition that owns this letter and whose members are invited.",
    )
    letter_date = models.DateField("date", null=True, blank=True)
    dateline = models.CharField(
        max_length=255,
        blank=True,
        help_text="The date line exactly as printed, when not the plain date (e.g. 'Brussels, 12 March 2025').",
    )
    recipients = models.TextField(
        blank=True, help_text="The addressee block, one line each.", validators=[lines_field_validator]
    )
    salutation = models.CharField(max_length=255, blank=True)
    body = StreamField(LetterBodyBlock())
    closing = models.CharField(max_length=255, blank=True, help_text="E.g. 'Sincerely,'.")
    cc = models.TextField("cc", blank=True, help_text="Lines of the cc: block, one each.")
    footnotes = models.TextField(blank=True, help_text="Endnotes, one per line, printed in order.")
    signatory_order = models.CharField(
        max_length=20, choices=SignatoryOrder.choices, default=SignatoryOrder.ALPHABETICAL
    )
    signatory_style = models.CharField(
        max_length=20, choices=SignatoryStyle.choices, default=SignatoryStyle.ORGANIZATIONS
    )
    show_logos = models.BooleanField(default=False)
    group_signatories = models.BooleanField(
        default=True, help_text="Print signatories under their group headings, when they have any."
    )
    accepts_individuals = models.BooleanField(
        default=False, help_text="Individuals may sign in a personal capacity."
    )

    content_panels = [
        *Page.content_panels,
        "coalition",
        MultiFieldPanel(
            [FieldRowPanel(["letter_date", "dateline"]), "recipients", "salutation"],
            heading="Heading",
        ),
        "body",
        "closing",
        MultiFieldPanel(["cc", "footnotes"], heading="After the signatures"),
        MultiFieldPanel(
            [
                FieldRowPanel(["signatory_order", "signatory_style"]),
                FieldRowPanel(["show_logos", "group_signatories", "accepts_individuals"]),
            ],
            heading="Signatories",
        ),
    ]
    search_fields = [*Page.search_fields, index.SearchField("body"), index.SearchField("recipients")]
    parent_page_types = ["letters.LetterIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "letter"

    @property
    def recipient_lines(self) -> list[str]:
        return [line for line in self.recipients.splitlines() if line.strip()]

    @property
    def cc_lines(self) -> list[str]:
        return [line for line in self.cc.splitlines() if line.strip()]

    @property
    def footnote_lines(self) -> list[str]:
        return [line for line in self.footnotes.splitlines() if line.strip()]

    def printed_date(self, letterhead: Letterhead) -> str:
        if self.dateline:
            return self.dateline
        if self.letter_date:
            return letterhead.format_date(self.letter_date)
        return ""

    def signatory_lines(self) -> list[SignatoryLine]:
        """The approved signatories as printed, in the order the letter sets."""
        if self.pk is None:
            return []
        # Signatures live in the sign-on app, which depends on this one; walk the reverse relation.
        return self.signatures.printable_lines(self)

    @cached_property
    def letterhead(self) -> Letterhead:
        return Letterhead.for_site(self.get_site())

    def letter_context(self, lines: list[SignatoryLine]) -> dict:
        """Everything the HTML and PDF templates need to print the letter."""
        letterhead = self.letterhead
        grouped = group_lines(lines)
        return {
            "letter": self,
            "letterhead": letterhead,
            "printed_date": self.printed_date(letterhead),
            "signatory_groups": grouped,
            "signatory_count": len(lines),
            "has_group_headings": self.group_signatories and any(g.heading for g in grouped),
        }

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        context = super().get_context(request, *args, **kwargs)
        context.update(self.letter_context(self.signatory_lines()))
        return context

    def pdf_key(self, lines: list[SignatoryLine]) -> str:
        """Identifies one rendering: the revision, the signatory list and the letterhead."""
        payload = json.dumps(
            [
                self.latest_revision_id,
                self.live_revision_id,
                self.letterhead.fingerprint(),
                [(line.text, line.group, line.detail, line.logo_url) for line in lines],
            ]
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @path("pdf/")
    def pdf(self, request: HttpRequest) -> HttpResponse:
        from .pdf import stored_letter_pdf

        if not self.live:
            raise Http404
        pdf_file = stored_letter_pdf(self, self.signatory_lines())
        response = HttpResponse(pdf_file, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{self.slug}.pdf"'
        return response


class CirculationApproval(models.Model):
    """A revision of a letter that internal review approved for circulation to members.

    Approval publishes nothing: the sign-on circulates an approved revision.
    """

    revision = models.OneToOneField(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="circulation_approval"
    )
    letter = models.ForeignKey(LetterPage, on_delete=models.CASCADE, related_name="circulation_approvals")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.letter} revision {self.revision_id}, approved {self.approved_at:%Y-%m-%d}"
