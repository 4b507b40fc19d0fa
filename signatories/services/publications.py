"""Publishing a letter: the only way one goes live, with a frozen signatory list and its PDF.

A letter with a sign-on is published from its tracker once the sign-on has closed, after the
event chain is verified; its chain's head is printed on the page and in the PDF. A letter without
one (imported, or final when drafted) may go live through Wagtail's Publish, and is recorded here
the moment it does, so that every published letter has its frozen list, its PDF and the PDF's
SHA-256.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from wagtail.models import Revision

from letters import publishing, versions
from letters.lines import SignatoryLine
from letters.models import LetterPage, Publication
from signatories import selectors, tasks
from signatories.deadlines import format_moment
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.inputs import StaffText
from signatories.models import Action, Signature, SignOn

from .core import hold, holding, queue, record, transition
from .events import Actor
from .holds import hold_for, keep_hold


def publish_sign_on(*, sign_on: SignOn, actor: Actor, releasing: bool = False) -> Publication:
    """Publish the circulated revision with its approved signatories, frozen; the PDF follows.

    A letter under embargo is published only by its release (`releasing`, services.embargoes)."""
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status == SignOn.Status.OPEN:
            raise TransitionNotAllowed(
                "The sign-on is still open: close it (or wait for its deadline) before publishing."
            )
        embargo = selectors.active_embargo(current)
        if embargo is not None and not releasing:
            raise TransitionNotAllowed(
                f"The letter is under embargo until {format_moment(embargo.until)}: it is "
                "published then, or lift the embargo to publish it now."
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
            action=Action.PUBLISHED,
            actor=actor,
            status=SignOn.Status.PUBLISHED,
            detail={"revision": current.revision_id, "signatories": len(lines)},
        )
        # The head now includes the publication itself: whoever keeps the page can later show
        # that the record was rewritten.
        return _publish(
            letter,
            current.revision,
            lines=lines,
            user=actor.user,
            record=_record_of(current),
        )


def _publish(
    letter: LetterPage,
    revision: Revision,
    *,
    lines: list[SignatoryLine],
    user: User | None,
    record: versions.Record | None = None,
    previous: Publication | None = None,
    note: str = "",
) -> Publication:
    """A version goes out (letters.versions) with the lines and the organizations printable now,
    and the letter is held for corrections from now on."""
    publication = versions.publish_version(
        letter,
        revision,
        lines=lines,
        organization_ids=_organizations_printed(letter),
        user=user,
        record=record,
        previous=previous,
        note=note,
    )
    keep_hold(letter)
    # Every signer it prints hears of it, once; they may have said not to.
    queue([(tasks.announce_version, (publication.pk,))])
    return publication


def _organizations_printed(letter: LetterPage) -> list[int]:
    """Who the version prints, frozen with it: what its list says, others read from there."""
    printed = Signature.objects.printable().filter(letter_id=letter.pk, organization__isnull=False)
    return list(printed.values_list("organization_id", flat=True))


def _record_of(sign_on: SignOn) -> versions.Record:
    """What the version says of the sign-on it closed: its chain's head and its dates."""
    return versions.Record(
        chain_head=sign_on.last_event_hash,
        chain_length=sign_on.event_count,
        circulated_at=sign_on.opened_at,
        closed_at=sign_on.closed_at,
    )


@transaction.atomic
def publish_letter(
    *, letter: LetterPage, actor: Actor, revision: Revision | None = None
) -> Publication:
    """Publish a letter that has no sign-on (imported, or final when drafted) with its signatories."""
    refused = hold_for(letter)
    if refused is not None:
        raise SignOnError(refused.message)
    revision = revision or letter.get_latest_revision()
    if revision is None:
        raise SignOnError(f"“{letter.title}” has no saved revision to publish.")
    return _publish(
        letter,
        revision,
        lines=Signature.objects.printable_lines(letter),
        user=actor.user,
    )


def publish_correction(
    *, letter: LetterPage, note: StaffText, actor: Actor, revision: Revision | None = None
) -> Publication:
    """Publish what changed since the latest version as a dated correction, beside it.

    The signatories are the approved ones as they stand now (a late signature, a withdrawal);
    `revision` brings a corrected text (a typo). The earlier versions, their PDFs and hashes stay.
    The note is what staff typed, cleaned (inputs.staff_text): it prints on the letter.
    """
    with transaction.atomic():
        previous = versions.latest_version(letter, for_update=True)
        if previous is None:
            raise SignOnError(
                f"“{letter.title}” is not published yet: there is nothing to correct."
            )
        revision = revision or previous.revision
        if str(revision.object_id) != str(letter.pk):
            raise SignOnError("This revision is of another letter.", field="revision")
        lines = Signature.objects.printable_lines(letter)
        changes = versions.changes_between(previous, revision, lines)
        if not (changes["added"] or changes["removed"] or changes["text"]):
            raise SignOnError(
                f"Nothing changed since version {previous.version}: neither the signatories nor "
                "the text. Make the change first, then publish it as a correction."
            )
        sign_on = letter.sign_ons.filter(status=SignOn.Status.PUBLISHED).first()
        kept: versions.Record | None = None
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
                action=Action.CORRECTION_PUBLISHED,
                actor=actor,
                detail={"version": previous.version + 1, "note": note, **changes},
            )
            kept = _record_of(held.sign_on)
        return _publish(
            letter,
            revision,
            lines=lines,
            user=actor.user,
            record=kept,
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
    if letter.translation_source is not None:
        # A translation prints its letter's list and versions: it has none of its own.
        return None
    if letter.live_revision_id != revision.pk or letter.publications.exists():
        return None
    with transaction.atomic():
        return _publish(
            letter,
            revision,
            lines=Signature.objects.printable_lines(letter),
            user=user,
        )


# Jobs queued before the versions became the letters app's name the task by this path.
render_publication_pdf = versions.render_publication_pdf
