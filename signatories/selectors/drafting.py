"""Reads of drafting together: a reader's link, the draft as it now reads, whether comments are
still open, and the comments staff see beside each passage."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils.formats import date_format
from django.utils.timezone import localtime
from wagtail.models import Revision

from coalition.crm.models import Contact, Organization
from letters import passages
from letters.models import CirculationApproval, LetterPage
from letters.text_diff import ChangedParagraph, word_changes
from signatories import tokens
from signatories.models import DraftComment, DraftShare


def find_draft_share(token: str) -> DraftShare | None:
    """The share a reader's link opens, with its letter; None for anything forged or replaced."""
    if not tokens.is_well_formed(token):
        return None
    return (
        DraftShare.objects.select_related("letter").filter(token_hash=tokens.digest(token)).first()
    )


def draft_link_token(share: DraftShare) -> str:
    return tokens.rederive("draft", share.token_nonce, share.token_hash)


def draft_share_to_send(share_id: int) -> DraftShare | None:
    """A share whose link still opens, to email."""
    return (
        DraftShare.objects.select_related("letter", "shared_by")
        .filter(pk=share_id, revoked_at__isnull=True)
        .first()
    )


def draft_comment_to_tell(comment_id: int) -> DraftComment | None:
    """A comment staff decided on (accepted or rejected), with its share and letter."""
    return (
        DraftComment.objects.select_related("share", "share__letter")
        .filter(
            pk=comment_id, status__in=[DraftComment.Status.ACCEPTED, DraftComment.Status.REJECTED]
        )
        .first()
    )


def latest_draft(letter: LetterPage) -> tuple[Revision | None, LetterPage]:
    """The letter's latest revision and the letter as it reads in it (the letter itself, where
    it has no revision yet)."""
    revision = letter.get_latest_revision()
    if revision is None:
        return None, letter
    draft = revision.as_object()
    assert isinstance(draft, LetterPage)
    return revision, draft


def closing_approval(share: DraftShare) -> CirculationApproval | None:
    """The approval for circulation that closed the share's comments, if there is one.

    An approval made after the share closes it: that round of drafting is settled, and a reader
    no longer changes a text that may be going out. One made before it does not: staff who
    share an approved text again ask for another round (before recirculating it, say).
    """
    return (
        CirculationApproval.objects.filter(
            letter_id=share.letter_id, approved_at__gt=share.shared_at
        )
        .select_related("revision")
        .order_by("approved_at")
        .first()
    )


def comments_closed(share: DraftShare) -> str | None:
    """Why the share takes no more comments, or None while it does."""
    approval = closing_approval(share)
    if approval is None:
        return None
    return (
        f"Comments on this draft closed on {date_format(localtime(approval.approved_at), 'j F Y')}, "
        "when its text was approved for circulation."
    )


def latest_approval(letter: LetterPage) -> CirculationApproval | None:
    return (
        CirculationApproval.objects.filter(letter=letter)
        .select_related("revision")
        .order_by("-approved_at")
        .first()
    )


def shareable_contacts(letter: LetterPage) -> QuerySet[Contact]:
    """Member contacts the draft may be shared with: of an active organization, with an address
    they take email at, and no link to this draft yet."""
    shared = DraftShare.objects.filter(letter=letter, revoked_at__isnull=True).values("contact_id")
    return (
        Contact.objects.filter(organization__status=Organization.Status.ACTIVE, email_opt_out=False)
        .exclude(email="")
        .exclude(pk__in=shared)
        .select_related("organization")
        .order_by("organization__sort_name", "name", "pk")
    )


def chosen_contacts(letter: LetterPage, pks: list[int]) -> list[Contact]:
    return list(shareable_contacts(letter).filter(pk__in=pks))


def draft_shares(letter: LetterPage) -> QuerySet[DraftShare]:
    """Every share of the letter, each with how many comments came through it."""
    return (
        DraftShare.objects.filter(letter=letter)
        .select_related("shared_by")
        .annotate(
            comment_count=Count("comments"),
            open_count=Count("comments", filter=Q(comments__status="open")),
        )
        .order_by("shared_at", "pk")
    )


def draft_share_of(letter: LetterPage, pk: int) -> QuerySet[DraftShare]:
    return DraftShare.objects.filter(letter=letter, pk=pk).select_related("letter")


def draft_comments_of(letter: LetterPage) -> QuerySet[DraftComment]:
    return (
        DraftComment.objects.filter(share__letter=letter)
        .select_related("share", "share__letter", "revision", "accepted_revision", "decided_by")
        .order_by("created_at", "pk")
    )


def draft_comment_of(letter: LetterPage, pk: int) -> QuerySet[DraftComment]:
    return draft_comments_of(letter).filter(pk=pk)


def comments_by(share: DraftShare) -> list[DraftComment]:
    """What the reader of this share wrote, oldest first."""
    return list(share.comments.select_related("revision").order_by("created_at", "pk"))


@dataclass(frozen=True)
class CommentView:
    """A comment as staff and its reader see it: the suggestion marked word by word against
    the passage as it read, and whether the passage has changed since."""

    comment: DraftComment
    changes: ChangedParagraph | None
    current_text: str | None  # the passage now; None where it is no longer in the draft
    closed: bool = False  # its share takes no more comments

    @property
    def stale(self) -> bool:
        return self.current_text != self.comment.quoted

    @property
    def is_open(self) -> bool:
        return self.comment.status == DraftComment.Status.OPEN and not self.closed

    @property
    def status_label(self) -> str:
        """Its status; one still open on a share that closed reads as closed (it is, the next
        time anyone acts on it: services.close_draft_comments)."""
        if self.comment.status == DraftComment.Status.OPEN and self.closed:
            return DraftComment.Status.CLOSED.label
        return self.comment.get_status_display()


def comment_view(
    comment: DraftComment, current: passages.Passage | None, *, closed: bool = False
) -> CommentView:
    return CommentView(
        comment=comment,
        changes=word_changes(comment.quoted, comment.suggestion) if comment.suggestion else None,
        current_text=current.text if current is not None else None,
        closed=closed,
    )


@dataclass(frozen=True)
class PassageRow:
    passage: passages.Passage
    comments: list[CommentView] = field(default_factory=list)


@dataclass(frozen=True)
class PartRows:
    """A piece of the body (a paragraph, a heading, a list) with the comments on its passages."""

    kind: str
    numbered: bool
    rows: list[PassageRow]


@dataclass(frozen=True)
class DraftingView:
    """The draft passage by passage, with the comments on each; those on passages no longer
    in the draft apart."""

    parts: list[PartRows]
    elsewhere: list[CommentView]

    @property
    def rows(self) -> list[PassageRow]:
        return [row for part in self.parts for row in part.rows]

    @property
    def open_count(self) -> int:
        every = [c for row in self.rows for c in row.comments] + self.elsewhere
        return sum(1 for view in every if view.is_open)


def _comments_on(
    passage: passages.Passage, by_passage: dict[str, list[CommentView]]
) -> list[CommentView]:
    found = [view for key in passage.keys for view in by_passage.pop(key, [])]
    return sorted(found, key=lambda view: (view.comment.created_at, view.comment.pk))


def drafting_view(
    draft: LetterPage, comments: list[DraftComment], *, closed_shares: set[int] | None = None
) -> DraftingView:
    """The draft as it now reads with these comments beside their passages; `closed_shares`
    are the shares that take no more comments."""
    closed = closed_shares or set()
    found = passages.parts(draft)
    current = {key: p for part in found for p in part.passages for key in p.keys}
    by_passage: dict[str, list[CommentView]] = {}
    for comment in comments:
        view = comment_view(
            comment, current.get(comment.passage), closed=comment.share_id in closed
        )
        by_passage.setdefault(comment.passage, []).append(view)
    parts = [
        PartRows(
            kind=part.kind,
            numbered=part.numbered,
            rows=[PassageRow(p, _comments_on(p, by_passage)) for p in part.passages],
        )
        for part in found
    ]
    return DraftingView(parts=parts, elsewhere=[v for views in by_passage.values() for v in views])
