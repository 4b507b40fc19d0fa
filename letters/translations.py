"""A letter in other languages: Wagtail's locales, with its simple translation.

Staff translate a letter with Wagtail's own "Translate" (wagtail.contrib.simple_translation): it
copies the page into the other locale, under the archive's copy there, which is made as an alias
when the locale is added. Each translation is pinned to the revision of the letter it translates
(`LetterPage.translates_revision`) and reads as outdated once the letter's text has changed since.

A translation has no sign-on and no versions of its own: it prints the one list of its letter and
is served under the letter's address, at in/<language>/, so that every language shares one page
of record (the versions, the hashes, the record) and one count.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.tasks import task
from django.utils.functional import cached_property
from django.utils.translation import get_language_info
from wagtail.models import Locale, Revision

from .text_diff import ChangedParagraph, diff_paragraphs, revision_paragraphs

if TYPE_CHECKING:
    from .models import LetterPage

# The language of the site's own words (its letterhead): the letters' own, before translation.
SITE_LANGUAGE = settings.CONTENT_LANGUAGES[0] if settings.CONTENT_LANGUAGES else "en"

# How long the comparison of two revisions is kept: both are immutable, so only memory bounds it.
COMPARED_FOR = 24 * 60 * 60


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in its own language ("Français"), as a reader looks for it
    direction: str  # "ltr" or "rtl"
    url: str
    current: bool = False
    outdated: bool = False

    @classmethod
    def of(
        cls, code: str, url: str, *, current: bool = False, outdated: bool = False
    ) -> "Language":
        """The language by its code, named in itself and with its direction."""
        return cls(code, language_name(code), direction(code), url, current, outdated)


def direction(language_code: str) -> str:
    """ "rtl" for a language written right to left (Arabic, Hebrew, Persian, Urdu), else "ltr"."""
    try:
        return "rtl" if get_language_info(language_code)["bidi"] else "ltr"
    except KeyError:
        return "ltr"


def language_name(language_code: str) -> str:
    """The language's name in that language, or its code when Django does not know it."""
    try:
        name = str(get_language_info(language_code)["name_local"])
    except KeyError:
        return language_code
    # As a label of its own ("Français"), where the script has capitals.
    return name[:1].upper() + name[1:]


def source_revision(letter: "LetterPage") -> Revision | None:
    """The revision of the letter that readers read now: its live one, or its latest draft."""
    return letter.live_revision or letter.get_latest_revision()


def changes_since(translation: "LetterPage", source: "LetterPage") -> list[ChangedParagraph]:
    """What changed in the letter's text since the revision its translation translates: nothing
    when it translates the current text (a change of a setting, not of a word, counts for
    nothing)."""
    return changes_against(translation, source_revision(source))


def changes_against(translation: "LetterPage", current: Revision | None) -> list[ChangedParagraph]:
    """What reads differently in `current` (a revision of the letter: the one circulated for
    signature, say) than in the revision the translation translates. Compared once per pair of
    revisions."""
    pinned_id = translation.translates_revision_id
    if pinned_id is None or current is None or current.pk == pinned_id:
        return []
    key = f"letters:translation-changes:{pinned_id}:{current.pk}"
    found: list[ChangedParagraph] | None = cache.get(key)
    if found is None:
        pinned = Revision.objects.filter(pk=pinned_id).first()
        found = (
            diff_paragraphs(revision_paragraphs(pinned), revision_paragraphs(current))
            if pinned is not None
            else []
        )
        cache.set(key, found, COMPARED_FOR)
    return found


def live_translations(letter: "LetterPage | int") -> "list[LetterPage]":
    """The translations of the letter (or of the letter with this id, in the same one query)
    that staff have published, by their language codes."""
    from .models import LetterPage

    if isinstance(letter, int):
        letter_id = letter
        key: Any = Subquery(LetterPage.objects.filter(pk=letter).values("translation_key")[:1])
    else:
        letter_id, key = letter.pk, letter.translation_key
    return list(
        LetterPage.objects.live()
        .filter(translation_key=key, translates_revision__isnull=False, alias_of__isnull=True)
        .exclude(pk=letter_id)
        .select_related("locale")
        .order_by("locale__language_code")
    )


def any_live_translation(letter_id: Any, translation_key: Any) -> Exists:
    """Whether the letter has a translation `live_translations` would list, as an expression for
    the query that reads the letter's id and translation key (each may be an OuterRef)."""
    from .models import LetterPage

    return Exists(
        LetterPage.objects.live()
        .filter(
            translation_key=translation_key,
            translates_revision__isnull=False,
            alias_of__isnull=True,
        )
        .exclude(pk=letter_id)
    )


def languages_of(letter: "LetterPage", *, current: "LetterPage | None" = None) -> list[Language]:
    """The letter and its live translations, the letter first, each with its address; empty when
    it has no translation. `current` is the one being read."""
    translations = live_translations(letter)
    if not translations:
        return []
    reading = current.pk if current is not None else letter.pk
    return [
        Language.of(letter.language_code, letter.url or "", current=reading == letter.pk),
        *(
            Language.of(
                page.language_code,
                translation_url(letter, page.language_code),
                current=reading == page.pk,
                outdated=bool(changes_since(page, letter)),
            )
            for page in translations
        ),
    ]


def languages_of_many(letters: "list[LetterPage]") -> dict[int, list[str]]:
    """Each listed letter's other languages by their codes, in one query (the archive's cards)."""
    from .models import LetterPage

    keys = {letter.translation_key: letter.pk for letter in letters}
    found: dict[int, list[str]] = {}
    rows = (
        LetterPage.objects.live()
        .filter(translation_key__in=keys, translates_revision__isnull=False, alias_of__isnull=True)
        .order_by("locale__language_code")
        .values_list("translation_key", "locale__language_code")
    )
    for key, code in rows:
        found.setdefault(keys[key], []).append(code)
    return found


def translation_url(letter: "LetterPage", language_code: str) -> str:
    return f"{letter.url or ''}in/{language_code}/"


def pin(translation: "LetterPage", source: "LetterPage") -> None:
    """Record that the translation translates the letter's text as it reads now."""
    revision = source_revision(source)
    translation.translates_revision = revision
    type(translation).objects.filter(pk=translation.pk).update(translates_revision=revision)


def translated(sender: Any, source_obj: Any, target_obj: Any, **kwargs: Any) -> None:
    """Wagtail's "Translate" made a copy of a letter in another locale: pin it to the text it
    copied (the letter's own, where a translation was translated again)."""
    from .models import LetterPage

    if not isinstance(target_obj, LetterPage) or target_obj.alias_of_id is not None:
        return
    source = source_obj.translation_source if isinstance(source_obj, LetterPage) else None
    pin(target_obj, source or source_obj)


def locale_added(sender: Any, instance: Locale, created: bool, **kwargs: Any) -> None:
    """A language was added: each letter archive gets its copy there (an alias, kept in step with
    it), so that staff can translate letters into it at once."""
    if not created or kwargs.get("raw"):
        return
    transaction.on_commit(lambda: _archives_in(instance.pk))


def _archives_in(locale_id: int) -> None:
    from wagtail.actions.copy_for_translation import CopyPageForTranslationAction

    from .models import LetterIndexPage

    locale = Locale.objects.filter(pk=locale_id).first()
    if locale is None:
        return
    for archive in LetterIndexPage.objects.filter(alias_of__isnull=True).exclude(locale=locale):
        if archive.get_translation_or_none(locale) is None:
            CopyPageForTranslationAction(archive, locale, copy_parents=True, alias=True).execute(
                skip_permission_checks=True
            )


def translation_paths(letter: "LetterPage") -> list[str]:
    """The addresses a CDN drops with a letter: each of its translations' page and PDF,
    published or not (one just unpublished is stale there too)."""
    from .models import LetterPage

    if letter.translation_source is not None:
        return []
    codes = (
        LetterPage.objects.filter(
            translation_key=letter.translation_key,
            translates_revision__isnull=False,
            alias_of__isnull=True,
        )
        .exclude(pk=letter.pk)
        .values_list("locale__language_code", flat=True)
    )
    return [
        path
        for code in codes
        for path in (translation_url(letter, code), f"{translation_url(letter, code)}pdf/")
    ]


@task(backend="background", queue_name="pdf")
def render_translation_pdf(translation_id: int) -> str:
    """Render and keep a translation's PDF with its letter's current list (in the worker: long
    lists take seconds); its address shows a page saying so meanwhile."""
    from .models import LetterPage
    from .pdf import stored_letter_pdf

    translation = LetterPage.objects.filter(pk=translation_id).first()
    if translation is None or translation.translation_source is None or not translation.live:
        return "gone"
    stored_letter_pdf(translation, translation.signatory_lines())
    return "made"


def translation_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A translation went live (again): its PDF is made in the worker."""
    from .models import LetterPage

    if isinstance(instance, LetterPage) and instance.translation_source is not None:
        pk = instance.pk
        transaction.on_commit(lambda: render_translation_pdf.enqueue(pk))


def render_translations_of(letter: "LetterPage") -> None:
    """Once its list or text is published anew, each live translation's PDF is made again."""
    for translation in live_translations(letter):
        render_translation_pdf.enqueue(translation.pk)


def serve_translation_pdf(request: HttpRequest, translation: "LetterPage") -> HttpResponseBase:
    """A translation's PDF once the worker has made it for the letter's current list; until
    then the page that says it is being prepared (and the job to make it, asked for once)."""
    from .caching import serve_stored_file
    from .pdf import stored_letter_pdf, stored_pdf_name
    from .public_page import pdf_being_prepared

    source = translation.translation_source
    assert source is not None
    lines = translation.signatory_lines()
    if source.publication is None:
        # The letter was made live outside the publication service (only code can): as it does.
        return HttpResponse(stored_letter_pdf(translation, lines), content_type="application/pdf")
    name = stored_pdf_name(translation, lines)
    if default_storage.exists(name):
        return serve_stored_file(
            request,
            name=name,
            etag=f'"{name.rsplit("-", 1)[-1].removesuffix(".pdf")}"',
            content_type="application/pdf",
            filename=f"{source.slug}-{translation.language_code}.pdf",
            immutable=False,
        )
    if cache.add(f"letters:rendering:{name}", True, RENDER_ASKED_FOR):
        transaction.on_commit(lambda: render_translation_pdf.enqueue(translation.pk))
    return pdf_being_prepared(request, translation, source.publication)


# A translation's PDF asked for while none is kept is queued once in this many seconds.
RENDER_ASKED_FOR = 120


class TranslatedLetter:
    """What makes a letter page a translation of another: where it reads and what it prints.
    Mixed into letters.models.LetterPage, before Wagtail's page classes."""

    if TYPE_CHECKING:  # what Wagtail's Page and LetterPage give it
        translates_revision_id: int | None
        alias_of_id: int | None
        translation_key: Any
        pk: Any
        live: bool

        @property
        def language_code(self) -> str: ...

        def get_view_restrictions(self) -> Any: ...

    @cached_property
    def translation_source(self) -> "LetterPage | None":
        """The letter this page translates, or None when it is a letter of its own."""
        if self.translates_revision_id is None or self.alias_of_id is not None:
            return None
        from .models import LetterPage

        found = (
            LetterPage.objects.filter(translation_key=self.translation_key, locale__isnull=False)
            .exclude(pk=self.pk)
            .filter(translates_revision__isnull=True, alias_of__isnull=True)
            .first()
        )
        return found

    def get_url_parts(self, request: HttpRequest | None = None) -> Any:
        """A translation reads at its letter's address, in/<language>/: one page of record."""
        source = self.translation_source
        if source is None:
            return super().get_url_parts(request)  # type: ignore[misc]  # Wagtail's Page, next in the MRO
        parts = source.get_url_parts(request)
        if parts is None or parts[2] is None:
            return parts
        site_id, root_url, path = parts
        return site_id, root_url, f"{path}in/{self.language_code}/"

    def route(self, request: HttpRequest, path_components: list[str]) -> Any:
        """in/<language>/…: the live translation into that language, served as its own page
        (and its PDF), as long as the letter itself is live and public."""
        if len(path_components) >= 2 and path_components[0] == "in" and self.live:
            translation = self._live_translation(path_components[1])
            if translation is not None and not self.get_view_restrictions().exists():
                return translation.route(request, path_components[2:])
            raise Http404("This letter has no translation into that language.")
        return super().route(request, path_components)  # type: ignore[misc]  # Wagtail's Page

    def _live_translation(self, language_code: str) -> "LetterPage | None":
        from .models import LetterPage

        return (
            LetterPage.objects.live()
            .filter(
                translation_key=self.translation_key,
                locale__language_code=language_code,
                translates_revision__isnull=False,
                alias_of__isnull=True,
            )
            .exclude(pk=self.pk)
            .first()
        )
