"""Who a sign-on reaches: the organizations of its audience and the people at each."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from coalition.crm.models import Coalition, Contact, Membership, Organization
from signatories.models import SignOn


def audience_organizations(
    *,
    coalitions: Iterable[Coalition] = (),
    tiers: Iterable[str] = (),
    organizations: Iterable[Organization] = (),
) -> QuerySet[Organization]:
    """The active organizations in the chosen coalitions and tiers, plus those hand-picked."""
    coalitions, tiers = list(coalitions), list(tiers)
    wanted = Q(pk__in=[org.pk for org in organizations])
    if coalitions:
        members = Membership.objects.filter(coalition__in=coalitions, left_on__isnull=True)
        if tiers:
            members = members.filter(tier__in=tiers)
        wanted |= Q(pk__in=members.values("organization_id"))
    return Organization.objects.filter(wanted, status=Organization.Status.ACTIVE).order_by(
        "sort_name", "pk"
    )


def people_to_invite(
    organizations: Iterable[Organization], *, recipients: str
) -> dict[int, list[Contact]]:
    """Who at each organization gets a link of their own; nobody who opted out of email.

    With SIGNERS: the authorized signers, or the primary contact where none is listed, or
    everyone where there is neither, so that no organization goes uninvited for want of a flag.
    """
    ids = [org.pk for org in organizations]
    people: dict[int, list[Contact]] = {pk: [] for pk in ids}
    for contact in Contact.objects.filter(organization_id__in=ids, email_opt_out=False).order_by(
        "-is_authorized_signer", "-is_primary", "name", "pk"
    ):
        people[contact.organization_id].append(contact)
    if recipients == SignOn.Recipients.ALL:
        return people
    for pk, contacts in people.items():
        chosen = [c for c in contacts if c.is_authorized_signer] or [
            c for c in contacts if c.is_primary
        ]
        if chosen:
            people[pk] = chosen
    return people


def audience_of(sign_on: SignOn) -> QuerySet[Organization]:
    """The sign-on's audience as it stands now: its coalitions and tiers, and those hand-picked."""
    return audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )


def audience_without_invitation(sign_on: SignOn) -> list[Organization]:
    """Organizations of an open sign-on's audience that nobody at could be invited: no contact,
    or all opted out. Staff add a contact, then invite again."""
    if sign_on.status != SignOn.Status.OPEN:
        return []
    return list(audience_of(sign_on).exclude(pk__in=sign_on.invitations.values("organization_id")))


def active_organizations_among(pks: Iterable[int]) -> list[Organization]:
    """The active organizations of these, by pk: those a sign-on's audience may hand-pick."""
    return list(
        Organization.objects.filter(status=Organization.Status.ACTIVE, pk__in=list(pks)).order_by(
            "pk"
        )
    )
