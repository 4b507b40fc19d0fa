"""Publishing a letter at the close of its sign-on."""

import hashlib
from dataclasses import asdict
from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from letters.pdf import render_letter_pdf
from signatories import tasks
from signatories.models import Publication, Signature, SignOn

from .errors import SignOnError
from .events import Actor, record_event
from .sign_ons import _change_status, lock_sign_on


@transaction.atomic
def publish_sign_on(*, sign_on: SignOn, actor: Actor) -> Publication:
    """Publish the circulated revision with its approved signatories, frozen; the PDF follows."""
    sign_on = lock_sign_on(sign_on)
    _change_status(sign_on, SignOn.Status.PUBLISHED)
    waiting = sign_on.signatures.filter(status=Signature.Status.PENDING_REVIEW).count()
    if waiting:
        raise SignOnError(
            f"{waiting} signature(s) await review: approve or reject them before publishing."
        )
    letter = sign_on.letter
    sign_on.revision.publish(user=actor.user, log_action=True)
    letter.refresh_from_db()
    lines = Signature.objects.printable_lines(letter)
    publication = Publication.objects.create(
        letter=letter,
        sign_on=sign_on,
        revision=sign_on.revision,
        signatories=[asdict(line) for line in lines],
        published_by=actor.user,
    )
    sign_on.save(update_fields=["status"])
    record_event(
        sign_on=sign_on,
        action="published",
        actor=actor,
        detail={"revision": sign_on.revision_id, "signatories": len(lines)},
    )
    transaction.on_commit(partial(tasks.render_publication_pdf.enqueue, publication.pk))
    return publication


def attach_publication_pdf(*, publication: Publication) -> Publication:
    """Render a publication's PDF once, from its revision and frozen list, and store its SHA-256."""
    if publication.pdf:
        return publication
    letter = publication.revision.as_object()
    pdf = render_letter_pdf(letter, publication.lines())
    with transaction.atomic():
        locked = Publication.objects.select_for_update().get(pk=publication.pk)
        if locked.pdf:
            return locked
        stamp = timezone.localtime(locked.published_at).strftime("%Y%m%d")
        locked.pdf.save(f"{letter.slug}-{stamp}.pdf", ContentFile(pdf), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.save(update_fields=["pdf", "pdf_sha256"])
    return locked
