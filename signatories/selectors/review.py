"""The review queue: the signatures waiting for staff, and why each waits."""

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from coalition.crm.models import Contact, Organization, name_key
from coalition.crm.selectors import best_named, organizations_named
from signatories.addresses import same_mailbox
from signatories.models import NEVER_CONFIRMED, Signature, SignOn

from .open_link import Requests, open_link_requests, unconfirmed_requests

# The same few names come back on every row and every page: each is worked out once per process.
_name_key = lru_cache(maxsize=8192)(name_key)


def _names_in(line: str) -> tuple[list[str], list[str]]:
    """The names and acronyms a line may name an organization by: itself, and "Name (ACRONYM)"."""
    names, acronyms = [line], [line]
    match = re.match(r"^(?P<name>.*?)\s*\((?P<acronym>[^()]+)\)\s*$", line)
    if match:
        names.append(match["name"])
        acronyms.append(match["acronym"])
    return names, acronyms


def organization_named_by(
    display_name: str, *, excluding: Organization | None
) -> Organization | None:
    """Another organization this line names, by its name, "Name (ACRONYM)" or its acronym."""
    return ReviewLookups.of_lines([display_name]).organization_named_by(
        display_name, excluding=excluding
    )


@dataclass(frozen=True)
class ReviewLookups:
    """What the reasons of several signatures need from other tables, read at once: so that a
    page of the review queue costs the same few queries however many rows it shows."""

    # Organizations (no pending ones) some line of these signatures may name.
    named: list[Organization]
    # The addresses of each organization's authorized signers.
    authorized: dict[int, list[str]]
    # The lines of people that stand, by sign-on and how they sort: (pk, display_name).
    standing_lines: dict[tuple[int, str], list[tuple[int, str]]]

    @classmethod
    def of_lines(cls, lines: Iterable[str]) -> "ReviewLookups":
        """Only the organizations these lines may name."""
        return cls(named=_organizations_named_by(lines), authorized={}, standing_lines={})

    @classmethod
    def of(cls, signatures: list[Signature]) -> "ReviewLookups":
        """Everything the reasons of these signatures read, in three queries at most."""
        lines = [s.display_name for s in signatures if s.organization_id is not None]
        lines += [s.signer_name for s in signatures if s.organization_id is None]
        organization_ids = {s.organization_id for s in signatures if s.organization_id}
        authorized: dict[int, list[str]] = defaultdict(list)
        if organization_ids:
            contacts = Contact.objects.filter(
                organization_id__in=organization_ids, is_authorized_signer=True
            ).values_list("organization_id", "email")
            for organization_id, email in contacts:
                authorized[organization_id].append(email)
        people = [s for s in signatures if s.organization_id is None and s.sign_on_id]
        standing: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
        if people:
            rows = (
                Signature.objects.filter(
                    sign_on_id__in={s.sign_on_id for s in people},
                    sort_key__in={s.sort_key for s in people},
                    organization__isnull=True,
                    response=Signature.Response.SIGNED,
                    status__in=Signature.ACTIVE_STATUSES,
                )
                .exclude(NEVER_CONFIRMED)
                .order_by("pk")
                .values_list("sign_on_id", "sort_key", "pk", "display_name")
            )
            for sign_on_id, sort_key, pk, display_name in rows:
                standing[(sign_on_id, sort_key)].append((pk, display_name))
        return cls(
            named=_organizations_named_by(lines) if lines else [],
            authorized=dict(authorized),
            standing_lines=dict(standing),
        )

    def organization_named_by(
        self, line: str, *, excluding: Organization | None
    ) -> Organization | None:
        """As `organization_named_by`, among the organizations read."""
        names, acronyms = _names_in(line)
        keys = {_name_key(name) for name in names} - {""}
        lowered = {acronym.strip().lower() for acronym in acronyms} - {""}
        candidates = [
            organization
            for organization in self.named
            if (organization.name_key in keys or organization.acronym.lower() in lowered)
            and (excluding is None or organization.pk != excluding.pk)
        ]
        return best_named(candidates, names=names, acronyms=acronyms)

    def same_line(self, signature: Signature) -> str | None:
        """The line of another person of the sign-on that sorts as this one and stands."""
        assert signature.sign_on_id is not None
        for pk, display_name in self.standing_lines.get(
            (signature.sign_on_id, signature.sort_key), []
        ):
            if pk != signature.pk:
                return display_name
        return None


def _organizations_named_by(lines: Iterable[str]) -> list[Organization]:
    """The organizations (no pending ones) any of these lines may name, in one query."""
    names: list[str] = []
    acronyms: list[str] = []
    for line in lines:
        more_names, more_acronyms = _names_in(line)
        names += more_names
        acronyms += more_acronyms
    return list(
        organizations_named(names=names, acronyms=acronyms).exclude(
            status=Organization.Status.PENDING
        )
    )


def _display_name_reasons(
    signature: Signature, organization: Organization, known: ReviewLookups
) -> list[str]:
    own = {
        _name_key(organization.name),
        _name_key(organization.printed_name),
        _name_key(f"{organization.name} {organization.acronym}"),
    }
    if organization.display:
        own.add(_name_key(organization.display))
    if organization.status == Organization.Status.PENDING and signature.organization_name:
        # Nobody knows it yet: the line is held to what its own request says of it.
        own.add(_name_key(signature.organization_name))
        own.add(_name_key(f"{signature.organization_name} {signature.acronym}"))
    if _name_key(signature.display_name) in own:
        return []
    lookalike = known.organization_named_by(signature.display_name, excluding=organization)
    if lookalike is not None:
        return [
            f"The display name “{signature.display_name}” is the name of another organization, "
            f"{lookalike.printed_name}."
        ]
    return [
        f"The display name “{signature.display_name}” differs from the organization's name, "
        f"{requested_name(signature)}."
    ]


def requested_name(signature: Signature, *, with_acronym: bool = True) -> str:
    """The organization's name as the signature's own request through the open link gave it,
    where nobody knows the organization yet (the CRM holds none of it); else the CRM's."""
    organization = signature.organization
    if organization is None:
        return ""
    if organization.status == Organization.Status.PENDING and signature.organization_name:
        acronym = f" ({signature.acronym})" if with_acronym and signature.acronym else ""
        return f"{signature.organization_name}{acronym}"
    return organization.printed_name if with_acronym else organization.name


def _signer_reasons(
    signature: Signature, organization: Organization, known: ReviewLookups
) -> list[str]:
    invitation = signature.invitation
    if invitation is not None and invitation.contact_id is not None:
        contact = invitation.contact
        assert contact is not None
        if contact.is_authorized_signer and contact.organization_id == organization.pk:
            return []
        return [
            f"{contact.name} <{contact.email}> is not marked as an authorized signer of "
            f"{organization.name}."
        ]
    authorized = known.authorized.get(organization.pk, [])
    if any(same_mailbox(email, signature.signer_email) for email in authorized):
        return []
    if invitation is not None and invitation.forwarded_by_id is not None:
        forwarded_by = invitation.forwarded_by
        assert forwarded_by is not None
        return [
            f"{forwarded_by.name} forwarded the request to {invitation.email}, which is not a "
            f"contact of {organization.name} on file."
        ]
    return [f"{signature.signer_email} is not a known authorized signer of {organization.name}."]


def held_by_rule(signature: Signature) -> list[str]:
    """The exceptions staff review where a sign-on approves individuals by rule: why this person,
    who confirmed their address, is held for staff all the same; empty if the rule lists them.

    A person whose name is an organization's may be the organization signing in the wrong
    place; a line that already stands from another address may be the same person twice.
    """
    return _held_by_rule(signature, ReviewLookups.of([signature]))


def _held_by_rule(signature: Signature, known: ReviewLookups) -> list[str]:
    reasons = []
    lookalike = known.organization_named_by(signature.signer_name, excluding=None)
    if lookalike is not None:
        reasons.append(
            f"The name “{signature.signer_name}” is the name of an organization, "
            f"{lookalike.printed_name}: is a person signing?"
        )
    same = known.same_line(signature)
    if same is not None:
        reasons.append(f"“{same}” has signed already, from another address: the same person twice?")
    return reasons


def review_reasons(signature: Signature, known: ReviewLookups | None = None) -> list[str]:
    """Why a signature needs a person to look at it, from what is known now; empty if none.

    `known` is what other tables say of it, read with other signatures' (`ReviewLookups.of`).
    """
    known = known or ReviewLookups.of([signature])
    sign_on = signature.sign_on
    organization = signature.organization
    reasons: list[str] = []
    if signature.status == Signature.Status.NEEDS_RECONFIRMATION:
        reasons.append("The text changed: the signer has not reconfirmed the signature yet.")
    if organization is None:
        reasons.append("An individual signing in a personal capacity, through the open link.")
        reasons += _held_by_rule(signature, known)
        if signature.affiliation:
            reasons.append(
                f"Check the affiliation “{signature.affiliation}”: it prints for identification."
            )
        return reasons
    if signature.invitation_id is None:
        if organization.status == Organization.Status.PENDING:
            reasons.append(
                f"{requested_name(signature)} is not in the CRM yet: it asked to sign through the "
                "open link, and approving the signature adds it with this request's details."
            )
        else:
            reasons.append(
                f"{organization.name} was not invited: it asked to sign through the open link."
            )
    reasons += _display_name_reasons(signature, organization, known)
    if organization.status != Organization.Status.PENDING:
        # Of an organization nobody knew, nobody is known to sign: the line above says so.
        reasons += _signer_reasons(signature, organization, known)
    if sign_on is not None and not sign_on.auto_approve_authorized:
        reasons.append("This sign-on has every signature reviewed by staff.")
    return reasons


def _taking_responses(now: datetime.datetime) -> Q:
    """Signatures of a sign-on that takes responses now (SignOn.accepts_responses)."""
    return Q(sign_on__status=SignOn.Status.OPEN, sign_on__deadline__gt=now)


def _lapsed_reconfirmation(now: datetime.datetime) -> Q:
    """Confirmed, held for reconfirmation, and the sign-on takes no more responses: the signer can
    no longer reconfirm, so staff settle it (Signature.awaits)."""
    return (
        Q(status=Signature.Status.NEEDS_RECONFIRMATION) & ~NEVER_CONFIRMED & ~_taking_responses(now)
    )


def review_queue() -> QuerySet[Signature]:
    """Signatures waiting for staff (Signature.awaits): held for review, and those whose signer
    did not reconfirm a changed text before the sign-on closed."""
    return _queue(
        Q(status=Signature.Status.PENDING_REVIEW) | _lapsed_reconfirmation(timezone.now())
    )


def awaiting_reconfirmation() -> QuerySet[Signature]:
    """Confirmed signatures waiting for their signers to reconfirm a changed text, while they can."""
    return _queue(
        Q(status=Signature.Status.NEEDS_RECONFIRMATION)
        & ~NEVER_CONFIRMED
        & _taking_responses(timezone.now())
    )


def _queue(held: Q) -> QuerySet[Signature]:
    return (
        Signature.objects.filter(held, sign_on__isnull=False)
        .exclude(sign_on__status=SignOn.Status.CANCELLED)
        .select_related(
            "organization",
            "invitation",
            "invitation__contact",
            "invitation__forwarded_by",
            "sign_on",
            "sign_on__letter",
        )
        .order_by("sign_on_id", "created_at", "pk")
    )


class ByKeys(Sequence[Signature]):
    """Signatures of a listing, for a paginator: how many there are, and a slice picked by its
    keys alone (the listing's filter and order, without the rows it joins for display) and then
    read whole, `select_related` and all. Sorting a queue of thousands of wide, joined rows to
    keep fifty is what costs; sorting their keys costs little."""

    def __init__(self, signatures: QuerySet[Signature]) -> None:
        self.signatures = signatures

    def __len__(self) -> int:
        """How many there are (the paginator asks once): one query."""
        return self.signatures.count()

    @overload
    def __getitem__(self, index: int) -> Signature: ...
    @overload
    def __getitem__(self, index: slice) -> list[Signature]: ...
    def __getitem__(self, index: int | slice) -> Signature | list[Signature]:
        if isinstance(index, int):
            return self.signatures[index]
        pks = list(self.signatures.values_list("pk", flat=True)[index])
        found = self.signatures.order_by().in_bulk(pks) if pks else {}
        return [found[pk] for pk in pks if pk in found]

    def __iter__(self) -> Iterator[Signature]:
        return iter(self.signatures)


@dataclass(frozen=True)
class ReviewItem:
    """A signature in the review queue, with why it waits and the requests beside it."""

    signature: Signature
    reasons: list[str]
    # Where it came through the open link: every standing request for its organization.
    requests: Requests | None = None

    @property
    def not_reconfirmed(self) -> bool:
        return self.signature.status == Signature.Status.NEEDS_RECONFIRMATION

    @property
    def after_publication(self) -> bool:
        sign_on = self.signature.sign_on
        return sign_on is not None and sign_on.status == SignOn.Status.PUBLISHED


def review_items(signatures: Iterable[Signature]) -> list[ReviewItem]:
    """The review queue (or part of it) as staff read it: reasons worked out now, and each
    request through the open link beside the others for the same organization."""
    signatures = list(signatures)
    requests = open_link_requests(signatures)
    known = ReviewLookups.of(signatures)
    return [
        ReviewItem(
            signature=signature,
            reasons=review_reasons(signature, known),
            requests=requests.get((signature.sign_on_id or 0, signature.organization_id or 0)),
        )
        for signature in signatures
    ]


def review_queue_length() -> int:
    return review_queue().count()


def waiting_for_review(sign_on: SignOn) -> int:
    """How many of the sign-on's signatures wait in the review queue for staff to review them."""
    return review_queue().filter(sign_on=sign_on, status=Signature.Status.PENDING_REVIEW).count()


def held_for_reconfirmation(sign_on: SignOn) -> int:
    """How many of the sign-on's signatures wait for a reconfirmation of a changed text."""
    return sign_on.signatures.filter(status=Signature.Status.NEEDS_RECONFIRMATION).count()


def signatures_of_sign_ons() -> QuerySet[Signature]:
    """Signatures given through a sign-on (not those of an imported letter), with the sign-on and
    its letter: what staff approve, correct and reject."""
    return Signature.objects.filter(sign_on__isnull=False).select_related(
        "sign_on", "sign_on__letter"
    )


def ticked_signatures(pks: Iterable[int]) -> list[Signature]:
    """The signatures of sign-ons among these pks, in the order they were made."""
    return list(signatures_of_sign_ons().filter(pk__in=list(pks)).order_by("pk"))


# The kinds of signature staff filter the review queue by, as the filter's list names them.
REVIEW_KINDS = {
    "individual": "Individuals, in a personal capacity",
    "organization": "Organizations, invited or not",
    "invited": "Invited organizations",
    "open_link": "Organizations asking through the open link",
}
# Reasons a signature waits that the database can tell without reading the CRM row by row.
REVIEW_REASONS = {
    "not_reconfirmed": "Not reconfirmed before the close",
    "not_in_crm": "Organization not in the CRM yet",
    "after_publication": "Letter already published",
}
REVIEW_KIND_CONDITIONS = {
    "individual": Q(organization__isnull=True),
    "organization": Q(organization__isnull=False),
    "invited": Q(organization__isnull=False, invitation__isnull=False),
    "open_link": Q(organization__isnull=False, invitation__isnull=True),
}
REVIEW_REASON_CONDITIONS = {
    "not_reconfirmed": Q(status=Signature.Status.NEEDS_RECONFIRMATION),
    "not_in_crm": Q(organization__status=Organization.Status.PENDING),
    "after_publication": Q(sign_on__status=SignOn.Status.PUBLISHED),
}


@dataclass(frozen=True)
class ReviewFilter:
    """Which signatures of the review queue staff look at, and act on in bulk: a sign-on, a kind
    and a reason, each optional. Unknown values are dropped, not guessed at."""

    sign_on_id: int | None = None
    kind: str = ""
    reason: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "ReviewFilter":
        """The filter as the queue's form (or a bulk action's hidden fields) gives it."""
        sign_on = query.get("sign_on", "")
        kind = query.get("kind", "")
        reason = query.get("reason", "")
        return cls(
            sign_on_id=int(sign_on)
            if sign_on.isascii() and sign_on.isdigit() and len(sign_on) < 19
            else None,
            kind=kind if kind in REVIEW_KINDS else "",
            reason=reason if reason in REVIEW_REASONS else "",
        )

    @property
    def is_empty(self) -> bool:
        return self.sign_on_id is None and not self.kind and not self.reason

    def as_query(self) -> dict[str, str]:
        """The filter's non-empty fields, to carry in a link or a form."""
        query = {"sign_on": str(self.sign_on_id or ""), "kind": self.kind, "reason": self.reason}
        return {name: value for name, value in query.items() if value}

    def apply(self, signatures: QuerySet[Signature]) -> QuerySet[Signature]:
        if self.sign_on_id is not None:
            signatures = signatures.filter(sign_on_id=self.sign_on_id)
        if self.kind:
            signatures = signatures.filter(REVIEW_KIND_CONDITIONS[self.kind])
        if self.reason:
            signatures = signatures.filter(REVIEW_REASON_CONDITIONS[self.reason])
        return signatures

    def describe(self, sign_on: SignOn | None) -> str:
        """“Individuals, in a personal capacity · “Open letter on trade” · any reason”, for the
        confirmation page and the progress of a bulk action."""
        parts = [
            REVIEW_KINDS[self.kind] if self.kind else "Every kind",
            f"“{sign_on.letter.title}”" if sign_on is not None else "every sign-on",
            REVIEW_REASONS[self.reason].lower() if self.reason else "any reason",
        ]
        return " · ".join(parts)


def filtered_review_queue(chosen: ReviewFilter) -> QuerySet[Signature]:
    """The review queue narrowed to the filter, in the queue's order."""
    return chosen.apply(review_queue())


def sign_ons_in_review() -> QuerySet[SignOn]:
    """Sign-ons with signatures waiting for staff, for the queue's filter, newest first."""
    return (
        SignOn.objects.filter(pk__in=review_queue().order_by().values("sign_on_id"))
        .select_related("letter")
        .order_by("-pk")
    )


def unconfirmed_people() -> QuerySet[Signature]:
    """Requests of people through open links whose address was never confirmed, oldest first."""
    return unconfirmed_requests().filter(organization__isnull=True)


def unconfirmed_organizations() -> QuerySet[Any, Any]:
    """Each organization of a sign-on with requests never confirmed, by its first request:
    (sign_on_id, organization_id), for a page of them to be read with `unconfirmed_groups`."""
    return (
        unconfirmed_requests()
        .filter(organization__isnull=False)
        .order_by()
        .values("sign_on_id", "organization_id")
        .annotate(first=Min("created_at"), first_pk=Min("pk"))
        .order_by("first", "first_pk")
    )


def unconfirmed_groups(keys: Iterable[Mapping[str, Any]]) -> list[Requests]:
    """The requests never confirmed of these organizations (from `unconfirmed_organizations`),
    each organization's side by side, in the order given: one query."""
    order = [(key["sign_on_id"], key["organization_id"]) for key in keys]
    if not order:
        return []
    wanted = Q()
    for sign_on_id, organization_id in order:
        wanted |= Q(sign_on_id=sign_on_id, organization_id=organization_id)
    grouped: dict[tuple[int, int], list[Signature]] = defaultdict(list)
    for row in unconfirmed_requests().filter(wanted):
        assert row.sign_on_id is not None and row.organization_id is not None  # filtered on
        grouped[(row.sign_on_id, row.organization_id)].append(row)
    found = []
    for key in order:
        if rows := grouped.get(key):
            assert rows[0].organization is not None  # filtered on
            found.append(Requests(organization=rows[0].organization, requests=rows))
    return found
