"""Email jobs of a draft shared for comment: the reader's own link, and what staff decided on
their comment or suggestion (see signatories.tasks for how every email job works)."""

from django.tasks import task
from django.urls import reverse

from coalition.core import deliveries, emails
from coalition.core.deliveries import Outgoing
from letters import text_diff

from . import selectors
from .models import DraftShare


@task(backend="background")
def send_draft_share(share_id: int, retrying: int | None = None) -> bool:
    """Email a member contact their own link to a letter's draft, to comment on it."""
    return deliveries.deliver(
        _draft_share_email(share_id), job=send_draft_share, args=(share_id,), retrying=retrying
    )


def _draft_link(share: DraftShare) -> str:
    token = selectors.draft_link_token(share)
    return emails.absolute_url(reverse("signatories:draft", args=[token]))


def _draft_share_email(share_id: int) -> Outgoing | None:
    share = selectors.draft_share_to_send(share_id)
    if share is None:
        return None  # revoked before this ran: the link would not open
    shared_by = share.shared_by
    return Outgoing(
        name="draft-shared",
        to=share.email,
        job="draft:shared",
        regarding=f"draft share {share.pk}",
        occasion="",
        topic=f"“{share.letter.title}” (draft)",
        context={
            "name": share.name,
            "letter_title": share.letter.title,
            "staff_name": (shared_by.get_full_name() or shared_by.email) if shared_by else "",
            "note": share.note,
            "url": _draft_link(share),
            "why": f"the coalition asked {share.organization_name or 'your organization'} "
            "for its view on this draft",
        },
    )


@task(backend="background")
def send_draft_decision(comment_id: int, retrying: int | None = None) -> bool:
    """Tell a reader of a shared draft what staff decided on their comment or suggestion."""
    return deliveries.deliver(
        _draft_decision_email(comment_id),
        job=send_draft_decision,
        args=(comment_id,),
        retrying=retrying,
    )


def _draft_decision_email(comment_id: int) -> Outgoing | None:
    found = selectors.draft_comment_to_tell(comment_id)
    if found is None:
        return None
    share = found.share
    changes = text_diff.word_changes(found.quoted, found.suggestion) if found.suggestion else None
    return Outgoing(
        name="draft-decision",
        to=share.email,
        job="draft:decision",
        regarding=f"draft comment {found.pk}",
        occasion=found.status,
        topic=f"“{share.letter.title}” (draft)",
        context={
            "name": share.name,
            "letter_title": share.letter.title,
            "accepted": found.status == "accepted",
            "quoted": found.quoted,
            "comment": found.comment,
            "suggestion": found.suggestion,
            "changes": changes,
            "note": found.note,
            "url": _draft_link(share) if share.revoked_at is None else "",
            "why": "you commented on this draft through your own link",
        },
    )
