"""Reads of the sign-on: links, responses, the tally every count comes from, the chart, the
reasons a signature waits for review, and the check of the event chain.

One fact, one selector: the tracker's table and totals, its chart, its export and the signer's
"signed so far" all read `tally`.
"""

import datetime
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from wagtail.models import Revision

from coalition.crm.models import Coalition, Contact, Membership, Organization, name_key
from coalition.crm.selectors import best_named, organizations_named
from letters.models import SignatoryLine

from . import tokens
from .addresses import same_mailbox
from .deadlines import describe_deadline
from .errors import InvalidToken
from .models import CONFIRMED_ACTIVE, NEVER_CONFIRMED, Event, Invitation, Signature, SignOn

# ---------------------------------------------------------------------------------------------
# Links


# What a signer's page never reads of the letter row: the text prints from the circulated revision.
LETTER_TEXT_FIELDS = ("body", "recipients", "cc", "footnotes")


def _without_letter_text(path: str) -> list[str]:
    return [f"{path}__{name}" for name in LETTER_TEXT_FIELDS]


def find_invitation(token: str) -> Invitation:
    """The invitation a link belongs to; InvalidToken for anything forged, truncated or replaced."""
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    # Whether the organization ever answered this letter, read with the link: most requests are
    # of organizations that have not, whose pages then need no query for their response.
    answered = Signature.objects.filter(
        letter_id=OuterRef("sign_on__letter_id"), organization_id=OuterRef("organization_id")
    )
    try:
        # Not the letter: its pages show the circulated revision's title and text (cached).
        return (
            Invitation.objects.select_related("sign_on", "organization", "contact")
            .annotate(answered=Exists(answered))
            .get(token_hash=tokens.digest(token))
        )
    except Invitation.DoesNotExist:
        raise InvalidToken(
            "This link is not valid or has been replaced by a newer one. "
            "Use the link in the latest email you received."
        ) from None


def find_signature(token: str) -> Signature:
    """The signature a signer's own link belongs to (to confirm, reconfirm or withdraw it)."""
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    try:
        return (
            Signature.objects.select_related(
                "sign_on", "sign_on__letter", "organization", "invitation"
            )
            .defer(*_without_letter_text("sign_on__letter"))
            .get(token_hash=tokens.digest(token), sign_on__isnull=False)
        )
    except Signature.DoesNotExist:
        raise InvalidToken("This link is not valid or has been replaced by a newer one.") from None


def find_sign_on_by_open_link(token: str) -> SignOn:
    """The sign-on an open link belongs to; InvalidToken for anything forged, turned off or replaced."""
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    try:
        return (
            SignOn.objects.select_related("letter")
            .defer(*_without_letter_text("letter"))
            .get(open_link_token_hash=tokens.digest(token))
        )
    except SignOn.DoesNotExist:
        raise InvalidToken(
            "This link is not valid, or it has been turned off or replaced."
        ) from None


def invitation_link_token(invitation: Invitation) -> str:
    return tokens.rederive("invitation", invitation.token_nonce, invitation.token_hash)


def signature_link_token(signature: Signature) -> str:
    return tokens.rederive("signature", signature.token_nonce, signature.token_hash)


# ---------------------------------------------------------------------------------------------
# Responses


def may_have_answered(invitation: Invitation) -> bool:
    """False when the organization had given no answer to the letter when its link was read
    (`find_invitation`); True when it had, or when that is not known."""
    return bool(getattr(invitation, "answered", True))


def active_response(sign_on: SignOn, organization_id: int) -> Signature | None:
    """The organization's response that stands (signed, declined, waiting), if any.

    A request through the open link that nobody confirmed stands for nothing: it holds no place,
    and is shown to nobody but staff.
    """
    return (
        Signature.objects.filter(
            CONFIRMED_ACTIVE, letter_id=sign_on.letter_id, organization_id=organization_id
        )
        .select_related("invitation", "organization")
        .order_by("-created_at")
        .first()
    )


def standing_response_and_last_position(
    sign_on: SignOn, organization_id: int
) -> tuple[int | None, int]:
    """The pk of the organization's standing response, if any, and the position of the letter's
    last signature, in one query: read under the sign-on's lock, both hold until it is released."""
    found = Signature.objects.filter(letter_id=sign_on.letter_id).aggregate(
        standing=Max(
            "pk",
            filter=Q(organization_id=organization_id) & CONFIRMED_ACTIVE,
        ),
        last=Max("position"),
    )
    return found["standing"], found["last"] or 0


def page_responses(
    sign_on: SignOn, organization_id: int
) -> tuple[Signature | None, Signature | None]:
    """What the organization's page shows, in one query: its response that stands (as
    `active_response`), or else its latest signature of this sign-on that was withdrawn."""
    rows = list(
        Signature.objects.filter(letter_id=sign_on.letter_id, organization_id=organization_id)
        .filter(
            CONFIRMED_ACTIVE
            | Q(
                sign_on=sign_on,
                status=Signature.Status.WITHDRAWN,
                response=Signature.Response.SIGNED,
            )
        )
        .select_related("invitation")
    )
    standing = [row for row in rows if row.is_active]
    if standing:
        return max(standing, key=lambda row: row.created_at), None
    return None, max(
        rows, key=lambda row: (row.withdrawn_at is not None, row.withdrawn_at, row.pk), default=None
    )


def active_individual(sign_on: SignOn, email_key: str) -> Signature | None:
    """The person's signature that stands, if any; as `active_response`, never one unconfirmed."""
    return Signature.objects.filter(
        CONFIRMED_ACTIVE,
        letter_id=sign_on.letter_id,
        organization__isnull=True,
        signer_email_key=email_key,
    ).first()


def describe_response(signature: Signature) -> str:
    """“Jane Doe (Director) signed for ACME on 3 March 2026”, for the one who comes second."""
    who = signature.signer_name or "someone"
    if signature.signer_title:
        who += f" ({signature.signer_title})"
    verb = "signed" if signature.response == Signature.Response.SIGNED else "declined"
    when = date_format(timezone.localtime(signature.created_at), "j F Y")
    organization = signature.organization.printed_name if signature.organization else ""
    return f"{who} already {verb} for {organization} on {when}."


def describe_individual_response(signature: Signature) -> str:
    when = date_format(timezone.localtime(signature.created_at), "j F Y")
    return (
        f"{signature.signer_email} already signed this letter in a personal capacity on {when}; "
        "each person signs once."
    )


def deadline_words(sign_on: SignOn) -> str:
    """“closes in 3 days, on 14 March at 17:00 ET”, or “closed on …” the day it really closed."""
    closed_at = sign_on.closed_at
    if closed_at is not None and closed_at < sign_on.deadline:
        return describe_deadline(closed_at)
    return describe_deadline(sign_on.deadline)


def closed_message(sign_on: SignOn) -> str:
    """Why the sign-on takes no response now, for the signer; empty while it does."""
    status = sign_on.status
    if status == SignOn.Status.DRAFT:
        return "This sign-on has not opened yet."
    if status == SignOn.Status.CANCELLED:
        return "This sign-on was cancelled; no responses are being collected."
    if status in (SignOn.Status.CLOSED, SignOn.Status.PUBLISHED) or sign_on.is_past_deadline():
        # Closed early, it closed then; the deadline is only the moment it would have.
        closed_at = timezone.localtime(min(sign_on.closed_at or sign_on.deadline, sign_on.deadline))
        return (
            f"This sign-on closed on {date_format(closed_at, 'j F Y')} at {closed_at:%H:%M}; "
            "responses are no longer accepted."
        )
    return ""


def signed_revision_id(*, sign_on: SignOn, text_hash: str) -> int | None:
    """The revision of the sign-on's letter whose text has this hash, from its circulation history."""
    if text_hash == sign_on.text_hash:
        return sign_on.revision_id
    events = Event.objects.filter(sign_on=sign_on, action__in=["created", "recirculated"])
    for event in events.order_by("-sequence"):
        detail = event.detail or {}
        if event.action == "recirculated" and detail.get("previous_text_hash") == text_hash:
            return detail.get("previous_revision")
        if event.text_hash == text_hash and detail.get("revision"):
            return detail["revision"]
    return sign_on.previous_revision_id


def signed_revision(signature: Signature) -> Revision | None:
    assert signature.sign_on is not None
    pk = signed_revision_id(sign_on=signature.sign_on, text_hash=signature.text_hash)
    return Revision.objects.filter(pk=pk).first() if pk else None


def awaiting_response(sign_on: SignOn) -> QuerySet[Invitation]:
    """Invitations of people whose organization has not answered and who may be emailed.

    Any answer counts, withdrawn or declined: only an organization whose signature staff
    rejected may be asked again.
    """
    answered = Signature.objects.filter(
        letter_id=sign_on.letter_id, organization_id=OuterRef("organization_id")
    ).exclude(status=Signature.Status.REJECTED)
    opted_out = Contact.objects.filter(pk=OuterRef("contact_id"), email_opt_out=True)
    return sign_on.invitations.filter(~Exists(answered), ~Exists(opted_out))


# ---------------------------------------------------------------------------------------------
# The audience


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


def audience_without_invitation(sign_on: SignOn) -> list[Organization]:
    """Organizations of an open sign-on's audience that nobody at could be invited: no contact,
    or all opted out. Staff add a contact, then invite again."""
    if sign_on.status != SignOn.Status.OPEN:
        return []
    audience = audience_organizations(
        coalitions=sign_on.coalitions.all(),
        tiers=sign_on.tiers,
        organizations=sign_on.organizations.all(),
    )
    return list(audience.exclude(pk__in=sign_on.invitations.values("organization_id")))


# ---------------------------------------------------------------------------------------------
# Review


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
    return {
        key: Requests(organization=requests[0].organization, requests=requests)  # type: ignore[arg-type]
        for key, requests in found.items()
    }


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


def unconfirmed_by_organization() -> tuple[list[Requests], list[Signature]]:
    """Requests never confirmed: each organization's together, side by side; and people's."""
    people: list[Signature] = []
    grouped: dict[tuple[int, int], list[Signature]] = defaultdict(list)
    for row in unconfirmed_requests():
        if row.organization_id is None or row.sign_on_id is None:
            people.append(row)
        else:
            grouped[(row.sign_on_id, row.organization_id)].append(row)
    groups = [
        Requests(organization=rows[0].organization, requests=rows)  # type: ignore[arg-type]
        for rows in grouped.values()
    ]
    return groups, people


# ---------------------------------------------------------------------------------------------
# The tally


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


def _latest(signatures: Iterable[Signature]) -> dict[Any, Signature]:
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
    latest = _latest(signatures)
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


def signed_so_far(sign_on: SignOn) -> str:
    """“3 organizations and 1 individual have signed so far.”, for signers who may see it."""
    counts = tally(sign_on)
    organizations = counts.printed_organizations
    individuals = counts.printed - organizations
    parts = [f"{organizations} organization{'s' if organizations != 1 else ''}"]
    if individuals:
        parts.append(f"{individuals} individual{'s' if individuals != 1 else ''}")
    verb = "has" if counts.printed == 1 else "have"
    return f"{' and '.join(parts)} {verb} signed so far."


# ---------------------------------------------------------------------------------------------
# The chart


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: dict[str, str]  # name → SVG polyline points
    totals: dict[str, int]
    maximum: int
    start: datetime.datetime
    end: datetime.datetime


CHART_SERIES = {"signed": "Signed", "pending": "Pending", "declined": "Declined"}
# The chart draws every hold as one line, whoever it waits for.
CHART_SERIES_OF_COLUMN = {"review": "pending", "signer": "pending"}


def response_chart(sign_on: SignOn, *, width: int = 640, height: int = 200) -> Chart:
    """Signatures that print, those pending and declines over time, replayed from the events.

    Each event records the state it left its signature in, so the chart ends where the tally
    stands: the same counts, from the same facts.
    """
    rows = (
        Event.objects.filter(sign_on=sign_on, signature__isnull=False)
        .order_by("sequence")
        .values_list("signature_id", "state", "created_at")
    )
    start = sign_on.opened_at or sign_on.created_at
    end = min(max(timezone.now(), start + datetime.timedelta(hours=1)), sign_on.deadline)
    if sign_on.closed_at:
        end = sign_on.closed_at
    column_of: dict[int, str] = {}
    totals = dict.fromkeys(CHART_SERIES, 0)
    points: dict[str, list[tuple[datetime.datetime, int]]] = {name: [] for name in CHART_SERIES}
    for signature_id, state, moment in rows:
        recorded = (state or {}).get("signature")
        if not recorded:
            continue
        column = COLUMN_OF_STATE[_recorded_state(recorded)]
        column = CHART_SERIES_OF_COLUMN.get(column, column)
        before = column_of.get(signature_id)
        if before == column:
            continue
        for name, delta in ((before, -1), (column, +1)):
            if name in totals:
                totals[name] += delta
                points[name].append((moment, totals[name]))
        column_of[signature_id] = column
        end = max(end, moment)
    span = max((end - start).total_seconds(), 1.0)
    maximum = max(1, *(value for series in points.values() for _, value in series), 0)
    pad = 30

    def polyline(name: str) -> str:
        steps: list[tuple[float, int]] = [(0.0, 0)]
        for moment, value in points[name]:
            x = max(0.0, (moment - start).total_seconds() / span)
            steps += [(x, steps[-1][1]), (x, value)]
        steps.append((1.0, steps[-1][1]))
        return " ".join(
            f"{pad + x * (width - 2 * pad):.1f},{height - pad - v * (height - 2 * pad) / maximum:.1f}"
            for x, v in steps
        )

    return Chart(
        width=width,
        height=height,
        series={name: polyline(name) for name in CHART_SERIES},
        totals=totals,
        maximum=maximum,
        start=start,
        end=end,
    )


def _recorded_state(recorded: dict[str, Any]) -> str:
    status, response = recorded.get("status"), recorded.get("response")
    if status in ("withdrawn", "rejected"):
        return str(status)
    if response == Signature.Response.DECLINED:
        return "declined"
    if status == Signature.Status.APPROVED:
        return "signed"
    return str(status)


# ---------------------------------------------------------------------------------------------
# Printed lines


def printable_lines(sign_on: SignOn) -> list[SignatoryLine]:
    return Signature.objects.printable_lines(sign_on.letter)


# ---------------------------------------------------------------------------------------------
# The chain


def verify_event_chain(*, sign_on: SignOn) -> list[str]:
    """Every break in the sign-on's evidence; empty when it holds.

    Three checks: each event's keyed hash and its link to the one before (an edited, removed or
    reordered event, or a chain recomputed without the key); the head the sign-on keeps (events
    removed from the end); and each row against the state its latest event recorded (a signature,
    invitation or the sign-on itself changed outside the services).
    """
    problems: list[str] = []
    previous_hash = ""
    expected = 1
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    events = Event.objects.filter(sign_on=sign_on).order_by("sequence")
    for event in events:
        if event.sequence != expected:
            problems.append(f"event {expected} is missing (found event {event.sequence} next)")
        if event.previous_hash != previous_hash:
            problems.append(f"event {event.sequence} does not follow the event before it")
        if not event.hash_is_valid():
            problems.append(f"event {event.sequence} ({event.action}) was altered")
        for kind, state in (event.state or {}).items():
            pk = {
                "sign_on": event.sign_on_id,
                "invitation": event.invitation_id,
                "signature": event.signature_id,
            }.get(kind)
            if pk is not None:
                latest[(kind, pk)] = state
        previous_hash = event.hash
        expected = event.sequence + 1
    head = SignOn.objects.get(pk=sign_on.pk)
    if expected - 1 != head.event_count or previous_hash != head.last_event_hash:
        problems.append(
            f"the chain ends at event {expected - 1}, but the sign-on recorded "
            f"{head.event_count} events"
        )
    if expected == 1:
        problems.append("the sign-on has no events at all")
    elif latest:
        # Chains begun before events recorded state hold no state to compare rows with.
        problems += _rows_against_events(head, latest)
    return problems


def _rows_against_events(
    sign_on: SignOn, latest: dict[tuple[str, int], dict[str, Any]]
) -> list[str]:
    problems = []
    rows: list[tuple[str, Any]] = [("sign_on", sign_on)]
    rows += [("invitation", i) for i in sign_on.invitations.all()]
    rows += [("signature", s) for s in Signature.objects.filter(sign_on=sign_on)]
    for kind, row in rows:
        recorded = latest.get((kind, row.pk))
        described = {
            "sign_on": "the sign-on",
            "invitation": f"the invitation of {getattr(row, 'email', '')}",
            "signature": f"the signature “{getattr(row, 'display_name', '')}”",
        }[kind]
        if recorded is None:
            problems.append(f"{described} has no event that made it")
            continue
        current = row.chain_state()
        changed = sorted(name for name in recorded if recorded[name] != current.get(name))
        if changed:
            problems.append(
                f"{described} was changed outside the sign-on ({', '.join(changed)} differ "
                "from what the last event recorded)"
            )
    return problems


def chain_head(sign_on: SignOn) -> tuple[str, int]:
    head = SignOn.objects.filter(pk=sign_on.pk).values_list("last_event_hash", "event_count").get()
    return head[0], head[1]


def sign_ons_with_broken_chains(
    sign_ons: Iterable[SignOn] | None = None,
) -> dict[SignOn, list[str]]:
    """Sign-ons whose evidence no longer holds, with what is wrong: for the scheduled check."""
    found = {}
    for sign_on in sign_ons if sign_ons is not None else SignOn.objects.all():
        problems = verify_event_chain(sign_on=sign_on)
        if problems:
            found[sign_on] = problems
    return found


# Progress of many sign-ons at once (the admin dashboard) -------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far one sign-on has got, in the tracker's numbers (selectors.tally)."""

    sign_on: SignOn
    invited: int  # organizations invited: the tracker's "Invited" total
    signed: int  # of those, signed and approved: its "Signed" total
    declined: int
    printed: int  # lines that print now, open link included: its "print now"
    waiting_for_review: int  # holds for staff: this sign-on's share of the review queue
    waiting_for_signer: int  # holds for signers: an address to confirm, a text to reconfirm

    @property
    def deadline_words(self) -> str:
        return deadline_words(self.sign_on)

    @property
    def open_link_signed(self) -> int:
        return self.printed - self.signed


def progress_of(sign_ons: Sequence[SignOn]) -> list[Progress]:
    """Each sign-on's progress, counted as `tally` counts it, for all of them at once.

    `tally` reads one sign-on whole in four queries; the dashboard lists every open one, so this
    reads the invitations and responses of all of them in two, and puts each organization in its
    column by the tally's own rules (`state_of`, `COLUMN_OF_STATE`, `_latest`: the response that
    counts). tests/test_dashboard.py holds the two to the same numbers in every state.
    """
    ids = [sign_on.pk for sign_on in sign_ons]
    invited: dict[int, set[int]] = defaultdict(set)
    for sign_on_id, organization_id in Invitation.objects.filter(sign_on_id__in=ids).values_list(
        "sign_on_id", "organization_id"
    ):
        invited[sign_on_id].add(organization_id)
    responses: dict[int, list[Signature]] = defaultdict(list)
    for signature in (
        Signature.objects.filter(sign_on_id__in=ids)
        .only(
            "sign_on_id",
            "organization_id",
            "signer_email_key",
            "status",
            "status_before_reconfirmation",
            "response",
        )
        .order_by("created_at", "pk")
    ):
        assert signature.sign_on_id is not None  # filtered on it
        responses[signature.sign_on_id].append(signature)
    found = []
    for sign_on in sign_ons:
        latest = _latest(responses[sign_on.pk])
        responses_open = sign_on.accepts_responses
        invited_columns = Counter(
            COLUMN_OF_STATE[state_of(latest.get(organization_id), responses_open=responses_open)]
            for organization_id in invited[sign_on.pk]
        )
        other_columns = Counter(
            COLUMN_OF_STATE[state_of(response, responses_open=responses_open)]
            for key, response in latest.items()
            if key not in invited[sign_on.pk]
        )
        found.append(
            Progress(
                sign_on=sign_on,
                invited=len(invited[sign_on.pk]),
                signed=invited_columns["signed"],
                declined=invited_columns["declined"],
                printed=invited_columns["signed"] + other_columns["signed"],
                waiting_for_review=invited_columns["review"] + other_columns["review"],
                waiting_for_signer=invited_columns["signer"] + other_columns["signer"],
            )
        )
    return found
