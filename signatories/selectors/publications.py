"""What prints on a letter, its published versions, and what a correction of it would change."""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from wagtail.models import Revision

from letters import translations, versions
from letters.lines import SignatoryLine
from letters.models import LetterPage, Publication
from signatories.models import Signature, SignOn


def letter_lines(letter: LetterPage) -> list[SignatoryLine]:
    """The lines a letter prints now, in the order it sets: what it shows until it is published
    (the LETTER_SIGNATORY_LINES setting names this)."""
    return Signature.objects.printable_lines(letter)


def printable_lines(sign_on: SignOn) -> list[SignatoryLine]:
    return letter_lines(sign_on.letter)


def languages_of(letters: list[LetterPage]) -> dict[int, list[str]]:
    """The codes of the other languages each letter reads in (the feed's alternate links)."""
    return translations.languages_of_many(letters)


def translations_to_read(sign_on: SignOn) -> list[LetterPage]:
    """The letter's published translations, which signers may read it in; none, without a query,
    where the link's own read found that it has none (selectors.links)."""
    if sign_on.letter_translated is False:
        return []
    return translations.live_translations(sign_on.letter_id)


def letter_pages() -> QuerySet[LetterPage]:
    return LetterPage.objects.all()


def letter_versions(letter: LetterPage) -> list[Publication]:
    """The letter's published versions, the latest first."""
    return list(Publication.objects.filter(letter=letter).order_by("-version"))


def printable_signatures(letter: LetterPage) -> QuerySet[Signature]:
    """The letter's signatures that print, each with its organization."""
    return Signature.objects.printable().filter(letter=letter).select_related("organization")


def printable_in_order(letter: LetterPage) -> list[Signature]:
    return Signature.objects.printable_in_order(letter)


def kept_letter(pages: list[Any]) -> LetterPage | None:
    """Of these pages and those below them, a letter whose record must stay: it went out for
    sign-on (its signatures and event chain name it) or was published (its versions and PDFs)."""
    below = Q()
    for page in pages:
        below |= Q(path__startswith=page.path)
    return (
        LetterPage.objects.filter(below)
        .filter(
            Exists(SignOn.objects.filter(letter=OuterRef("pk")))
            | Exists(Publication.objects.filter(letter=OuterRef("pk")))
        )
        .order_by("path")
        .first()
    )


def correction(
    letter: LetterPage, latest: Publication, *, with_latest_text: bool
) -> tuple[Revision | None, dict[str, Any]]:
    """What a correction would publish over the latest version: the latest saved revision of the
    text, where it takes it, and the changes (lines added and removed, and the text or not)."""
    revision = letter.get_latest_revision() if with_latest_text else None
    return revision, versions.changes_between(
        latest, revision or latest.revision, letter_lines(letter)
    )


def signers_to_tell(publication_id: int) -> list[int]:
    """The signatures a version prints whose signers may be emailed of it, once each."""
    publication = Publication.objects.filter(pk=publication_id).only("letter_id").first()
    if publication is None:
        return []
    return list(
        Signature.objects.printable()
        .filter(letter_id=publication.letter_id, publication_emails=True)
        .exclude(signer_email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def version_to_announce(publication_id: int) -> Publication | None:
    """A version with its letter, as its announcement says it; its frozen list is not read."""
    return (
        Publication.objects.select_related("letter")
        .defer("signatories", "changes", "letter__body")
        .filter(pk=publication_id)
        .first()
    )
