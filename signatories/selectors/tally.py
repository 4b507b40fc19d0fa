"""The tally every count of a sign-on comes from: each organization and person, in one state.

One fact, one selector: the tracker's table and totals, its chart, its export and the signer's
"signed so far" all read `tally`.
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coalition.crm.models import Membership, Organization
from signatories.models import Invitation, Signature, SignOn

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


def _count(rows: list[Row]) -> dict[str, int]:
    columns = Counter(row.column for row in rows)
    return {
        "total": len(rows),
        "opened": sum(1 for row in rows if row.opened or row.response is not None),
        **{column: columns[column] for column in COLUMNS},
    }


@dataclass
class Tally:
    """Every organization and individual of a sign-on, with its one state, and the counts."""

    invited: list[Row]
    open_link: list[Row]
    totals: dict[str, int]
    open_link_totals: dict[str, int]
    by_group: list[tuple[str, str, dict[str, int]]]

    @property
    def rows(self) -> list[Row]:
        return [*self.invited, *self.open_link]

    @property
    def awaiting_reconfirmation(self) -> int:
        return sum(1 for row in self.rows if row.state == "needs_reconfirmation")

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
        return self.printed - sum(
            1 for row in self.open_link if row.source == "individual" and row.state == "signed"
        )


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


def _row_name(response: Signature) -> str:
    if response.organization is None:
        return response.signer_name
    return requested_name(response, with_acronym=False)


def tally(sign_on: SignOn) -> Tally:
    """The state of everyone in a sign-on and every count shown of it, in four queries."""
    invitations = list(
        sign_on.invitations.select_related("organization", "contact").order_by(
            "organization__sort_name", "organization_id", "name"
        )
    )
    signatures = list(
        Signature.objects.filter(sign_on=sign_on)
        .select_related("organization", "invitation")
        .order_by("created_at", "pk")
    )
    latest = responses_that_count(signatures)
    responses_open = sign_on.accepts_responses
    by_organization: dict[int, list[Invitation]] = defaultdict(list)
    for invitation in invitations:
        by_organization[invitation.organization_id].append(invitation)
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    memberships = Membership.objects.filter(
        coalition__in=sign_on.coalitions.all(),
        organization_id__in=list(by_organization),
        left_on__isnull=True,
    ).select_related("coalition")
    for membership in memberships:
        groups[membership.organization_id].append(
            (membership.coalition.name, membership.get_tier_display())
        )
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
    open_link = []
    for key, response in latest.items():
        if key in by_organization:
            continue
        individual = response.organization is None
        open_link.append(
            Row(
                name=_row_name(response),
                source="individual" if individual else "open_link",
                state=state_of(response, responses_open=responses_open),
                response=response,
                organization=response.organization,
            )
        )
    open_link.sort(key=lambda row: (row.source, row.name.casefold()))
    by_group_rows: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in invited:
        for group in row.groups:
            by_group_rows[group].append(row)
    tier_rank = {label: rank for rank, label in enumerate(Membership.Tier.labels)}
    ordered = sorted(
        by_group_rows.items(), key=lambda item: (item[0][0], tier_rank.get(item[0][1], 9))
    )
    return Tally(
        invited=invited,
        open_link=open_link,
        totals=_count(invited),
        open_link_totals=_count(open_link),
        by_group=[(coalition, tier, _count(rows)) for (coalition, tier), rows in ordered],
    )


def signed_so_far(sign_on: SignOn, counted: "Tally | None" = None) -> str:
    """“3 organizations and 1 individual have signed so far.”, for signers who may see it."""
    counts = counted or tally(sign_on)
    organizations = counts.printed_organizations
    individuals = counts.printed - organizations
    parts = [f"{organizations} organization{'s' if organizations != 1 else ''}"]
    if individuals:
        parts.append(f"{individuals} individual{'s' if individuals != 1 else ''}")
    verb = "has" if counts.printed == 1 else "have"
    return f"{' and '.join(parts)} {verb} signed so far."


@dataclass(frozen=True)
class GoalPart:
    label: str  # "organizations", "individuals"
    signed: int
    goal: int

    @property
    def reached(self) -> bool:
        return self.signed >= self.goal

    @property
    def percent(self) -> int:
        return min(100, self.signed * 100 // self.goal) if self.goal else 100


@dataclass(frozen=True)
class Goal:
    """How far a sign-on is from its goal, in the tally's numbers: what prints now."""

    parts: list[GoalPart]

    @property
    def reached(self) -> bool:
        return bool(self.parts) and all(part.reached for part in self.parts)


def goal_of(sign_on: SignOn, counted: Tally) -> Goal | None:
    """The sign-on's goal and its progress, from the tally every count comes from; None if it
    has none."""
    if not sign_on.has_goal:
        return None
    parts = []
    if sign_on.goal_organizations:
        parts.append(
            GoalPart("organizations", counted.printed_organizations, sign_on.goal_organizations)
        )
    if sign_on.goal_individuals:
        individuals = counted.printed - counted.printed_organizations
        parts.append(GoalPart("individuals", individuals, sign_on.goal_individuals))
    return Goal(parts)
