"""The review queue: the signatures waiting for staff, and why each waits."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from coalition.crm.models import Contact, Organization, name_key
from coalition.crm.selectors import best_named, organizations_named
from signatories.addresses import same_mailbox
from signatories.models import NEVER_CONFIRMED, Signature, SignOn

from .open_link import Requests, open_link_requests


def organization_named_by(
    display_name: str, *, excluding: Organization | None
) -> Organization | None:
    """Another organization this line names, by its name, "Name (ACRONYM)" or its acronym."""
    names, acronyms = [display_name], [display_name]
    match = re.match(r"^(?P<name>.*?)\s*\((?P<acronym>[^()]+)\)\s*$", display_name)
    if match:
        names.append(match["name"])
        acronyms.append(match["acronym"])
    candidates = organizations_named(names=names, acronyms=acronyms).exclude(
        status=Organization.Status.PENDING
    )
    if excluding is not None:
        candidates = candidates.exclude(pk=excluding.pk)
    return best_named(candidates, names=names, acronyms=acronyms)


def _display_name_reasons(signature: Signature, organization: Organization) -> list[str]:
    own = {
        name_key(organization.name),
        name_key(organization.printed_name),
        name_key(f"{organization.name} {organization.acronym}"),
    }
    if organization.display:
        own.add(name_key(organization.display))
    if organization.status == Organization.Status.PENDING and signature.organization_name:
        # Nobody knows it yet: the line is held to what its own request says of it.
        own.add(name_key(signature.organization_name))
        own.add(name_key(f"{signature.organization_name} {signature.acronym}"))
    if name_key(signature.display_name) in own:
        return []
    lookalike = organization_named_by(signature.display_name, excluding=organization)
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


def _signer_reasons(signature: Signature, organization: Organization) -> list[str]:
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
    authorized = Contact.objects.filter(organization=organization, is_authorized_signer=True)
    if any(same_mailbox(contact.email, signature.signer_email) for contact in authorized):
        return []
    if invitation is not None and invitation.forwarded_by_id is not None:
        forwarded_by = invitation.forwarded_by
        assert forwarded_by is not None
        return [
            f"{forwarded_by.name} forwarded the request to {invitation.email}, which is not a "
            f"contact of {organization.name} on file."
        ]
    return [f"{signature.signer_email} is not a known authorized signer of {organization.name}."]


def review_reasons(signature: Signature) -> list[str]:
    """Why a signature needs a person to look at it, from what is known now; empty if none."""
    sign_on = signature.sign_on
    organization = signature.organization
    reasons: list[str] = []
    if signature.status == Signature.Status.NEEDS_RECONFIRMATION:
        reasons.append("The text changed: the signer has not reconfirmed the signature yet.")
    if organization is None:
        reasons.append("An individual signing in a personal capacity, through the open link.")
        lookalike = organization_named_by(signature.signer_name, excluding=None)
        if lookalike is not None:
            reasons.append(
                f"The name “{signature.signer_name}” is the name of an organization, "
                f"{lookalike.printed_name}: is a person signing?"
            )
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
    reasons += _display_name_reasons(signature, organization)
    if organization.status != Organization.Status.PENDING:
        # Of an organization nobody knew, nobody is known to sign: the line above says so.
        reasons += _signer_reasons(signature, organization)
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
    return [
        ReviewItem(
            signature=signature,
            reasons=review_reasons(signature),
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
