"""Read-side logic for the staff tracker: each organization's state, counts and the chart."""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from coalition.models import Membership

from .models import Event, Invitation, Signature, SignOn

STATES = {
    "signed": "Signed",
    "pending_review": "Signed, pending review",
    "needs_reconfirmation": "Signed, awaiting reconfirmation",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "rejected": "Rejected",
    "opened": "Opened, no response",
    "sent": "Invited, not opened",
}
COUNT_COLUMNS = ("invited", "opened", "signed", "declined", "pending", "not_responded")


@dataclass
class OrganizationRow:
    invitation: Invitation
    state: str
    response: Signature | None
    groups: list[tuple[str, str]] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def _state(invitation: Invitation, response: Signature | None) -> str:
    if response is not None:
        if response.response == Signature.Response.DECLINED and response.is_active:
            return "declined"
        if response.status == Signature.Status.NEEDS_RECONFIRMATION:
            return "needs_reconfirmation"
        if response.is_active:
            return "signed" if response.status == Signature.Status.APPROVED else "pending_review"
        return response.status  # withdrawn or rejected, with no active response since
    return "opened" if invitation.opened_at else "sent"


def organization_rows(sign_on: SignOn) -> list[OrganizationRow]:
    """Every invited organization with its state and latest response, in three queries."""
    invitations = list(
        sign_on.invitations.select_related("organization").order_by("organization__sort_name")
    )
    latest: dict[int, Signature] = {}
    for signature in Signature.objects.filter(sign_on=sign_on).order_by("created_at", "pk"):
        current = latest.get(signature.organization_id)
        # An active response wins over an older or inactive one.
        if current is None or signature.is_active or not current.is_active:
            latest[signature.organization_id] = signature
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    memberships = Membership.objects.filter(
        coalition__in=sign_on.coalitions.all(),
        organization_id__in=[i.organization_id for i in invitations],
        left_on__isnull=True,
    ).select_related("coalition")
    for membership in memberships:
        groups[membership.organization_id].append(
            (membership.coalition.name, membership.get_tier_display())
        )
    rows = []
    for invitation in invitations:
        response = latest.get(invitation.organization_id)
        rows.append(
            OrganizationRow(
                invitation=invitation,
                state=_state(invitation, response),
                response=response,
                groups=groups.get(invitation.organization_id) or [("Hand-picked", "—")],
            )
        )
    return rows


def _count(rows: list[OrganizationRow]) -> dict[str, int]:
    states = Counter(row.state for row in rows)
    return {
        "invited": len(rows),
        "opened": sum(1 for row in rows if row.invitation.opened_at or row.response),
        "signed": states["signed"] + states["pending_review"] + states["needs_reconfirmation"],
        "declined": states["declined"],
        "pending": states["pending_review"],
        "not_responded": states["opened"]
        + states["sent"]
        + states["withdrawn"]
        + states["rejected"],
    }


def counts(rows: list[OrganizationRow]) -> tuple[dict[str, int], list[tuple[str, str, dict]]]:
    """Totals, and the same counts by coalition and tier."""
    by_group: dict[tuple[str, str], list[OrganizationRow]] = defaultdict(list)
    for row in rows:
        for group in row.groups:
            by_group[group].append(row)
    tier_rank = {label: rank for rank, label in enumerate(Membership.Tier.labels)}
    ordered = sorted(by_group.items(), key=lambda item: (item[0][0], tier_rank.get(item[0][1], 9)))
    return _count(rows), [(coalition, tier, _count(group)) for (coalition, tier), group in ordered]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    signed_points: str
    declined_points: str
    maximum: int
    start: datetime.datetime
    end: datetime.datetime
    total_signed: int
    total_declined: int


def response_chart(sign_on: SignOn, *, width: int = 640, height: int = 200) -> Chart:
    """Cumulative signatures and declines over time, as SVG polyline points (no JavaScript)."""
    deltas = {"signed": ("signed", 1), "declined": ("declined", 1), "withdrawn": ("signed", -1)}
    events = list(
        Event.objects.filter(sign_on=sign_on, action__in=[*deltas, "rejected", "decline_replaced"])
        .order_by("sequence")
        .values_list("action", "created_at")
    )
    start = sign_on.opened_at or sign_on.created_at
    end = min(max(timezone.now(), start + datetime.timedelta(hours=1)), sign_on.deadline)
    if sign_on.closed_at:
        end = sign_on.closed_at
    if events:
        end = max(end, events[-1][1])
    span = max((end - start).total_seconds(), 1.0)
    totals = {"signed": 0, "declined": 0}
    series: dict[str, list[tuple[float, int]]] = {"signed": [(0.0, 0)], "declined": [(0.0, 0)]}
    for action, moment in events:
        if action == "rejected":
            kind, delta = "signed", -1
        elif action == "decline_replaced":
            kind, delta = "declined", -1
        else:
            kind, delta = deltas[action]
        x = (moment - start).total_seconds() / span
        series[kind].append((x, totals[kind]))
        totals[kind] += delta
        series[kind].append((x, totals[kind]))
    for kind in series:
        series[kind].append((1.0, totals[kind]))
    maximum = max(1, *(value for points in series.values() for _, value in points))
    pad = 30

    def points(kind: str) -> str:
        return " ".join(
            f"{pad + x * (width - 2 * pad):.1f},{height - pad - value * (height - 2 * pad) / maximum:.1f}"
            for x, value in series[kind]
        )

    return Chart(
        width=width,
        height=height,
        signed_points=points("signed"),
        declined_points=points("declined"),
        maximum=maximum,
        start=start,
        end=end,
        total_signed=totals["signed"],
        total_declined=totals["declined"],
    )


def open_link_counts(sign_on: SignOn) -> dict[str, int]:
    """Active responses that came without an invitation: organizations' requests and individuals."""
    active = Signature.objects.filter(
        sign_on=sign_on, invitation__isnull=True, status__in=Signature.ACTIVE_STATUSES
    )
    return active.aggregate(
        requests=Count("pk", filter=Q(organization__isnull=False)),
        individuals=Count("pk", filter=Q(organization__isnull=True)),
    )
