"""The open link: a sign-on's public page where organizations outside the audience ask to sign
and individuals sign in a personal capacity.

Nothing that comes through it is trusted: the address must be confirmed from the emailed link
before staff see the request, an organization nobody knows is held as pending (no member, in no
listing) until staff approve its signature, and strangers are rate-limited per network and per
mailbox. Each request keeps what it said (the name as typed, acronym, website, signer) on its own
row: the pending organization holds only the name it is matched by, and takes the details of the
request staff approve. Nobody's request cancels another's: requests nobody confirmed wait side
by side, and the first one confirmed goes to review.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from coalition.crm.models import Organization
from coalition.crm.selectors import best_named, organizations_named
from coalition.crm.services import add_pending_organization
from signatories import ratelimits, selectors, tasks, tokens
from signatories.errors import AlreadyResponded, InvalidToken, SignOnError, TransitionNotAllowed
from signatories.inputs import IndividualSigning, OrganizationRequest
from signatories.models import Action, Signature, SignOn

from .core import Held, hold, holding, transition, with_rows_read
from .events import Actor
from .signatures import check_accepts_responses, check_text_hash, next_position, record_response

INDIVIDUALS_GROUP = "Individuals"


def issue_open_link(*, sign_on: SignOn, actor: Actor, accepts_requests: bool | None = None) -> str:
    """A new open-link token for the sign-on, replacing any earlier one; only its hash is kept."""
    with holding(sign_on) as held:
        if held.sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.OPEN):
            raise TransitionNotAllowed(
                f"The sign-on is {held.sign_on.get_status_display().lower()}: it takes no open link."
            )
        accepts = held.sign_on.accepts_requests if accepts_requests is None else accepts_requests
        if not accepts and not held.sign_on.letter.accepts_individuals:
            raise SignOnError(
                "Nobody could sign through an open link: let organizations outside the audience "
                "ask to sign, or let the letter accept individuals.",
                field="accepts_requests",
            )
        token = tokens.derive("open_link", tokens.new_nonce())
        transition(
            held.sign_on,
            held.sign_on,
            action=Action.OPEN_LINK_ISSUED,
            actor=actor,
            fields={"open_link_token_hash": tokens.digest(token), "accepts_requests": accepts},
            detail={
                "replaced": bool(held.sign_on.open_link_token_hash),
                "accepts_requests": accepts,
            },
        )
    return token


def close_open_link(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Turn off the sign-on's open link: its token no longer opens anything."""
    with holding(sign_on) as held:
        if not held.sign_on.open_link_token_hash:
            raise TransitionNotAllowed("This sign-on has no open link to turn off.")
        transition(
            held.sign_on,
            held.sign_on,
            action=Action.OPEN_LINK_CLOSED,
            actor=actor,
            fields={"open_link_token_hash": ""},
        )
    return held.sign_on


def approve_individuals_by_rule(*, sign_on: SignOn, approve: bool, actor: Actor) -> SignOn:
    """Whether people who confirm their address are listed at once (staff review only the
    exceptions) or each waits for staff; from the next confirmation on. Those already waiting
    stay in the review queue, where staff approve them by the filter."""
    with holding(sign_on) as held:
        current = held.sign_on
        if current.status not in (SignOn.Status.DRAFT, SignOn.Status.OPEN):
            raise TransitionNotAllowed(
                f"The sign-on is {current.get_status_display().lower()}: nobody confirms "
                "through it any more."
            )
        if not current.letter.accepts_individuals:
            raise SignOnError(
                "This letter is signed by organizations only: no individual confirms through "
                "its open link.",
                field="auto_approve_individuals",
            )
        if current.auto_approve_individuals == approve:
            raise SignOnError(
                "That is the rule already." if approve else "Staff review every person already.",
                field="auto_approve_individuals",
            )
        transition(
            current,
            current,
            action=Action.APPROVAL_RULES_CHANGED,
            actor=actor,
            fields={"auto_approve_individuals": approve},
            detail={"auto_approve_individuals": approve},
        )
    return held.sign_on


def _hold_open(sign_on: SignOn, text_hash: str) -> Held:
    held = hold(sign_on)
    # The letter read with the open link: reading it again under the lock would only make every
    # signer wait longer (whether it takes individuals is a setting of the letter's page).
    with_rows_read(held.sign_on, sign_on, ("letter",))
    check_accepts_responses(held.sign_on)
    if not held.sign_on.open_link_token_hash:
        raise InvalidToken("This link has been turned off.")
    check_text_hash(held.sign_on, text_hash)
    return held


def _matching_organization(request: OrganizationRequest) -> Organization | None:
    names, acronyms = [request.organization_name], [request.acronym]
    candidates = organizations_named(names=names, acronyms=acronyms).filter(
        merged_into__isnull=True
    )
    return best_named(candidates.order_by("pk"), names=names, acronyms=acronyms)


def _pending_organization(sign_on: SignOn, request: OrganizationRequest) -> Organization:
    """An organization nobody knows, held as pending under the name it is matched by, and nothing
    else the request typed: an acronym or website here would be a stranger's word for the real
    organization's, and would match or mislead the requests that follow."""
    opened = date_format(timezone.localtime(), "j F Y")
    return add_pending_organization(
        name=request.organization_name,
        description=(
            f"Asked on {opened} to sign “{sign_on.letter.title}” through the open link of its "
            "sign-on. Pending: approving its signature adds it to the CRM."
        ),
    )


def refuse_where_answered(existing: Signature | None) -> None:
    """A new request where a confirmed answer stands is refused, naming it. A request nobody
    confirmed is no answer (selectors.active_response): the new one waits beside it."""
    if existing is None:
        return
    describe = (
        selectors.describe_individual_response
        if existing.organization_id is None
        else selectors.describe_response
    )
    raise AlreadyResponded(describe(existing), signature=existing)


def request_to_sign(
    *, sign_on: SignOn, request: OrganizationRequest, text_hash: str, actor: Actor
) -> Signature:
    """An organization outside the audience asks to sign; it is emailed a link to confirm."""
    ratelimits.consume("open_link", ip=actor.ip_address, address=request.email_key)
    with transaction.atomic():
        held = _hold_open(sign_on, text_hash)
        if not held.sign_on.accepts_requests:
            raise SignOnError(
                "This sign-on does not take requests from organizations that were not invited."
            )
        organization = _matching_organization(request)
        if organization is not None:
            if held.sign_on.invitations.filter(organization=organization).exists():
                raise AlreadyResponded(
                    f"{organization.name} was invited to sign this letter: use the link in the "
                    "invitation emailed to its contacts, or ask the coalition's staff to send it "
                    "again."
                )
            refuse_where_answered(selectors.active_response(held.sign_on, organization.pk))
        created = organization is None
        if organization is None:
            organization = _pending_organization(held.sign_on, request)
        signature = Signature(
            letter_id=held.sign_on.letter_id,
            sign_on=held.sign_on,
            organization=organization,
            response=Signature.Response.SIGNED,
            status=Signature.Status.UNCONFIRMED,
            display_name=request.display_name,
            sort_key=organization.sort_name,
            position=next_position(held.sign_on),
            signer_name=request.signer_name,
            signer_title=request.signer_title,
            signer_email=request.signer_email,
            signer_email_key=request.email_key,
            logo_id=organization.logo_id,
            organization_name=request.organization_name,
            acronym=request.acronym,
            website=request.website,
            text_hash=text_hash,
            read_in=request.read_in,
            authorized=True,
            created_at=timezone.now(),
        )
        return record_response(
            held,
            signature,
            action=Action.REQUESTED,
            actor=actor.with_label(request.signer_email),
            detail={"organization_created": created},
            notify=[(tasks.send_signature_email, (signature, "confirm"))],
        )


def sign_as_individual(
    *, sign_on: SignOn, signing: IndividualSigning, text_hash: str, actor: Actor
) -> Signature:
    """A person signs in a personal capacity, where the letter accepts it; they confirm by email."""
    ratelimits.consume("open_link", ip=actor.ip_address, address=signing.email_key)
    # Read before the sign-on's lock, which every signer waits for. A person confirmed in the
    # moment between is no harm: this request waits unconfirmed beside theirs, and confirming it
    # is refused (confirm_signature), as for any request made before theirs was confirmed.
    refuse_where_answered(selectors.active_individual(sign_on, signing.email_key))
    with transaction.atomic():
        held = _hold_open(sign_on, text_hash)
        if not held.sign_on.letter.accepts_individuals:
            raise SignOnError("This letter is signed by organizations only.")
        signature = Signature(
            letter_id=held.sign_on.letter_id,
            sign_on=held.sign_on,
            organization=None,
            response=Signature.Response.SIGNED,
            status=Signature.Status.UNCONFIRMED,
            display_name=signing.printed_line,
            group=INDIVIDUALS_GROUP,
            position=next_position(held.sign_on),
            signer_name=signing.person,
            signer_title=signing.title,
            signer_email=signing.signer_email,
            signer_email_key=signing.email_key,
            affiliation=signing.affiliation,
            text_hash=text_hash,
            read_in=signing.read_in,
            created_at=timezone.now(),
        )
        return record_response(
            held,
            signature,
            action=Action.INDIVIDUAL_SIGNED,
            actor=actor.with_label(signing.signer_email),
            detail={},
            notify=[(tasks.send_signature_email, (signature, "confirm"))],
        )
