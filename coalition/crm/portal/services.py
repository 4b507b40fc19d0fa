"""Every write of the member portal: accounts for known contacts, and profile proposals."""

from dataclasses import dataclass
from pathlib import PurePath

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.log_actions import log

from coalition.crm.errors import CoalitionError
from coalition.crm.models import Contact, Organization, ProfileProposal, name_key
from coalition.crm.services import update_organization

from .selectors import contacts_reaching
from .tasks import email_proposal_decision

PROPOSE_ACTION = "coalition.propose_profile_change"
APPROVE_ACTION = "coalition.approve_profile_change"
REJECT_ACTION = "coalition.reject_profile_change"


class ProposalError(CoalitionError):
    """A profile proposal that cannot be made or decided as things stand."""


# ---------------------------------------------------------------------------------------------
# Accounts


def address_for_login_code(address: str) -> str:
    """Where a sign-in code asked for `address` goes, making the account of a known contact.

    An address with an account already (staff, or a contact who signed in before) is left as it
    is. One that reaches the mailbox of a contact of an active organization becomes that
    contact's address on file, with an account linked to the contact, which never has staff
    rights: the code only ever goes to an address staff entered. Any other address is left as it
    is, and allauth answers it exactly as it answers an address it knows, sending nothing.
    """
    # The same three reads for every address, on file or not: the answer takes as long.
    recorded = EmailAddress.objects.filter(email__iexact=address).exists()
    users = list(get_user_model().objects.filter(email__iexact=address)[:2])
    contacts = contacts_reaching(address)
    if recorded or users:
        if not recorded and len(users) == 1:
            _record_address(users[0])
        return address
    if not contacts:
        return address
    if _has_account(contacts[0].email):  # typed another way: the account has it as on file
        return contacts[0].email
    return _ensure_account(contacts).email


def _record_address(user: User) -> None:
    """An account made in the admin (staff) has its address on the user only: allauth records it
    here, unverified, so that the code about to be typed verifies it. allauth asks a verified
    address for a fresh code before a second factor is added; without one, staff who must
    enrol could never do so. (An address two accounts share is left to allauth's own rules.)"""
    EmailAddress.objects.get_or_create(
        user=user,
        email=user.email,
        defaults={
            "verified": False,
            "primary": not EmailAddress.objects.filter(user=user, primary=True).exists(),
        },
    )


def _has_account(address: str) -> bool:
    return (
        EmailAddress.objects.filter(email__iexact=address).exists()
        or get_user_model().objects.filter(email__iexact=address).exists()
    )


def _ensure_account(contacts: list[Contact]) -> Contact:
    """The first of one person's contact rows, with an account linked to it and its address."""
    with transaction.atomic():
        # Locked, so that two requests at once make one account.
        locked = {
            contact.pk: contact
            for contact in Contact.objects.select_for_update().filter(
                pk__in=[contact.pk for contact in contacts]
            )
        }
        rows = [locked[contact.pk] for contact in contacts if contact.pk in locked]
        contact = rows[0]
        linked = next((row for row in rows if row.user_id is not None), None)
        user = linked.user if linked is not None else None
        if user is None:
            user = get_user_model().objects.create_user(
                username=_free_username(f"contact-{contact.pk}"),
                email=contact.email,
                first_name=contact.name[:150],
            )
            contact.user = user
            contact.save(update_fields=["user"])
        address = contact.email.lower()
        if not EmailAddress.objects.filter(user=user, email__iexact=address).exists():
            EmailAddress.objects.create(
                user=user,
                email=address,
                primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
                verified=False,  # the first code typed in verifies it
            )
    return contact


def _free_username(base: str) -> str:
    taken = set(
        get_user_model()
        .objects.filter(username__startswith=base)
        .values_list("username", flat=True)
    )
    username, n = base, 2
    while username in taken:
        username, n = f"{base}-{n}", n + 1
    return username


# ---------------------------------------------------------------------------------------------
# Profile proposals


@dataclass(frozen=True)
class ProfileChange:
    """A contact's proposed profile, cleaned once by the portal's form: the fields as they
    would print, a new logo already written afresh (coalition.core.images.clean_logo), a message."""

    fields: dict[str, str]
    logo: UploadedFile[bytes] | None = None
    message: str = ""


def _name_taken(name: str, organization: Organization) -> bool:
    return Organization.objects.filter(name_key=name_key(name)).exclude(pk=organization.pk).exists()


def propose_profile_change(*, contact: Contact, change: ProfileChange) -> ProfileProposal:
    """Record a contact's proposed change to their organization's profile, for staff to review."""
    organization = contact.organization
    changes = {
        name: value.strip()
        for name, value in change.fields.items()
        if name in ProfileProposal.FIELDS and value.strip() != getattr(organization, name)
    }
    if not changes and change.logo is None:
        raise ProposalError("Nothing to propose: change a field or upload a new logo.")
    if "name" in changes and not changes["name"]:
        raise ProposalError("Name: an organization needs a name.")
    if "name" in changes and _name_taken(changes["name"], organization):
        raise ProposalError(
            f"Name: another organization is already called “{changes['name']}”. "
            "If that is yours, tell the secretariat in the message instead."
        )
    with transaction.atomic():
        proposal = ProfileProposal(
            organization=organization,
            contact=contact,
            proposed_by=f"{contact.name} <{contact.email}>",
            changes=changes,
            previous={name: getattr(organization, name) for name in changes},
            message=change.message.strip(),
        )
        if change.logo is not None:
            proposal.logo.save(PurePath(change.logo.name or "logo").name, change.logo, save=False)
        proposal.save()
        log(
            instance=organization,
            action=PROPOSE_ACTION,
            user=contact.user,
            data={"proposal": proposal.pk, "fields": sorted(changes), "logo": bool(proposal.logo)},
        )
    return proposal


def _decide(proposal: ProfileProposal, target: str) -> ProfileProposal:
    locked = (
        ProfileProposal.objects.select_for_update()
        .select_related("organization")
        .get(pk=proposal.pk)
    )
    if not ProfileProposal.can_transition(locked.status, target):
        raise ProposalError(
            f"This proposal was already {locked.get_status_display().lower()}; "
            "it cannot be decided again."
        )
    return locked


def approve_profile_proposal(
    *, proposal: ProfileProposal, user: User | None, note: str = ""
) -> ProfileProposal:
    """Apply a proposed profile change to its organization, and record who approved it."""
    with transaction.atomic():
        proposal = _decide(proposal, ProfileProposal.Status.APPROVED)
        organization = Organization.objects.select_for_update().get(pk=proposal.organization_id)
        new_name = proposal.changes.get("name")
        if new_name is not None and _name_taken(new_name, organization):
            raise ProposalError(
                f"Name: another organization is already called “{new_name}”. "
                "Merge the two, or reject this proposal with a note."
            )
        image = None
        if proposal.logo:
            with proposal.logo.open("rb") as stored:
                image = get_image_model().objects.create(
                    title=f"{new_name or organization.name} logo"[:255],
                    file=ImageFile(stored, name=PurePath(proposal.logo.name or "logo").name),
                )
        update_organization(organization, proposal.changes, logo=image)
        proposal.status = ProfileProposal.Status.APPROVED
        _reviewed(proposal, user, note)
        log(
            instance=organization,
            action=APPROVE_ACTION,
            user=user,
            data={
                "proposal": proposal.pk,
                "changes": proposal.changes,
                "previous": proposal.previous,
                "logo": organization.logo_id if proposal.logo else None,
            },
        )
    return proposal


def reject_profile_proposal(
    *, proposal: ProfileProposal, user: User | None, note: str
) -> ProfileProposal:
    """Turn down a proposed profile change, telling the contact why."""
    if not note.strip():
        raise ProposalError("Note: say why, so that the contact knows what to do instead.")
    with transaction.atomic():
        proposal = _decide(proposal, ProfileProposal.Status.REJECTED)
        proposal.status = ProfileProposal.Status.REJECTED
        _reviewed(proposal, user, note)
        log(
            instance=proposal.organization,
            action=REJECT_ACTION,
            user=user,
            data={"proposal": proposal.pk, "note": proposal.review_note},
        )
    return proposal


def _reviewed(proposal: ProfileProposal, user: User | None, note: str) -> None:
    """Record the decision; once it is committed, the worker emails it to the contact."""
    proposal.reviewed_by = user
    proposal.reviewed_at = timezone.now()
    proposal.review_note = note.strip()
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    proposal_id = proposal.pk
    transaction.on_commit(lambda: email_proposal_decision.enqueue(proposal_id))


__all__ = [
    "APPROVE_ACTION",
    "PROPOSE_ACTION",
    "REJECT_ACTION",
    "ProfileChange",
    "ProposalError",
    "address_for_login_code",
    "approve_profile_proposal",
    "propose_profile_change",
    "reject_profile_proposal",
]
