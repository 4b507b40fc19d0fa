"""Publishing a letter: the only way one goes live, with a frozen signatory list and its PDF.

A letter with a sign-on is published from its tracker once the sign-on has closed, after the
event chain is verified; its chain's head is printed on the page and in the PDF. A letter without
one (imported, or final when drafted) may go live through Wagtail's Publish, and is recorded here
the moment it does, so that every published letter has its frozen list, its PDF and the PDF's
SHA-256.
"""

import hashlib
from dataclasses import asdict
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Revision

from letters import publishing
from letters.caching import invalidate_public_pages
from letters.models import LetterPage, SignatoryLine
from letters.pdf import render_letter_pdf
from signatories import selectors
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Publication, Signature, SignOn

from .core import hold, holding, record, transition
from .events import Actor
from .sign_ons import revision_text_hash

NOTE_LIMIT = 2000


def publication_gate(letter: LetterPage) -> publishing.Refusal | None:
    """Wagtail's own doors may publish a letter only the first time, and only without a sign-on.

    Once published, a letter changes only by a dated correction, beside the earlier versions.
    """
    sign_on = letter.sign_ons.exclude(status=SignOn.Status.CANCELLED).first()
    if letter.pk is not None and letter.publications.exists():
        return publishing.Refusal(
            message=f"“{letter.title}” is published: a change to it (a typo, a late signature, "
            "a withdrawal) is published as a dated correction, beside the earlier versions.",
            url=reverse("signatories_admin:corrections", args=[letter.pk]),
            label="Publish a correction",
        )
    if sign_on is None:
        return None
    return publishing.Refusal(
        message=f"“{letter.title}” is out for sign-on ({sign_on.get_status_display().lower()}): "
        "it is published from the sign-on's tracker once the sign-on has closed, with the "
        "signatories who agreed to the circulated text.",
        url=reverse("signatories_admin:tracker", args=[sign_on.pk]),
        label="Go to the sign-on's tracker",
    )


def publish_sign_on(*, sign_on: SignOn, actor: Actor) -> Publication:
    """Publish the circulated revision with its approved signatories, frozen; the PDF follows."""
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status == SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "The sign-on is still open: close it (or wait for its deadline) before publishing."
            )
        waiting = current.signatures.filter(status=Signature.Status.PENDING_REVIEW).count()
        if waiting:
            raise SignOnError(
                f"{waiting} signature(s) await review: approve or reject them before publishing."
            )
        problems = selectors.verify_event_chain(sign_on=current)
        if problems:
            raise SignOnError(
                "The sign-on's record does not hold, so it is not published: "
                + "; ".join(problems[:5])
                + ". Ask whoever runs the database what changed."
            )
        letter = current.letter
        lines = Signature.objects.printable_lines(letter)
        transition(
            current,
            current,
            action="published",
            actor=actor,
            status=SignOn.Status.PUBLISHED,
            detail={"revision": current.revision_id, "signatories": len(lines)},
        )
        # The head now includes the publication itself: whoever keeps the page can later show
        # that the record was rewritten.
        return _go_live(
            letter,
            current.revision,
            actor=actor,
            lines=lines,
            sign_on=current,
            chain={"chain_head": current.last_event_hash, "chain_length": current.event_count},
        )


def _go_live(
    letter: LetterPage,
    revision: Revision,
    *,
    actor: Actor,
    lines: list[SignatoryLine],
    sign_on: SignOn | None = None,
    chain: dict[str, Any] | None = None,
    previous: Publication | None = None,
    note: str = "",
) -> Publication:
    """The one place a version goes out: the page live on its revision, the list frozen, the
    PDF queued, every cached public page made stale."""
    if letter.live_revision_id != revision.pk or not letter.live:
        with publishing.through_service(letter):
            revision.publish(user=actor.user, log_action=True)
    Publication.objects.filter(letter=letter, is_current=True).update(is_current=False)
    publication = Publication.objects.create(
        letter=letter,
        sign_on=sign_on,
        revision=revision,
        version=previous.version + 1 if previous else 1,
        note=note,
        changes=changes_between(previous, revision, lines) if previous else {},
        signatories=[asdict(line) for line in lines],
        published_by=actor.user,
        **(chain or {}),
    )
    freeze_organizations(publication)
    transaction.on_commit(partial(render_publication_pdf.enqueue, publication.pk))
    invalidate_public_pages(letter=letter)
    return publication


def freeze_organizations(publication: Publication) -> None:
    """Note who the version prints, with it: what its list says, others read from here."""
    printed = Signature.objects.printable().filter(
        letter_id=publication.letter_id, organization__isnull=False
    )
    publication.organizations.set(printed.values_list("organization_id", flat=True))


@transaction.atomic
def publish_letter(
    *, letter: LetterPage, actor: Actor, revision: Revision | None = None
) -> Publication:
    """Publish a letter that has no sign-on (imported, or final when drafted) with its signatories."""
    refused = publication_gate(letter)
    if refused is not None:
        raise SignOnError(refused.message)
    revision = revision or letter.get_latest_revision()
    if revision is None:
        raise SignOnError(f"“{letter.title}” has no saved revision to publish.")
    return _go_live(letter, revision, actor=actor, lines=Signature.objects.printable_lines(letter))


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


def publish_correction(
    *, letter: LetterPage, note: str, actor: Actor, revision: Revision | None = None
) -> Publication:
    """Publish what changed since the latest version as a dated correction, beside it.

    The signatories are the approved ones as they stand now (a late signature, a withdrawal);
    `revision` brings a corrected text (a typo). The earlier versions, their PDFs and hashes stay.
    """
    note = (note or "").strip()
    if not note:
        raise SignOnError(
            "Say what the correction corrects: it prints on the letter.", field="note"
        )
    if len(note) > NOTE_LIMIT:
        raise SignOnError(f"The note is too long: at most {NOTE_LIMIT} characters.", field="note")
    with transaction.atomic():
        previous = (
            Publication.objects.select_for_update()
            .filter(letter=letter)
            .order_by("-version")
            .first()
        )
        if previous is None:
            raise SignOnError(
                f"“{letter.title}” is not published yet: there is nothing to correct."
            )
        revision = revision or previous.revision
        if str(revision.object_id) != str(letter.pk):
            raise SignOnError("This revision is of another letter.", field="revision")
        lines = Signature.objects.printable_lines(letter)
        changes = changes_between(previous, revision, lines)
        if not (changes["added"] or changes["removed"] or changes["text"]):
            raise SignOnError(
                f"Nothing changed since version {previous.version}: neither the signatories nor "
                "the text. Make the change first, then publish it as a correction."
            )
        sign_on = previous.sign_on
        chain: dict[str, Any] = {}
        if sign_on is not None:
            held = hold(sign_on)
            problems = selectors.verify_event_chain(sign_on=held.sign_on)
            if problems:
                raise SignOnError(
                    "The sign-on's record does not hold, so no correction is published: "
                    + "; ".join(problems[:5])
                )
            record(
                held.sign_on,
                action="correction_published",
                actor=actor,
                detail={"version": previous.version + 1, "note": note, **changes},
            )
            chain = {
                "chain_head": held.sign_on.last_event_hash,
                "chain_length": held.sign_on.event_count,
            }
        return _go_live(
            letter,
            revision,
            actor=actor,
            lines=lines,
            sign_on=sign_on,
            chain=chain,
            previous=previous,
            note=note,
        )


def record_publication(
    *, letter: LetterPage, revision: Revision, user: Any = None
) -> Publication | None:
    """A letter went live through one of Wagtail's doors: freeze its list and queue its PDF.

    The gate lets only letters without a sign-on through those doors; a letter published by
    the service is already recorded. Scheduled for later, it is recorded when it goes live.
    """
    if publishing.publishing_through_service(letter) or not letter.live:
        return None
    if letter.live_revision_id != revision.pk or letter.publications.exists():
        return None
    with transaction.atomic():
        publication = Publication.objects.create(
            letter=letter,
            revision=revision,
            signatories=[asdict(line) for line in Signature.objects.printable_lines(letter)],
            published_by=user,
        )
        freeze_organizations(publication)
        transaction.on_commit(partial(render_publication_pdf.enqueue, publication.pk))
        invalidate_public_pages(letter=letter)
    return publication


def attach_publication_pdf(*, publication: Publication) -> Publication:
    """Render a publication's PDF once, from its revision and frozen list, and store its SHA-256."""
    if publication.pdf:
        return publication
    letter = publication.revision.as_object()
    pdf = render_letter_pdf(letter, publication.lines(), metadata=pdf_metadata(publication))
    with transaction.atomic():
        locked = Publication.objects.select_for_update().get(pk=publication.pk)
        if locked.pdf:
            return locked
        stamp = timezone.localtime(locked.published_at).strftime("%Y%m%d")
        name = f"{letter.slug}-v{locked.version}-{stamp}.pdf"
        locked.pdf.save(name, ContentFile(pdf), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.pdf_size = len(pdf)
        locked.save(update_fields=["pdf", "pdf_sha256", "pdf_size"])
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


@task(backend="background", queue_name="pdf")
def render_publication_pdf(publication_id: int) -> str:
    """Render and store a published letter's PDF (in the worker: it takes seconds for long lists)."""
    publication = Publication.objects.filter(pk=publication_id).first()
    if publication is None:
        return "gone"
    return attach_publication_pdf(publication=publication).pdf_sha256
