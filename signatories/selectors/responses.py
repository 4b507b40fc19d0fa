"""An organization's or a person's response to a letter, as the signer's pages and the services
read it; what the sign-on's dates say; and who still waits to be answered."""

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from wagtail.models import Revision

from coalition.crm.models import Contact
from signatories.deadlines import describe_deadline
from signatories.models import CONFIRMED_ACTIVE, Action, Event, Invitation, Signature, SignOn


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
    events = Event.objects.filter(sign_on=sign_on, action__in=[Action.CREATED, Action.RECIRCULATED])
    for event in events.order_by("-sequence"):
        detail = event.detail or {}
        if event.action == Action.RECIRCULATED and detail.get("previous_text_hash") == text_hash:
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


def awaiting_response_in_order(sign_on: SignOn) -> list[Invitation]:
    """`awaiting_response`, each with its organization, in the order of the organizations' names."""
    return list(
        awaiting_response(sign_on)
        .select_related("organization")
        .order_by("organization__sort_name", "name", "pk")
    )
