"""A letter's published versions: the one place one is made, and its PDF rendered and attached.

Whoever decides that a letter goes out (the sign-on app, at the close of a sign-on or for a
correction; Wagtail's Publish, for a letter without one) hands this module the lines to print and
the organizations they name; it makes the page live on the revision, freezes the list, queues the
PDF and makes every cached public page stale. The versions, their PDFs and hashes are the
letter's: nothing else writes them.
"""

import datetime
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string
from wagtail.models import Revision
from wagtail.search import index as search_index

from . import publishing, signing, translations
from .caching import invalidate_public_pages
from .lines import SignatoryLine
from .models import LetterPage, Publication
from .open_data import open_data_of
from .pdf import ARCHIVAL, AssociatedFile, render_letter_pdf

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """What a version says of the record its list came from (a sign-on's event chain)."""

    chain_head: str = ""
    chain_length: int = 0
    circulated_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None


def revision_text_hash(revision: Revision) -> str:
    """SHA-256 of a revision's stored content: what signers agree to, what a version prints."""
    # Read back as stored: a revision just returned by save_revision() holds Python values
    # (dates, rich text) that serialise differently from the JSON the database keeps.
    content = Revision.objects.filter(pk=revision.pk).values_list("content", flat=True).get()
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def latest_version(letter: LetterPage, *, for_update: bool = False) -> Publication | None:
    """The letter's latest version (locked for the transaction, when a correction follows)."""
    versions = Publication.objects.filter(letter=letter)
    if for_update:
        versions = versions.select_for_update()
    return versions.order_by("-version").first()


def changes_between(
    previous: Publication, revision: Revision, lines: list[SignatoryLine]
) -> dict[str, Any]:
    """What a new version changes: signatory lines added and removed, and whether the text did."""
    before = [line.text for line in previous.lines()]
    after = [line.text for line in lines]
    return {
        "added": [text for text in after if text not in before],
        "removed": [text for text in before if text not in after],
        "text": revision.pk != previous.revision_id
        and revision_text_hash(revision) != revision_text_hash(previous.revision),
    }


def publish_version(
    letter: LetterPage,
    revision: Revision,
    *,
    lines: list[SignatoryLine],
    organization_ids: Iterable[int],
    user: User | None,
    record: Record | None = None,
    previous: Publication | None = None,
    note: str = "",
) -> Publication:
    """The one place a version goes out: the page live on its revision, the list frozen, the
    PDF queued, every cached public page made stale. Call it inside a transaction."""
    if letter.live_revision_id != revision.pk or not letter.live:
        with publishing.through_service(letter):
            revision.publish(user=user, log_action=True)
    Publication.objects.filter(letter=letter, is_current=True).update(is_current=False)
    publication = Publication.objects.create(
        letter=letter,
        revision=revision,
        version=previous.version + 1 if previous else 1,
        note=note,
        changes=changes_between(previous, revision, lines) if previous else {},
        signatories=[asdict(line) for line in lines],
        published_by=user,
        **asdict(record or Record()),
    )
    publication.organizations.set(organization_ids)
    transaction.on_commit(partial(render_publication_pdf.enqueue, publication.pk))
    # The archive's search finds the letter by the signatories this version prints: its index
    # (in this database) is written in the same transaction.
    search_index.insert_or_update_object(letter)
    invalidate_public_pages(letter=letter)
    return publication


def version_files(publication: Publication) -> list[AssociatedFile]:
    """What the version's PDF carries inside it: the app that gathered the list hands over its
    files (its open-data list, the record it came from), as the LETTER_VERSION_FILES setting
    names; none where no app does."""
    provider = getattr(settings, "LETTER_VERSION_FILES", "")
    if not provider:
        return []
    files: list[AssociatedFile] = import_string(provider)(publication)
    return files


def render_version_pdf(publication: Publication) -> signing.Signed:
    """A version's PDF: PDF/A-3b and PDF/UA-1, its files inside, a QR code of the page that
    verifies it, signed by the coalition where a certificate is set."""
    letter = publication.revision.as_object()
    live = publication.letter
    check_path = open_data_of(live).verify_version_path
    verify_url = settings.SITE_URL + check_path.format(version=publication.version)
    pdf = render_letter_pdf(
        letter,
        publication.lines(),
        variant=ARCHIVAL,
        metadata=pdf_metadata(publication),
        verify_url=verify_url if check_path else "",
        attachments=version_files(publication),
    )
    what = "a correction" if publication.is_correction else "the letter"
    return signing.sign(
        pdf,
        reason=f"Version {publication.version} of “{letter.title}”: {what} as published",
        location=settings.SITE_URL + (live.url or ""),
    )


def attach_publication_pdf(*, publication: Publication) -> Publication:
    """Render a publication's PDF once, from its revision and frozen list, sign it and store it
    with its SHA-256."""
    if publication.pdf:
        return publication
    letter = publication.revision.as_object()
    signed = render_version_pdf(publication)
    pdf = signed.pdf
    with transaction.atomic():
        locked = Publication.objects.select_for_update().get(pk=publication.pk)
        if locked.pdf:
            return locked
        stamp = timezone.localtime(locked.published_at).strftime("%Y%m%d")
        name = f"{letter.slug}-v{locked.version}-{stamp}.pdf"
        locked.pdf.save(name, ContentFile(pdf), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.pdf_size = len(pdf)
        locked.pdf_signer = signed.signer
        locked.save(update_fields=["pdf", "pdf_sha256", "pdf_size", "pdf_signer"])
        # The page shows the PDF's size and hash once it exists.
        invalidate_public_pages(letter=letter)
    return locked


def pdf_metadata(publication: Publication) -> dict[str, str]:
    """What the PDF carries of its publication: the event chain's head, for later comparison."""
    if not publication.chain_head:
        return {}
    return {
        "sign-on-record": f"{publication.chain_length} events, "
        f"last HMAC-SHA256 {publication.chain_head}",
    }


#: When a timestamp cannot be had, the render is tried again after a delay that doubles from a
#: minute up to an hour, this many times in all; the page says the PDF is being prepared meanwhile.
RENDER_ATTEMPTS = 12


@task(backend="background", queue_name="pdf")
def render_publication_pdf(publication_id: int, attempt: int = 1) -> str:
    """Render and store a published letter's PDF (in the worker: it takes seconds for long lists).

    A version's PDF is never rendered again once stored: when the time-stamping authority does
    not answer, it is not stored without its timestamp, but tried again later."""
    publication = Publication.objects.filter(pk=publication_id).first()
    if publication is None:
        return "gone"
    try:
        sha256 = attach_publication_pdf(publication=publication).pdf_sha256
    except signing.SigningError as error:
        if attempt >= RENDER_ATTEMPTS or not render_publication_pdf.get_backend().supports_defer:
            raise
        delay = datetime.timedelta(minutes=min(2 ** (attempt - 1), 60))
        logger.warning(
            "Version %s of letter %s: %s; trying again in %s",
            publication.version,
            publication.letter_id,
            error,
            delay,
        )
        render_publication_pdf.using(run_after=timezone.now() + delay).enqueue(
            publication_id, attempt + 1
        )
        return f"retrying: {error}"
    # Its translations print the same list: their PDFs are made again with it.
    translations.render_translations_of(publication.letter)
    return sha256
