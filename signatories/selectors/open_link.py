"""Requests to sign through an open link, as staff compare them: each organization's side by side,
and those whose address was never confirmed."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from coalition.crm.models import Organization
from signatories.models import NEVER_CONFIRMED, Signature, SignOn


def unconfirmed_requests() -> QuerySet[Signature]:
    """Requests through open links whose address was never confirmed: they never reach review."""
    return (
        Signature.objects.filter(NEVER_CONFIRMED, sign_on__isnull=False)
        .exclude(sign_on__status=SignOn.Status.CANCELLED)
        .select_related("organization", "sign_on", "sign_on__letter")
        .order_by("created_at", "pk")
    )


# What each request through the open link said, as staff compare them.
REQUEST_DETAILS = {
    "organization_name": "Organization, as asked",
    "acronym": "Acronym",
    "website": "Website",
    "display_name": "Prints as",
    "signer_name": "Signer",
    "signer_title": "Title",
    "signer_email": "Email",
}


@dataclass(frozen=True)
class RequestDetail:
    name: str
    label: str
    values: list[str]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class Requests:
    """The standing requests through the open link for one organization of one sign-on, oldest
    first: each with its own details, side by side where there are several."""

    organization: Organization
    requests: list[Signature]

    @property
    def details(self) -> list[RequestDetail]:
        return [
            RequestDetail(
                name=name,
                label=label,
                values=[
                    str(getattr(request, name) or "")
                    or (self.organization.name if name == "organization_name" else "")
                    for request in self.requests
                ],
            )
            for name, label in REQUEST_DETAILS.items()
        ]

    @property
    def disagree(self) -> bool:
        """Whether the requests say different things of the organization (not of their signers)."""
        of_organization = {"organization_name", "acronym", "website", "display_name"}
        return any(d.differs for d in self.details if d.name in of_organization)


def own_open_link_request(sign_on: SignOn, pk: int) -> Signature | None:
    """The request through the open link that this browser made (its session keeps the id)."""
    return Signature.objects.filter(pk=pk, sign_on=sign_on).first()


def open_link_requests(signatures: Iterable[Signature]) -> dict[tuple[int, int], Requests]:
    """The standing open-link requests for the organizations of these signatures, by sign-on and
    organization, in one query."""
    wanted = {
        (s.sign_on_id, s.organization_id)
        for s in signatures
        if s.invitation_id is None and s.organization_id is not None and s.sign_on_id is not None
    }
    if not wanted:
        return {}
    found: dict[tuple[int, int], list[Signature]] = defaultdict(list)
    rows = (
        Signature.objects.filter(
            sign_on_id__in={sign_on for sign_on, _ in wanted},
            organization_id__in={organization for _, organization in wanted},
            invitation__isnull=True,
            status__in=Signature.ACTIVE_STATUSES,
        )
        .select_related("organization")
        .order_by("created_at", "pk")
    )
    for row in rows:
        assert row.sign_on_id is not None and row.organization_id is not None  # filtered on
        key = (row.sign_on_id, row.organization_id)
        if key in wanted:
            found[key].append(row)
    return {key: _requests_of(requests) for key, requests in found.items()}


def _requests_of(rows: list[Signature]) -> Requests:
    """One organization's requests, grouped by their organization (so each has one)."""
    organization = rows[0].organization
    if organization is None:
        raise ValueError("requests of people are not grouped by organization")
    return Requests(organization=organization, requests=rows)


def unconfirmed_by_organization() -> tuple[list[Requests], list[Signature]]:
    """Requests never confirmed: each organization's together, side by side; and people's."""
    people: list[Signature] = []
    grouped: dict[tuple[int, int], list[Signature]] = defaultdict(list)
    for row in unconfirmed_requests():
        if row.organization_id is None or row.sign_on_id is None:
            people.append(row)
        else:
            grouped[(row.sign_on_id, row.organization_id)].append(row)
    groups = [_requests_of(rows) for rows in grouped.values()]
    return groups, people
