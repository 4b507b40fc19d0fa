"""Publishing a letter: the only way one goes live, with a frozen signatory list and its PDF.

A letter with a sign-on is published from its tracker once the sign-on has closed, after the
event chain is verified; its chain's head is printed on the page and in the PDF. A letter without
one (imported, or final when drafted) may go live through Wagtail's Publish, and is recorded here
the moment it does, so that every published letter has its frozen list, its PDF and the PDF's
SHA-256.
"""

import hashlib
from dataclasses import asdict
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Revision

from letters import publishing
from letters.models import LetterPage
from letters.pdf import render_letter_pdf
from signatories import selectors
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Publication, Signature, SignOn

from .core import holding, transition
from .events import Actor


def publication_gate(letter: LetterPage) -> publishing.Refusal | None:
    """Wagtail's own doors may publish a letter without a sign-on; one with a sign-on, never."""
    sign_on = letter.sign_ons.exclude(status=SignOn.Status.CANCELLED).first()
    if sign_on is None:
        return None
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])
    if sign_on.status == SignOn.Status.PUBLISHED:
        message = (
            f"“{letter.title}” was published at the close of its sign-on: its text and "
            "signatories are frozen as they were agreed."
        )
    else:
        message = (
            f"“{letter.title}” is out for sign-on ({sign_on.get_status_display().lower()}): it "
            "is published from the sign-on's tracker once the sign-on has closed, with the "
            "signatories who agreed to the circulated text."
        )
    return publishing.Refusal(message=message, url=url, label="Go to the sign-on's tracker")


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
    lines: list[Any],
    sign_on: SignOn | None = None,
    chain: dict[str, Any] | None = None,
) -> Publication:
    with publishing.through_service(letter):
        revision.publish(user=actor.user, log_action=True)
    publication = Publication.objects.create(
        letter=letter,
        sign_on=sign_on,
        revision=revision,
        signatories=[asdict(line) for line in lines],
        published_by=actor.user,
        **(chain or {}),
    )
    transaction.on_commit(lambda: render_publication_pdf.enqueue(publication.pk))
    return publication


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


def record_publication(
    *, letter: LetterPage, revision: Revision, user: Any = None
) -> Publication | None:
    """A letter went live through one of Wagtail's doors: freeze its list and queue its PDF.

    The gate lets only letters without a sign-on through those doors; a letter published by
    the service is already recorded. Scheduled for later, it is recorded when it goes live.
    """
    if publishing.publishing_through_service(letter) or not letter.live:
        return None
    if letter.live_revision_id != revision.pk:
        return None
    with transaction.atomic():
        publication = Publication.objects.create(
            letter=letter,
            revision=revision,
            signatories=[asdict(line) for line in Signature.objects.printable_lines(letter)],
            published_by=user,
        )
        transaction.on_commit(lambda: render_publication_pdf.enqueue(publication.pk))
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
        locked.pdf.save(f"{letter.slug}-{stamp}.pdf", ContentFile(pdf), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.save(update_fields=["pdf", "pdf_sha256"])
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
