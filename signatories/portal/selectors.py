"""What the member portal shows of an organization: its open requests, its history, the
published letters it is on, and what became of those it signed: their deliveries and answers.

A response's state and its words come from the sign-on's own selectors, as on the staff
tracker: the portal and the tracker never tell one organization's answer two ways.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from coalition.crm.models import Contact, Organization, ProfileProposal
from letters.models import CirculationApproval, Publication
from signatories import selectors as sign_on_selectors
from signatories.models import (
    NEVER_CONFIRMED,
    DraftShare,
    Event,
    Invitation,
    Signature,
    SignOn,
)


@dataclass
class OpenRequest:
    """A sign-on the organization was asked to answer that still takes responses."""

    letter_title: str
    sign_on: SignOn
    deadline_words: str
    # This person's own link, when they were invited themselves; colleagues' links are theirs.
    answer_url: str
    invited_colleagues: list[str]
    response: Signature | None
    state_label: str


@dataclass
class HistoryEntry:
    """One response of the organization to a letter, as the tracker states it."""

    letter_title: str
    signature: Signature
    state_label: str
    answered_at: datetime.datetime
    # When it ended: withdrawn or rejected, else None.
    ended_at: datetime.datetime | None
    # The answer's event in the sign-on's record, and the record's keyed hash after it: what the
    # signer's email gave, to hold against the record later.
    record_event: int | None = None
    record_head: str = ""


@dataclass
class PublishedLetter:
    title: str
    url: str
    published_at: datetime.datetime


@dataclass(frozen=True)
class DeliveryLine:
    """The letter sent to one recipient, as members see it: to whom, when, how it went."""

    recipient: str
    office: str
    on: datetime.date
    status: str


@dataclass(frozen=True)
class AnswerLine:
    """A recipient's published answer: its text, or the address of its file."""

    recipient: str
    office: str
    received_on: datetime.date
    text: str
    file_url: str


@dataclass
class SignedLetter:
    """A published letter the organization signed, with its deliveries and published answers."""

    title: str
    url: str
    deliveries: list[DeliveryLine] = field(default_factory=list)
    answers: list[AnswerLine] = field(default_factory=list)


@dataclass(frozen=True)
class SharedDraft:
    """A draft staff shared with this person to comment on: their own link, as emailed."""

    letter_title: str
    shared_at: datetime.datetime
    url: str
    # Closed once its text was approved for circulation after it was shared.
    closed: bool


@dataclass
class Overview:
    organization: Organization
    drafts: list[SharedDraft] = field(default_factory=list)
    open_requests: list[OpenRequest] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    published: list[PublishedLetter] = field(default_factory=list)
    proposals: list[ProfileProposal] = field(default_factory=list)
    signed: list[SignedLetter] = field(default_factory=list)


def _letter_title(row: Signature | Invitation) -> str:
    """The letter's title, which the query that read the row annotates beside it (rather than
    read the whole letter page)."""
    title = getattr(row, "letter_title", None)
    if not isinstance(title, str):
        raise TypeError(f"{row!r} was read without its letter's title")
    return title


def _standing(signatures: list[Signature]) -> Signature | None:
    """The response that counts among one letter's responses: the active one (the database
    allows one confirmed per organization and letter), else the latest."""
    active = [s for s in signatures if s.is_active]
    return active[0] if active else (signatures[-1] if signatures else None)


def overview(request: HttpRequest, contact: Contact) -> Overview:
    """Everything the portal shows of the contact's organization, in a fixed number of queries."""
    organization = contact.organization
    # A request through the open link that nobody confirmed is shown to nobody but staff: it may
    # be a stranger's, and is no answer of the organization's.
    signatures = list(
        Signature.objects.filter(organization=organization)
        .exclude(NEVER_CONFIRMED)
        .annotate(letter_title=F("letter__title"))
        .order_by("created_at", "pk")
    )
    by_letter: dict[int, list[Signature]] = {}
    for signature in signatures:
        by_letter.setdefault(signature.letter_id, []).append(signature)
    result = Overview(organization=organization)
    result.open_requests = _open_requests(contact, by_letter)
    answers = _answer_events(signatures)
    result.history = [
        _history_entry(signature, answers.get(signature.pk)) for signature in reversed(signatures)
    ]
    published_at = dict(
        Publication.objects.filter(organizations=organization, is_current=True).values_list(
            "letter_id", "published_at"
        )
    )
    signed = _signed(signatures)
    # Plain pages, read once for both lists: a letter's address needs its path, not its text.
    pages = {
        page.pk: page
        for page in Page.objects.filter(pk__in={*published_at, *signed}, live=True).only(
            "title", "slug", "url_path"
        )
    }
    result.published = _published(request, pages, published_at)
    result.signed = _signed_letters(request, signed, pages)
    result.drafts = shared_drafts(contact)
    result.proposals = list(
        ProfileProposal.objects.filter(organization=organization).order_by("-created_at", "-pk")[
            :20
        ]
    )
    return result


def _open_requests(contact: Contact, by_letter: dict[int, list[Signature]]) -> list[OpenRequest]:
    """Each open sign-on that invited someone of the organization, soonest deadline first."""
    invitations = list(
        Invitation.objects.filter(
            organization=contact.organization,
            sign_on__status=SignOn.Status.OPEN,
            sign_on__deadline__gt=timezone.now(),
        )
        .select_related("sign_on")
        .annotate(letter_title=F("sign_on__letter__title"))
        .order_by("sign_on__deadline", "sign_on_id", "name")
    )
    by_sign_on: dict[int, list[Invitation]] = {}
    for invitation in invitations:
        by_sign_on.setdefault(invitation.sign_on_id, []).append(invitation)
    requests = []
    for people in by_sign_on.values():
        sign_on = people[0].sign_on
        own = next((i for i in people if i.contact_id == contact.pk), None)
        response = _standing(by_letter.get(sign_on.letter_id, []))
        requests.append(
            OpenRequest(
                letter_title=_letter_title(people[0]),
                sign_on=sign_on,
                deadline_words=sign_on_selectors.deadline_words(sign_on),
                answer_url=reverse(
                    "signatories:sign", args=[sign_on_selectors.invitation_link_token(own)]
                )
                if own is not None
                else "",
                invited_colleagues=[i.name for i in people if i is not own],
                response=response,
                state_label=state_label(response, opened=any(i.opened_at for i in people)),
            )
        )
    return requests


def _answer_events(signatures: list[Signature]) -> dict[int, tuple[int, str]]:
    """Each response's first event (the answer itself): its number and the hash after it."""
    found: dict[int, tuple[int, str]] = {}
    rows = (
        Event.objects.filter(signature_id__in=[s.pk for s in signatures])
        .order_by("signature_id", "sequence")
        .values_list("signature_id", "sequence", "hash")
    )
    for signature_id, sequence, hash_after in rows:
        if signature_id is not None:
            found.setdefault(signature_id, (sequence, hash_after))
    return found


def _history_entry(signature: Signature, answer: tuple[int, str] | None) -> HistoryEntry:
    ended = None
    if signature.status == Signature.Status.WITHDRAWN:
        ended = signature.withdrawn_at
    elif signature.status == Signature.Status.REJECTED:
        ended = signature.reviewed_at
    return HistoryEntry(
        letter_title=_letter_title(signature),
        signature=signature,
        state_label=state_label(signature),
        answered_at=signature.created_at,
        ended_at=ended,
        record_event=answer[0] if answer else None,
        record_head=answer[1] if answer else "",
    )


def _published(
    request: HttpRequest, pages: dict[int, Page], published_at: dict[int, datetime.datetime]
) -> list[PublishedLetter]:
    """The published letters the organization's name is on, latest first."""
    published = []
    for pk, when in published_at.items():
        url = pages[pk].get_url(request=request) if pk in pages else None
        if url:
            published.append(PublishedLetter(title=pages[pk].title, url=url, published_at=when))
    published.sort(key=lambda item: item.published_at, reverse=True)
    return published


def _signed(signatures: list[Signature]) -> list[int]:
    """The letters the organization signed (its signature approved), latest signed first."""
    signed = [
        s.letter_id
        for s in reversed(signatures)
        if s.status == Signature.Status.APPROVED and s.response == Signature.Response.SIGNED
    ]
    return list(dict.fromkeys(signed))


def _signed_letters(
    request: HttpRequest, signed: list[int], pages: dict[int, Page]
) -> list[SignedLetter]:
    """The live letters the organization signed, each with its deliveries and its published
    answers: two queries however many."""
    letters = {
        pk: SignedLetter(pages[pk].title, pages[pk].get_url(request=request) or "")
        for pk in signed
        if pk in pages
    }
    if not letters:
        return []
    for delivery in sign_on_selectors.deliveries_of_letters(list(letters)):
        contact = delivery.recipient.contact
        letters[delivery.recipient.letter_id].deliveries.append(
            DeliveryLine(
                recipient=contact.name,
                office=contact.organization.name,
                on=delivery.delivered_on or timezone.localdate(delivery.created_at),
                status=sign_on_selectors.shown_status(delivery),
            )
        )
    for answer in sign_on_selectors.published_answers_of_letters(list(letters)):
        contact = answer.recipient.contact
        slug = pages[answer.recipient.letter_id].slug
        letters[answer.recipient.letter_id].answers.append(
            AnswerLine(
                recipient=contact.name,
                office=contact.organization.name,
                received_on=answer.received_on,
                text=answer.text,
                file_url=reverse("public:answer_file", args=[slug, answer.public_key])
                if answer.file
                else "",
            )
        )
    return list(letters.values())


def state_label(response: Signature | None, *, opened: bool = False) -> str:
    """How the staff tracker words the state an organization is in after this response."""
    return sign_on_selectors.STATES[sign_on_selectors.state_of(response, opened=opened)]


def shared_drafts(contact: Contact) -> list[SharedDraft]:
    """The drafts staff shared with the person, newest first, in one query: each opens at their
    own link, where they read, comment and suggest as from the email."""
    closing = CirculationApproval.objects.filter(
        letter_id=OuterRef("letter_id"), approved_at__gt=OuterRef("shared_at")
    )
    shares = (
        DraftShare.objects.filter(contact=contact, revoked_at__isnull=True)
        .annotate(letter_title=F("letter__title"), closed=Exists(closing))
        .order_by("-shared_at", "-pk")
    )
    return [
        SharedDraft(
            letter_title=share.letter_title,
            shared_at=share.shared_at,
            url=reverse("signatories:draft", args=[sign_on_selectors.draft_link_token(share)]),
            closed=share.closed,
        )
        for share in shares
    ]
