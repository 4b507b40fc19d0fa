import datetime
import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from wagtail.admin.panels import FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page, PagePermissionTester
from wagtail.search import index

from . import publishing, signatory_list, translations
from .blocks import LetterBodyBlock
from .lines import SignatoryLine, group_lines, placeholder_lines, signatory_columns

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

# A footnote's own marker: asterisks or daggers, a number or letter with a point or bracket, or
# superscript digits; then the text.
FOOTNOTE_MARKER = re.compile(
    r"^(?:(?:[*†‡§¶]+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*\S|(?:\(?\d{1,3}[.)]|\[\d{1,3}\]|[a-z][.)])\s+\S)"
)


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
    footer = models.CharField(
        max_length=255, blank=True, help_text="Printed at the foot of each page."
    )
    paper_size = models.CharField(
        max_length=10, choices=PaperSize.choices, default=PaperSize.LETTER
    )
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

    @property
    def logo_url(self) -> str:
        """A PNG rendition of the logo small enough for a letterhead, or "" without one."""
        if self.logo is None:
            return ""
        return self.logo.get_rendition("height-160|format-png").url


class LetterIndexPage(Page):
    intro = models.TextField(blank=True)

    content_panels = [*Page.content_panels, "intro"]
    subpage_types = ["letters.LetterPage"]
    max_count_per_parent = 1
    letters_per_page = 20

    class Meta:
        verbose_name = "letter archive"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from .archive import find_letters  # which reads the models of this module

        context: dict[str, Any] = super().get_context(request, *args, **kwargs)
        context["archive"] = find_letters(
            self,
            request.GET,
            letterhead=Letterhead.for_request(request),
            per_page=self.letters_per_page,
        )
        return context


class LetterPermissionTester(PagePermissionTester):
    """Wagtail's own Publish (editor, bulk actions, the API) is offered only for letters that the
    publication gate lets through; the others are published from their sign-on."""

    @cached_property
    def refusal(self) -> publishing.Refusal | None:
        return publishing.refusal(self.page)

    def can_publish(self) -> bool:
        return super().can_publish() and self.refusal is None


def lines_field_validator(value: str) -> None:
    if any(len(line) > 500 for line in value.splitlines()):
        raise ValidationError("Each line must be at most 500 characters.")


class LetterPage(translations.TranslatedLetter, RoutablePageMixin, Page):
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
        blank=True,
        help_text="The addressee block, one line each.",
        validators=[lines_field_validator],
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
    # A translation (made by Wagtail's "Translate"): the revision of the letter it translates.
    # Blank: the page is a letter of its own (letters.translations).
    translates_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
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
    search_fields = [
        *Page.search_fields,
        index.SearchField("body"),
        index.SearchField("recipients"),
        # Who signed, as the current version prints them (names, acronyms, individuals with their
        # affiliations), weighed like the title.
        index.SearchField("signatory_search_text", boost=2),
        # The archive orders its search results by date (letters/archive.py).
        index.FilterField("letter_date"),
    ]
    parent_page_types = ["letters.LetterIndexPage"]
    subpage_types: list[str] = []
    # Wagtail's plain "Copy" makes a letter of its own; its "Translate" pins the copy again.
    exclude_fields_in_copy = ["translates_revision"]

    class Meta:
        verbose_name = "letter"
        permissions = [("publish_letter", "Can publish letters and their corrections")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every door of Wagtail's (editor, schedule, bulk, API) publishes by saving the page with
        # a new live revision: the one place a letter out for sign-on can be held back.
        if self.pk and self.live and self.live_revision_id:
            stored = (
                LetterPage.objects.filter(pk=self.pk)
                .values_list("live_revision_id", flat=True)
                .first()
            )
            if stored != self.live_revision_id:
                found = publishing.refusal(self)
                if found is not None:
                    raise publishing.PublicationRefused(found)
        super().save(*args, **kwargs)

    def permissions_for_user(
        self, user: "AbstractBaseUser | AnonymousUser"
    ) -> PagePermissionTester:
        return LetterPermissionTester(user, self)

    @property
    def recipient_lines(self) -> list[str]:
        return [line for line in self.recipients.splitlines() if line.strip()]

    @property
    def cc_lines(self) -> list[str]:
        return [line for line in self.cc.splitlines() if line.strip()]

    @property
    def footnote_lines(self) -> list[str]:
        return [line for line in self.footnotes.splitlines() if line.strip()]

    @property
    def footnotes_marked(self) -> bool:
        """Whether every footnote begins with its own marker (“*”, “†”, “1.”, “[2]”, “³”), which
        the letter's text refers to: then they print as typed, not numbered a second time."""
        lines = self.footnote_lines
        return bool(lines) and all(FOOTNOTE_MARKER.match(line.strip()) for line in lines)

    def printed_date(self, letterhead: Letterhead) -> str:
        if self.dateline:
            return self.dateline
        if self.letter_date:
            return letterhead.format_date(self.letter_date)
        return ""

    @cached_property
    def publication(self) -> "Publication | None":
        """The latest published version of this letter, if it has one."""
        if self.pk is None:
            return None
        return self.publications.order_by("-version").first()

    def latest_of_versions_read(self) -> "Publication | None":
        """The latest version among those read with the letter (prefetched by a listing), or None."""
        return max(self.publications.all(), key=lambda p: p.version, default=None)

    def signatory_search_text(self) -> str:
        """The signatories of the current version as words to search: each printed line and its
        detail (a signer's title, an individual's affiliation); nothing before publication."""
        latest = self.latest_of_versions_read()
        if latest is None:
            return ""
        return "\n".join(
            " ".join(part for part in (line.text, line.detail) if part) for line in latest.lines()
        )

    def signatory_lines(self) -> list[SignatoryLine]:
        """The signatories as printed, in the order the letter sets: frozen once published; until
        then, those the app that gathers signatures has so far (the LETTER_SIGNATORY_LINES
        setting names its function), or none."""
        if self.pk is None:
            return []
        if self.translation_source is not None:
            # One list in every language: the letter's.
            return self.translation_source.signatory_lines()
        if self.publication is not None:
            return self.publication.lines()
        gathered = getattr(settings, "LETTER_SIGNATORY_LINES", "")
        if not gathered:
            return []
        lines: list[SignatoryLine] = import_string(gathered)(self)
        return lines

    @cached_property
    def letterhead(self) -> Letterhead:
        return Letterhead.for_site((self.translation_source or self).get_site())

    def letter_context(
        self,
        lines: list[SignatoryLine],
        *,
        placeholders: bool = False,
        shown: list[SignatoryLine] | None = None,
    ) -> dict[str, Any]:
        """Everything the HTML and PDF templates need to print the letter.

        With placeholders=True and no lines, stand-in signatories show where the real ones will
        print (previews of a letter nobody has signed yet). `shown`: the part of a long list the
        web page shows (letters.signatory_list); the count is still of all of them.
        """
        letterhead = self.letterhead
        placeholder = placeholders and not lines
        if placeholder:
            lines = placeholder_lines(
                with_signer=self.signatory_style == self.SignatoryStyle.SIGNERS
            )
        grouped = group_lines(lines if shown is None else shown)
        return {
            "letter": self,
            "letterhead": letterhead,
            "letterhead_logo_url": letterhead.logo_url,
            "printed_date": self.printed_date(letterhead),
            "signatory_groups": grouped,
            "signatory_count": len(lines),
            "signatory_columns": signatory_columns(lines if shown is None else shown),
            "has_group_headings": self.group_signatories and any(g.heading for g in grouped),
            "placeholder_signatories": placeholder,
            "language": self.language_code,
            "direction": translations.direction(self.language_code),
            # The letterhead is the coalition's, in the site's language whatever the letter's:
            # its address reads as written in a letter set right to left.
            "letterhead_language": translations.SITE_LANGUAGE,
            "letterhead_direction": translations.direction(translations.SITE_LANGUAGE),
            "author": self.author_name,
        }

    @property
    def language_code(self) -> str:
        """The language the letter is written in, for <html lang> and the PDF's /Lang."""
        locale = self.locale if self.locale_id else None
        return (locale.language_code if locale else settings.LANGUAGE_CODE) or "en"

    @property
    def author_name(self) -> str:
        """Who the letter is from, for the PDF's author field."""
        if self.letterhead.coalition_name:
            return self.letterhead.coalition_name
        if self.coalition is not None:
            return self.coalition.name
        return str(settings.WAGTAIL_SITE_NAME)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request, *args, **kwargs)
        # The same letterhead the site's templates read, cached on the request: one query, not two.
        self.__dict__["letterhead"] = Letterhead.for_request(request)
        preview = getattr(request, "is_preview", False)
        source = self.translation_source
        # The letter whose versions, PDFs and record every language's page shows.
        record = source or self
        context["record_page"] = record
        context["record_language"] = translations.language_name(record.language_code)
        if not preview and self.pk is not None:
            context.update(record.publication_context(request))
            if source is not None:
                context["canonical_url"] = request.build_absolute_uri(self.url)
                context["summary"] = self.summary()
                context["changes_since_translated"] = translations.changes_since(self, source)
            context["languages"] = translations.languages_of(record, current=self)
        lines = self.signatory_lines()
        # A long list shows a page at a time, with its search; a preview shows its first page.
        listing = signatory_list.letter_list_page(self, request, lines)
        context["signatory_listing"] = listing
        shown = listing.lines if listing is not None else None
        context.update(self.letter_context(lines, placeholders=preview, shown=shown))
        return context

    def summary(self) -> str:
        """A sentence or two of what the letter says: its search description, or its opening."""
        from .archive import excerpt

        return self.search_description or excerpt(self.body.raw_data)

    def publication_context(self, request: HttpRequest) -> dict[str, Any]:
        """Its versions and dates as the public page shows them, and what it tells other sites."""
        from .public_page import publication_context

        return publication_context(self, request)

    preview_modes = [("", "Web page"), ("pdf", "PDF")]

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        """The letter as it will read, from the content being edited: as a web page or as the PDF."""
        if mode_name == "pdf":
            from .pdf import render_letter_pdf

            pdf = render_letter_pdf(self, self.signatory_lines(), placeholders=True)
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = (
                f'inline; filename="{self.slug or "letter"}-preview.pdf"'
            )
            return response
        return super().serve_preview(request, mode_name)

    @path("pdf/")
    def pdf(self, request: HttpRequest) -> HttpResponseBase:
        """The latest version's PDF; readers' caches ask again, since a correction may follow."""
        if not self.live:
            raise Http404
        return self._serve_pdf(request, self.publication, versioned=False)

    @path("pdf/v<int:version>/")
    def pdf_version(self, request: HttpRequest, version: int) -> HttpResponseBase:
        """One version's PDF, forever the same bytes as the hash the page showed for it."""
        if not self.live:
            raise Http404
        publication = self.publications.filter(version=version).first()
        if publication is None:
            raise Http404("No such version of this letter.")
        return self._serve_pdf(request, publication, versioned=True)

    def _serve_pdf(
        self, request: HttpRequest, publication: "Publication | None", *, versioned: bool
    ) -> HttpResponseBase:
        from .caching import serve_stored_file
        from .pdf import stored_letter_pdf

        if publication is None and self.translation_source is not None:
            return translations.serve_translation_pdf(request, self)
        if publication is None:
            # Made live outside the publication service (only code can): rendered and kept.
            return HttpResponse(
                stored_letter_pdf(self, self.signatory_lines()), content_type="application/pdf"
            )
        if not publication.pdf:
            # Being rendered by the worker: a PDF rendered here would not be the one whose hash
            # the page will show.
            from .public_page import pdf_being_prepared

            return pdf_being_prepared(request, self, publication)
        return serve_stored_file(
            request,
            name=str(publication.pdf.name),
            etag=f'"{publication.pdf_sha256}"',
            content_type="application/pdf",
            filename=f"{self.slug}-v{publication.version}.pdf",
            immutable=versioned,
        )


class Publication(models.Model):
    """One published version of a letter: the text, the frozen signatory list, the PDF.

    Version 1 is the publication; each later version is a dated correction (a late signature, a
    withdrawal, a typo), published beside the earlier ones. No version is ever rewritten, except
    to attach its PDF once the background job has rendered it (letters.versions makes them all).
    """

    letter = models.ForeignKey(LetterPage, on_delete=models.PROTECT, related_name="publications")
    version = models.PositiveIntegerField(default=1)
    # The version the letter shows now; set by the one service that publishes versions.
    is_current = models.BooleanField(default=True)
    note = models.TextField(blank=True, help_text="What a correction corrects, as it prints.")
    # What changed from the version before: {"added": [lines], "removed": [lines], "text": bool}.
    changes = models.JSONField(default=dict, blank=True)
    # The organizations its list prints, frozen with it: the archive's filter and the
    # organizations' pages read who signed from here, as the page and the PDF print it.
    organizations = models.ManyToManyField(
        "coalition.Organization",
        blank=True,
        related_name="publications",
    )
    revision = models.ForeignKey("wagtailcore.Revision", on_delete=models.PROTECT, related_name="+")
    signatories = models.JSONField(
        default=list, help_text="The printed signatory lines, frozen at publication."
    )
    pdf = models.FileField(upload_to="letters/published/", blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField("PDF size in bytes", default=0)
    # Whose signature the PDF carries, as its certificate's subject reads; blank: unsigned
    # (no certificate was set when it was rendered: letters.signing).
    pdf_signer = models.CharField("PDF signed by", max_length=500, blank=True)
    # The record the list came from, as it stood at publication: the head of the sign-on's event
    # chain (printed on the page and in the PDF's metadata, so that a later rewrite of the chain
    # no longer ends at it) and when the letter was circulated and the sign-on closed.
    chain_head = models.CharField(max_length=64, blank=True)
    chain_length = models.PositiveIntegerField(default=0)
    circulated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        get_latest_by = "version"
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "version"], name="one_publication_per_version"
            ),
            models.UniqueConstraint(
                fields=["letter"],
                condition=models.Q(is_current=True),
                name="one_current_publication_per_letter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter.title}, version {self.version} of {self.published_at:%Y-%m-%d}"

    @property
    def is_correction(self) -> bool:
        return self.version > 1

    def lines(self) -> list[SignatoryLine]:
        # Parsed once per process: a version's list is never rewritten.
        return list(signatory_list.frozen_list(self).lines)


class PublicationHold(models.Model):
    """Why Wagtail's own doors may not publish a letter now, and where it is published instead.

    The app that holds a letter back writes it (the sign-on app: while a sign-on runs, and once a
    letter is published, so that a change goes out as a dated correction); `LetterPage.save` and
    the editor read it (letters.publishing). No row: Wagtail's doors may publish the letter.
    """

    letter = models.OneToOneField(
        LetterPage, on_delete=models.CASCADE, primary_key=True, related_name="publication_hold"
    )
    message = models.TextField()
    # Where the letter is published instead: a URL name and its arguments, reversed when shown.
    url_name = models.CharField(max_length=100, blank=True)
    url_args = models.JSONField(default=list, blank=True)
    label = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.message}"


class CirculationApproval(models.Model):
    """A revision of a letter that internal review approved for circulation to members.

    Approval publishes nothing: the sign-on circulates an approved revision.
    """

    revision = models.OneToOneField(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="circulation_approval"
    )
    letter = models.ForeignKey(
        LetterPage, on_delete=models.CASCADE, related_name="circulation_approvals"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.letter} revision {self.revision_id}, approved {self.approved_at:%Y-%m-%d}"


# Defined apart, as the Word import's own records; registered as this app's models from here.
from .word_jobs import RecognizedMembers, WordImportJob  # noqa: E402

__all__ = [
    "CirculationApproval",
    "LetterIndexPage",
    "LetterPage",
    "Letterhead",
    "Publication",
    "PublicationHold",
    "RecognizedMembers",
    "WordImportJob",
]
