"""Who a sign-on reaches: the organizations of its audience, the people at each, and who of
them inviting again would reach."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from coalition.crm.models import Coalition, Contact, Membership, Organization
from signatories.models import Invitation, SignOn


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


def planned_invitations(sign_on: SignOn, organizations: list[Organization]) -> list[Invitation]:
    """The invitations inviting these organizations would make now, unsaved: nobody twice."""
    if not organizations:
        return []
    already = set(sign_on.invitations.values_list("contact_id", flat=True))
    addresses = {e.casefold() for e in sign_on.invitations.values_list("email", flat=True)}
    people = people_to_invite(organizations, recipients=sign_on.recipients)
    new = []
    for organization in organizations:
        for contact in people.get(organization.pk, []):
            if contact.pk in already or contact.email.casefold() in addresses:
                continue
            addresses.add(contact.email.casefold())
            new.append(
                Invitation(
                    sign_on=sign_on,
                    organization=organization,
                    contact=contact,
                    name=contact.name,
                    email=contact.email,
                )
            )
    return new


@dataclass
class NotYetInvited:
    """Who of an open sign-on's audience has no link yet, and who cannot be given one."""

    # The people "Invite people added since" would email now, in the audience's order.
    invitations: list[Invitation]
    # Organizations nobody at was invited that now have someone to invite: they joined the
    # audience, or got a contact who may be emailed, after the sign-on opened.
    joined_later: list[Organization]
    # Organizations nobody at could be invited: no contact, or all opted out of email.
    unreachable: list[Organization]

    @property
    def by_organization(self) -> list[tuple[Organization, list[Contact]]]:
        """The people to invite, under their organization."""
        grouped: dict[int, tuple[Organization, list[Contact]]] = {}
        for invitation in self.invitations:
            assert invitation.contact is not None
            grouped.setdefault(invitation.organization.pk, (invitation.organization, []))[1].append(
                invitation.contact
            )
        return list(grouped.values())


def not_yet_invited(sign_on: SignOn) -> NotYetInvited:
    """Who inviting the audience again would reach, and who it cannot; nobody once it is not open.

    Read as `planned_invitations` plans, for the organizations where it may find someone: those
    of the audience with a contact who may be emailed and holds no link yet. Every other one
    (most of a sign-on of thousands, invited whole) would plan nobody, and reading all their
    contacts and every link's address to find that out is what the tracker would wait on.
    """
    if sign_on.status != SignOn.Status.OPEN:
        return NotYetInvited(invitations=[], joined_later=[], unreachable=[])
    audience = audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )
    invited = sign_on.invitations.values("organization_id")
    linked = sign_on.invitations.filter(contact__isnull=False).values("contact_id")
    may_find = Contact.objects.filter(email_opt_out=False).exclude(pk__in=linked)
    planned = planned_invitations(
        sign_on, list(audience.filter(pk__in=may_find.values("organization_id")))
    )
    reachable = {invitation.organization.pk for invitation in planned}
    uninvited = list(audience.exclude(pk__in=invited))
    return NotYetInvited(
        invitations=planned,
        joined_later=[o for o in uninvited if o.pk in reachable],
        unreachable=[o for o in uninvited if o.pk not in reachable],
    )
