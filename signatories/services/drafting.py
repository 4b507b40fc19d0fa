"""Drafting together: staff share a letter's draft with member contacts, each through a link of
their own; readers comment on a passage and suggest new wording, without an account; staff
accept or reject each comment, and the reader is told.

Accepting a suggestion saves a new revision of the letter (Wagtail's history shows who) with that
passage's text replaced, under the letter's row lock so that two acceptances never build on the
same revision; it is refused, never applied over, where the passage changed since the reader read
it. Comments close once the letter has a revision approved for circulation after the share
(selectors.closing_approval); the comments still open then are closed without a decision.
"""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import Revision

from coalition.crm.models import Contact, Organization
from letters import passages
from letters.models import LetterPage, Publication
from signatories import draft_emails, selectors, tokens
from signatories.errors import CommentsClosed, SignOnError, TransitionNotAllowed
from signatories.inputs import NO_TEXT, Commenting, StaffText
from signatories.models import DraftComment, DraftShare

from .core import queue
from .events import Actor

Status = DraftComment.Status


def share_draft(
    *, letter: LetterPage, contacts: Sequence[Contact], actor: Actor, note: StaffText = NO_TEXT
) -> list[DraftShare]:
    """Give each contact a link of their own to the letter's draft, emailed after commit."""
    if not contacts:
        raise SignOnError("Choose at least one member contact.", field="contacts")
    if Publication.objects.filter(letter=letter).exists():
        raise SignOnError("The letter is published: its draft is no longer shared for comment.")
    if letter.latest_revision_id is None:
        raise SignOnError("Save a draft of the letter first: there is nothing to share yet.")
    shares = []
    with transaction.atomic():
        for contact in contacts:
            if contact.organization.status != Organization.Status.ACTIVE or not contact.email:
                raise SignOnError(
                    f"{contact.name} is not a contact of an active member with an email address.",
                    field="contacts",
                )
            nonce = tokens.new_nonce()
            try:
                with transaction.atomic():
                    share = DraftShare.objects.create(
                        letter=letter,
                        contact=contact,
                        name=contact.name,
                        email=contact.email,
                        organization_name=contact.organization.name,
                        token_nonce=nonce,
                        token_hash=tokens.digest(tokens.derive("draft", nonce)),
                        shared_by=actor.user,
                        note=note,
                    )
            except IntegrityError:
                raise SignOnError(
                    f"{contact.name} already has a link to this draft.", field="contacts"
                ) from None
            shares.append(share)
        queue([(draft_emails.send_draft_share, (share.pk,)) for share in shares])
    return shares


def revoke_draft_share(*, share: DraftShare) -> DraftShare:
    """The link no longer opens (shared with the wrong person, say); its comments stay."""
    DraftShare.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    share.refresh_from_db()
    return share


def close_draft_comments(*, share: DraftShare) -> int:
    """Close the comments still open on a share whose text was approved for circulation.
    Returns how many it closed."""
    approval = selectors.closing_approval(share)
    if approval is None:
        return 0
    return DraftComment.objects.filter(share=share, status=Status.OPEN).update(
        status=Status.CLOSED, decided_at=approval.approved_at
    )


def comment_on_draft(
    *, share: DraftShare, passage: str, commenting: Commenting, text_hash: str, actor: Actor
) -> DraftComment:
    """Record a reader's comment, or suggested wording, on one passage of the draft as it now
    reads; `text_hash` is the SHA-256 of the passage as the reader's page showed it."""
    with transaction.atomic():
        locked = (
            DraftShare.objects.select_for_update(of=("self",))
            .select_related("letter")
            .get(pk=share.pk)
        )
        if locked.revoked_at is not None:
            raise SignOnError("The coalition withdrew this link.")
        closed = selectors.comments_closed(locked)
        if closed is None:
            revision, draft = selectors.latest_draft(locked.letter)
            found = passages.find(draft, passage)
            if revision is None or found is None:
                raise SignOnError("This passage is no longer in the draft.", field="passage")
            if passages.text_hash(found.text) != text_hash:
                raise SignOnError(
                    "The passage changed while you were writing; it now reads as shown. "
                    "Check your wording against it and send it again.",
                    field="suggestion" if commenting.suggestion else "comment",
                )
            return DraftComment.objects.create(
                share=locked,
                revision=revision,
                passage=found.key,
                quoted=found.text,
                comment=commenting.comment,
                suggestion=commenting.suggestion,
                ip_address=actor.ip_address,
            )
        close_draft_comments(share=locked)
    raise CommentsClosed(closed)


def decide_draft_comment(
    *, comment: DraftComment, accept: bool, actor: Actor, note: StaffText = NO_TEXT
) -> DraftComment:
    """Accept a comment (a suggestion becomes a new revision of the letter) or reject it; the
    reader is emailed the decision after commit."""
    with transaction.atomic():
        locked = (
            DraftComment.objects.select_for_update(of=("self",))
            .select_related("share", "share__letter")
            .get(pk=comment.pk)
        )
        target = Status.ACCEPTED if accept else Status.REJECTED
        if not DraftComment.can_transition(locked.status, target):
            raise TransitionNotAllowed(
                f"This comment is already {locked.get_status_display().lower()}."
            )
        closed = selectors.comments_closed(locked.share)
        if closed is None:
            if accept and locked.suggestion:
                locked.accepted_revision = _apply_suggestion(locked, actor)
            locked.status = target
            locked.decided_by = actor.user
            locked.decided_at = timezone.now()
            locked.note = note
            locked.save()
            queue([(draft_emails.send_draft_decision, (locked.pk,))])
            return locked
        close_draft_comments(share=locked.share)
    raise CommentsClosed(f"{closed} This comment is closed without a decision.")


def _apply_suggestion(comment: DraftComment, actor: Actor) -> Revision:
    """Save the letter's new revision with the suggested wording; refuse where the passage is
    no longer as the reader read it."""
    # The letter's row, locked: a second acceptance waits, then builds on this one's revision.
    letter = LetterPage.objects.select_for_update(of=("self",)).get(pk=comment.share.letter_id)
    user = actor.user
    if user is not None and not letter.permissions_for_user(user).can_edit():
        raise SignOnError("You may not edit this letter, so you cannot accept a suggestion.")
    _, draft = selectors.latest_draft(letter)
    current = passages.find(draft, comment.passage)
    who = comment.share.name
    if current is None:
        raise SignOnError(
            f"The passage {who} commented on is no longer in the draft: reject the suggestion, "
            "or make the change in the editor."
        )
    if current.text != comment.quoted:
        raise SignOnError(
            f"The passage has changed since {who} suggested this, so accepting it would undo "
            "that change. Reject it, or make the change in the editor."
        )
    draft.body = passages.replaced_body(draft, comment.passage, comment.suggestion)
    try:
        return draft.save_revision(user=user, log_action=True)
    except ValidationError as error:
        raise SignOnError(f"The letter would not save: {'; '.join(error.messages)}") from None
