"""The tally every count of a sign-on comes from: each organization and person, in one state.

One fact, one selector: the tracker's table and totals, its chart, its export and the signer's
"signed so far" all read `tally`.

Each organization's (or person's) response that counts is the latest of those that count most
(`responses_that_count`), and its state is `state_of` it. For a sign-on of a hundred thousand
signatures the database picks those responses and counts their states (`counting_responses`,
`state_in_database`: the same rules, written once more in SQL, and tested against each other);
the tracker's rows are read a page at a time (`tally_rows.TallyRows`). The invited organizations, a few
thousand at most, are counted in Python, each with its coalitions and tiers.
"""

import datetime
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Collate, Lower, RowNumber
from django.utils import timezone

from coalition.crm.models import Membership, Organization
from signatories.models import NEVER_CONFIRMED, Invitation, Signature, SignOn

from .chain import chain_head
from .review import requested_name

STATES = {
    "signed": "Signed",
    "pending_review": "Signed, pending review",
    "not_reconfirmed": "Signed, not reconfirmed before the close: for staff to decide",
    "needs_reconfirmation": "Signed, awaiting reconfirmation",
    "unconfirmed": "Asked to sign, email not confirmed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "rejected": "Rejected",
    "opened": "Opened, no response",
    "sent": "Invited, not opened",
}
# Each state falls in exactly one column: invited = signed + waiting for review + waiting for
# the signer + declined + withdrawn + not responded. Holds are counted by who must act
# (Signature.awaits): staff, or the signer (to confirm an address, to reconfirm a changed text).
COLUMN_OF_STATE = {
    "signed": "signed",
    "pending_review": "review",
    "not_reconfirmed": "review",
    "needs_reconfirmation": "signer",
    "unconfirmed": "signer",
    "declined": "declined",
    "withdrawn": "withdrawn",
    "rejected": "withdrawn",
    "opened": "not_responded",
    "sent": "not_responded",
}
COLUMNS = {
    "signed": "Signed",
    "review": "Waiting for staff review",
    "signer": "Waiting for the signer to confirm or reconfirm",
    "declined": "Declined",
    "withdrawn": "Withdrawn or rejected",
    "not_responded": "Not responded",
}


def state_of(
    signature: Signature | None, *, opened: bool = False, responses_open: bool = True
) -> str:
    """The state an organization (or an individual) is in, from its response that counts."""
    if signature is None:
        return "opened" if opened else "sent"
    if signature.status in (Signature.Status.WITHDRAWN, Signature.Status.REJECTED):
        return signature.status
    if signature.response == Signature.Response.DECLINED:
        return "declined"
    if signature.status == Signature.Status.APPROVED:
        return "signed"
    if signature.never_confirmed:
        return "unconfirmed"
    if (
        signature.status == Signature.Status.NEEDS_RECONFIRMATION
        and signature.awaits(responses_open=responses_open) == "staff"
    ):
        return "not_reconfirmed"  # the signer can no longer reconfirm: staff decide
    return signature.status  # pending review; needs reconfirmation, while the signer may


@dataclass
class Row:
    """One line of the tracker: an invited organization, an organization that asked to sign
    through the open link, or an individual."""

    name: str
    source: str  # "invited", "open_link" or "individual"
    state: str
    response: Signature | None
    organization: Organization | None = None
    invitations: list[Invitation] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def column(self) -> str:
        return COLUMN_OF_STATE[self.state]

    @property
    def opened(self) -> bool:
        return any(invitation.opened_at for invitation in self.invitations)

    @property
    def invited_at(self) -> datetime.datetime | None:
        return min((i.created_at for i in self.invitations), default=None)

    @property
    def opened_at(self) -> datetime.datetime | None:
        return min((i.opened_at for i in self.invitations if i.opened_at), default=None)

    @property
    def responded_at(self) -> datetime.datetime | None:
        return self.response.created_at if self.response else None


def _count(rows: Iterable["_Counted"]) -> dict[str, int]:
    rows = list(rows)
    columns = Counter(row.column for row in rows)
    return {
        "total": len(rows),
        "opened": sum(1 for row in rows if row.opened),
        **{column: columns[column] for column in COLUMNS},
    }


@dataclass(frozen=True)
class _Counted:
    """An invited organization as the counts need it: its state, whether anyone opened its
    invitation or answered, and its coalitions and tiers."""

    organization_id: int
    state: str
    opened: bool
    groups: tuple[tuple[str, str], ...]

    @property
    def column(self) -> str:
        return COLUMN_OF_STATE[self.state]


def _standing(signature: Signature) -> int:
    """How much a response counts for its organization: a confirmed active one most, then a
    request nobody confirmed (several may wait side by side), then one withdrawn or rejected."""
    if not signature.is_active:
        return 0
    return 1 if signature.never_confirmed else 2


def responses_that_count(signatures: Iterable[Signature]) -> dict[Any, Signature]:
    """Each organization's (or person's) response that counts: the latest of those that count
    most (`_standing`), given in the order they were made."""
    latest: dict[Any, Signature] = {}
    for signature in signatures:
        key = signature.organization_id or f"individual:{signature.signer_email_key}"
        current = latest.get(key)
        if current is None or _standing(signature) >= _standing(current):
            latest[key] = signature
    return latest


# `_standing`, `state_of` and the row's name and source, in SQL: what the database counts,
# filters and orders by. tests/signatories/test_tally.py holds each to its Python twin.
_STANDING_IN_DATABASE = Case(
    When(~Q(status__in=Signature.ACTIVE_STATUSES), then=Value(0)),
    When(NEVER_CONFIRMED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
# A person is known by their address; an organization by itself, whoever signed for it.
_PERSON_IN_DATABASE = Case(
    When(organization__isnull=True, then=F("signer_email_key")),
    default=Value(""),
    output_field=CharField(),
)
SOURCE_IN_DATABASE = Case(
    When(organization__isnull=True, then=Value("individual")),
    default=Value("open_link"),
    output_field=CharField(),
)
# The organization's name and status are looked up row by row, never joined: a join misled
# PostgreSQL (it expects one row of the responses that count where there are a hundred thousand)
# into comparing each row with every organization, 25 s for a page of people who signed.
_ITS_ORGANIZATION = Organization.objects.filter(pk=OuterRef("organization_id"))
NAME_IN_DATABASE = Case(
    When(organization__isnull=True, then=F("signer_name")),
    When(
        Q(Exists(_ITS_ORGANIZATION.filter(status=Organization.Status.PENDING)))
        & ~Q(organization_name=""),
        then=F("organization_name"),
    ),
    default=Subquery(_ITS_ORGANIZATION.values("name")[:1]),
    output_field=CharField(),
)


def state_in_database(*, responses_open: bool) -> Case:
    """`state_of` a response, as the database works it out."""
    status = Signature.Status
    lapsed = (
        []
        if responses_open
        else [When(status=status.NEEDS_RECONFIRMATION, then=Value("not_reconfirmed"))]
    )
    return Case(
        When(status__in=[status.WITHDRAWN, status.REJECTED], then=F("status")),
        When(response=Signature.Response.DECLINED, then=Value("declined")),
        When(status=status.APPROVED, then=Value("signed")),
        When(NEVER_CONFIRMED, then=Value("unconfirmed")),
        *lapsed,
        default=F("status"),
        output_field=CharField(),
    )


def in_name_order(name: str) -> Lower | Collate:
    """Names as Python orders them once casefolded: by code point, whatever the collation."""
    lowered = Lower(name)
    return Collate(lowered, "C") if connection.vendor == "postgresql" else lowered


def _ranked(
    sign_on: SignOn, *fields: str, keys: Q | None = None, **wanted: Case
) -> QuerySet[Signature, tuple[Any, ...]]:
    """The `fields` of each organization's (or person's) response that counts, as
    `counting_responses` picks it, and what is `wanted` of it (as `annotate` would have it): read
    where it is picked, without reading it again by its key."""
    return (
        Signature.objects.filter(keys or Q(), sign_on=sign_on)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("organization_id"), _PERSON_IN_DATABASE],
                order_by=[_STANDING_IN_DATABASE.desc(), F("created_at").desc(), F("pk").desc()],
            ),
            **wanted,
        )
        .filter(place=1)
        .values_list(*fields)
        .order_by()
    )


def counting_responses(sign_on: SignOn, *, keys: Q | None = None) -> QuerySet[Signature]:
    """Each organization's (or person's) response that counts, as `responses_that_count` picks
    it, picked by the database: the latest of those that count most.

    `keys` narrows whose responses are read (which organizations, which people), never which of
    their responses: a filter on the responses themselves goes on what this returns.
    """
    ranked = _ranked(sign_on, "pk", keys=keys)
    return Signature.objects.filter(sign_on=sign_on, pk__in=ranked).order_by()


def _states_counted(
    sign_on: SignOn, *, keys: Q, responses_open: bool
) -> list[tuple[str, str, int]]:
    """How many of these organizations and people are in each state, by how they came: counted
    where their responses are ranked, in one pass. (Django would group a window-filtered query
    inside the window, wrongly; and `counting_responses` reads each response that counts again
    by its key: a hundred thousand lookups at the size of the benchmark.)"""
    ranked = _ranked(
        sign_on,
        "source",
        "state",
        keys=keys,
        source=SOURCE_IN_DATABASE,
        state=state_in_database(responses_open=responses_open),
    )
    sql, params = ranked.query.sql_with_params()
    with connection.cursor() as cursor:
        # Only the SQL Django compiled for the queryset goes in; the values stay parameters.
        cursor.execute(
            f'SELECT "source", "state", COUNT(*) FROM ({sql}) "ranked" '  # noqa: S608
            'GROUP BY "source", "state"',
            params,
        )
        return [(source, state, count) for source, state, count in cursor.fetchall()]


def kept_until_the_next_event[T](
    sign_on: SignOn, what: str, read: Callable[[], T], *, head: tuple[str, int] | None = None
) -> T:
    """What `read` reads of the sign-on's responses, kept until its record has another event.

    Every change of a signature or an invitation appends an event (the chain's check finds any
    that did not), so a value read at one head of the record holds until the next: a sign-on of
    a hundred thousand signatures is read whole once per change, not once per view. The head is
    read afresh, whatever the `sign_on` given, unless `head` says which it was read at.
    """
    head = head or chain_head(sign_on)
    digest = hashlib.sha256(what.encode()).hexdigest()[:32]
    key = f"tally:{sign_on.pk}:{head[1]}:{head[0]}:{digest}"
    kept = cache.get(key, _MISSING)
    if kept is not _MISSING:
        return cast("T", kept)
    value = read()
    cache.set(key, value, timeout=KEPT_FOR_SECONDS)
    return value


_MISSING = object()
KEPT_FOR_SECONDS = 24 * 3600


def invited_ids(sign_on: SignOn) -> QuerySet[Invitation, Any]:
    return Invitation.objects.filter(sign_on=sign_on).values("organization_id")


def _counted_invited(sign_on: SignOn, *, responses_open: bool) -> list[_Counted]:
    """Each invited organization with its state, in the tracker's order (by sort name): three
    queries, the invitations and memberships as plain values."""
    invited = invited_ids(sign_on)
    opened: dict[int, bool] = {}
    for organization_id, opened_at in (
        Invitation.objects.filter(sign_on=sign_on)
        .order_by("organization__sort_name", "organization_id", "name")
        .values_list("organization_id", "opened_at")
    ):
        opened[organization_id] = opened.get(organization_id, False) or opened_at is not None
    states: dict[int, str] = dict(
        _ranked(
            sign_on,
            "organization_id",
            "state",
            keys=Q(organization_id__in=invited),
            state=state_in_database(responses_open=responses_open),
        )
    )
    tiers = dict(Membership.Tier.choices)
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for organization_id, coalition, tier in (
        Membership.objects.filter(
            coalition__in=sign_on.coalitions.all(),
            organization_id__in=invited,
            left_on__isnull=True,
        )
        .order_by("coalition__name", "pk")
        .values_list("organization_id", "coalition__name", "tier")
    ):
        groups[organization_id].append((coalition, str(tiers.get(tier, tier))))
    return [
        _Counted(
            organization_id=organization_id,
            state=states.get(organization_id) or ("opened" if was_opened else "sent"),
            opened=was_opened or organization_id in states,
            groups=tuple(groups.get(organization_id) or [("Hand-picked", "—")]),
        )
        for organization_id, was_opened in opened.items()
    ]


def _states_of_others(
    sign_on: SignOn, *, responses_open: bool, head: tuple[str, int]
) -> dict[str, Counter[str]]:
    """How many organizations and people outside the invited audience are in each state, by
    how they came ("open_link", "individual"): one query, kept until the record's next event."""

    def read() -> dict[str, Counter[str]]:
        found: dict[str, Counter[str]] = {"open_link": Counter(), "individual": Counter()}
        keys = ~Q(organization_id__in=invited_ids(sign_on))
        for source, state, count in _states_counted(
            sign_on, keys=keys, responses_open=responses_open
        ):
            found[source][state] += count
        return found

    return kept_until_the_next_event(
        sign_on, f"states of others, open: {responses_open}", read, head=head
    )


@dataclass
class Tally:
    """Every organization and individual of a sign-on, with its one state, and the counts.

    The counts are read at once; the rows (`invited`, `open_link`, `rows`) only when asked for,
    and a page of them through `TallyFilter.rows`.
    """

    sign_on: SignOn
    responses_open: bool
    counted_invited: list[_Counted]
    # How many organizations and people outside the audience are in each state, by source.
    others: dict[str, Counter[str]]
    # The head of the record the counts were read at: what the rows of the same counts are kept by.
    head: tuple[str, int] | None = None
    # When the counts were read, where they may be older than the page showing them
    # (`tally_as_it_stands`); None where they were read for it.
    read_at: datetime.datetime | None = None
    totals: dict[str, int] = field(init=False)
    open_link_totals: dict[str, int] = field(init=False)
    by_group: list[tuple[str, str, dict[str, int]]] = field(init=False)

    def __post_init__(self) -> None:
        self.totals = _count(self.counted_invited)
        states = self.others["open_link"] + self.others["individual"]
        columns: Counter[str] = Counter()
        for state, count in states.items():
            columns[COLUMN_OF_STATE[state]] += count
        total = sum(states.values())
        self.open_link_totals = {
            "total": total,
            "opened": total,  # each came with a response
            **{column: columns[column] for column in COLUMNS},
        }
        by_group_rows: dict[tuple[str, str], list[_Counted]] = defaultdict(list)
        for row in self.counted_invited:
            for group in row.groups:
                by_group_rows[group].append(row)
        tier_rank = {label: rank for rank, label in enumerate(Membership.Tier.labels)}
        ordered = sorted(
            by_group_rows.items(), key=lambda item: (item[0][0], tier_rank.get(item[0][1], 9))
        )
        self.by_group = [(coalition, tier, _count(rows)) for (coalition, tier), rows in ordered]

    @cached_property
    def invited(self) -> list[Row]:
        from .tally_rows import TallyFilter

        return list(TallyFilter(source="invited").rows(self))

    @cached_property
    def open_link(self) -> list[Row]:
        """The organizations and people outside the invited audience: individuals, then
        organizations, each by name."""
        from .tally_rows import TallyFilter

        others = TallyFilter().rows(self)
        return list(others[len(self.counted_invited) :])

    @property
    def rows(self) -> list[Row]:
        return [*self.invited, *self.open_link]

    @property
    def seconds_old(self) -> int | None:
        """How long ago the counts were read, where they may be older than the page."""
        if self.read_at is None:
            return None
        return max(0, int((timezone.now() - self.read_at).total_seconds()))

    @property
    def awaiting_reconfirmation(self) -> int:
        invited = sum(1 for row in self.counted_invited if row.state == "needs_reconfirmation")
        return invited + sum(states["needs_reconfirmation"] for states in self.others.values())

    @property
    def waiting_for_review(self) -> int:
        """Holds for staff to settle: the review queue's share of this sign-on."""
        return self.totals["review"] + self.open_link_totals["review"]

    @property
    def waiting_for_signer(self) -> int:
        """Holds for signers to lift: an address to confirm, a changed text to reconfirm."""
        return self.totals["signer"] + self.open_link_totals["signer"]

    @property
    def printed(self) -> int:
        """How many lines print now: every approved signature, invited or not."""
        return self.totals["signed"] + self.open_link_totals["signed"]

    @property
    def printed_organizations(self) -> int:
        return self.printed - self.others["individual"]["signed"]


def _row_name(response: Signature) -> str:
    if response.organization is None:
        return response.signer_name
    return requested_name(response, with_acronym=False)


def invited_rows(
    sign_on: SignOn,
    invitations: list[Invitation],
    latest: dict[Any, Signature],
    *,
    responses_open: bool,
) -> list[Row]:
    """A row for each invited organization, in the order of the invitations given, with its
    response that counts (from `latest`) and its coalitions and tiers: one query."""
    by_organization: dict[int, list[Invitation]] = defaultdict(list)
    for invitation in invitations:
        by_organization[invitation.organization_id].append(invitation)
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    tiers = dict(Membership.Tier.choices)
    for organization_id, coalition, tier in Membership.objects.filter(
        coalition__in=sign_on.coalitions.all(),
        organization_id__in=list(by_organization),
        left_on__isnull=True,
    ).values_list("organization_id", "coalition__name", "tier"):
        groups[organization_id].append((coalition, str(tiers.get(tier, tier))))
    invited = []
    for organization_id, people in by_organization.items():
        response = latest.get(organization_id)
        invited.append(
            Row(
                name=people[0].organization.name,
                source="invited",
                state=state_of(
                    response,
                    opened=any(p.opened_at for p in people),
                    responses_open=responses_open,
                ),
                response=response,
                organization=people[0].organization,
                invitations=people,
                groups=groups.get(organization_id) or [("Hand-picked", "—")],
            )
        )
    return invited


def open_link_row(response: Signature, *, responses_open: bool) -> Row:
    individual = response.organization is None
    return Row(
        name=_row_name(response),
        source="individual" if individual else "open_link",
        state=state_of(response, responses_open=responses_open),
        response=response,
        organization=response.organization,
    )


def invitations_in_order(sign_on: SignOn) -> list[Invitation]:
    return list(
        sign_on.invitations.select_related("organization", "contact").order_by(
            "organization__sort_name", "organization_id", "name"
        )
    )


def tally(sign_on: SignOn) -> Tally:
    """Every count shown of a sign-on, in five queries, whatever its size."""
    responses_open = sign_on.accepts_responses
    head = chain_head(sign_on)
    return Tally(
        sign_on=sign_on,
        responses_open=responses_open,
        counted_invited=_counted_invited(sign_on, responses_open=responses_open),
        others=_states_of_others(sign_on, responses_open=responses_open, head=head),
        head=head,
    )


# How the tracker's list of organizations and people is narrowed: by the column of the counts a
# row falls in (its state), and by how it came.
