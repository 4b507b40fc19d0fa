"""The open link: a sign-on's public page where organizations outside the audience ask to sign
and individuals sign in a personal capacity. Everything that comes through it waits for review.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from coalition.models import Organization, name_key
from coalition.selectors import best_named, organizations_named
from signatories.models import Invitation, Signature, SignOn, token_digest

from .errors import AlreadyResponded, InvalidToken, SignOnError, TransitionNotAllowed
from .events import Actor, record_event
from .sign_ons import lock_sign_on
from .signatures import (
    TOKEN_PATTERN,
    _active_individual,
    _active_response,
    _clean,
    _save_response,
    check_accepts_responses,
    check_text_hash,
    describe_individual_response,
    describe_response,
    next_position,
    review_reasons,
)

INDIVIDUALS_GROUP = "Individuals"


@transaction.atomic
def issue_open_link(*, sign_on: SignOn, actor: Actor, accepts_requests: bool | None = None) -> str:
    """A new open-link token for the sign-on, replacing any earlier one; only its hash is kept."""
    sign_on = lock_sign_on(sign_on)
    if sign_on.status not in (SignOn.Status.DRAFT, SignOn.Status.OPEN):
        raise TransitionNotAllowed(
            f"The sign-on is {sign_on.get_status_display().lower()}: it takes no open link."
        )
    if accepts_requests is not None:
        sign_on.accepts_requests = accepts_requests
    if not sign_on.accepts_requests and not sign_on.letter.accepts_individuals:
        raise SignOnError(
            "Nobody could sign through an open link: let organizations outside the audience ask "
            "to sign, or let the letter accept individuals.",
            field="accepts_requests",
        )
    token = secrets.token_urlsafe(32)
    replaced = bool(sign_on.open_link_token_hash)
    sign_on.open_link_token_hash = token_digest(token)
    sign_on.save(update_fields=["open_link_token_hash", "accepts_requests"])
    record_event(
        sign_on=sign_on,
        action="open_link_issued",
        actor=actor,
        detail={"replaced": replaced, "accepts_requests": sign_on.accepts_requests},
    )
    return token


@transaction.atomic
def close_open_link(*, sign_on: SignOn, actor: Actor) -> SignOn:
    """Turn off the sign-on's open link: its token no longer opens anything."""
    sign_on = lock_sign_on(sign_on)
    if not sign_on.open_link_token_hash:
        raise TransitionNotAllowed("This sign-on has no open link to turn off.")
    sign_on.open_link_token_hash = ""
    sign_on.save(update_fields=["open_link_token_hash"])
    record_event(sign_on=sign_on, action="open_link_closed", actor=actor)
    return sign_on


def find_sign_on_by_open_link(token: str) -> SignOn:
    """The sign-on an open link belongs to; InvalidToken for anything forged, turned off or replaced."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    sign_on = (
        SignOn.objects.select_related("letter", "revision")
        .filter(open_link_token_hash=token_digest(token))
        .first()
    )
    if sign_on is None:
        raise InvalidToken("This link is not valid, or it has been turned off or replaced.")
    return sign_on


def _lock_open(sign_on: SignOn, text_hash: str) -> SignOn:
    sign_on = lock_sign_on(sign_on)
    check_accepts_responses(sign_on)
    if not sign_on.open_link_token_hash:
        raise InvalidToken("This link has been turned off.")
    check_text_hash(sign_on, text_hash)
    return sign_on


def _clean_email(value: str) -> str:
    value = _clean("signer_email", value, required=True)
    try:
        validate_email(value)
    except ValidationError:
        raise SignOnError(
            f"The signer email “{value}” is not an email address.", field="signer_email"
        ) from None
    return value


def _clean_website(value: str) -> str:
    value = _clean("website", value, required=False)
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise SignOnError(
                f"The website “{value}” is not a web address such as https://example.org.",
                field="website",
            ) from None
    return value


def _matching_organization(name: str, acronym: str) -> Organization | None:
    candidates = organizations_named(names=[name], acronyms=[acronym]).order_by("pk")
    return best_named(candidates, names=[name], acronyms=[acronym])


def _new_organization(
    sign_on: SignOn, *, name: str, acronym: str, website: str, signer_email: str
) -> Organization:
    opened = date_format(timezone.localtime(), "j F Y")
    organization = Organization(
        name=name,
        acronym=acronym,
        website=website,
        kind=Organization.Kind.OTHER,
        status=Organization.Status.ACTIVE,
        description=(
            f"Added on {opened} when {signer_email} asked to sign “{sign_on.letter.title}” "
            "through the open link of its sign-on."
        ),
    )
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError:
        # Created meanwhile by a request on another sign-on: use that one.
        return Organization.objects.get(name_key=name_key(name))
    return organization


@transaction.atomic
def request_to_sign(
    *,
    sign_on: SignOn,
    organization_name: str,
    acronym: str,
    website: str,
    display_name: str,
    signer_name: str,
    signer_title: str,
    signer_email: str,
    authorized: bool,
    text_hash: str,
    actor: Actor,
) -> Signature:
    """An organization outside the audience asks to sign; the signature waits for staff review."""
    sign_on = _lock_open(sign_on, text_hash)
    if not sign_on.accepts_requests:
        raise SignOnError(
            "This sign-on does not take requests from organizations that were not invited."
        )
    organization_name = _clean("organization_name", organization_name, required=True)
    acronym = _clean("acronym", acronym, required=False)
    website = _clean_website(website)
    display_name = _clean("display_name", display_name, required=True)
    signer_name = _clean("signer_name", signer_name, required=True)
    signer_title = _clean("signer_title", signer_title, required=False)
    signer_email = _clean_email(signer_email)
    if not name_key(organization_name):
        raise SignOnError(
            "The organization name needs letters or digits.", field="organization_name"
        )
    if not authorized:
        raise SignOnError(
            f"Confirm that you are authorized to sign on behalf of {organization_name}.",
            field="authorized",
        )
    organization = _matching_organization(organization_name, acronym)
    if organization is not None:
        if Invitation.objects.filter(sign_on=sign_on, organization=organization).exists():
            raise AlreadyResponded(
                f"{organization.name} was invited to sign this letter: use the link in the "
                "invitation emailed to its contacts, or ask the coalition's staff to send it again."
            )
        existing = _active_response(sign_on, organization.pk)
        if existing is not None:
            raise AlreadyResponded(describe_response(existing), signature=existing)
    created = organization is None
    if created:
        organization = _new_organization(
            sign_on,
            name=organization_name,
            acronym=acronym,
            website=website,
            signer_email=signer_email,
        )
    reasons = [f"{organization.name} was not invited: it asked to sign through the open link."]
    reasons += review_reasons(
        organization=organization,
        display_name=display_name,
        signer_email=signer_email,
        sign_on=sign_on,
    )
    signature = Signature(
        letter_id=sign_on.letter_id,
        sign_on=sign_on,
        invitation=None,
        organization=organization,
        response=Signature.Response.SIGNED,
        status=Signature.Status.PENDING_REVIEW,
        display_name=display_name,
        sort_key=organization.sort_name,
        position=next_position(sign_on),
        signer_name=signer_name,
        signer_title=signer_title,
        signer_email=signer_email,
        logo_id=organization.logo_id,
        website=organization.website or website,
        country=organization.country,
        text_hash=text_hash,
        authorized=True,
        review_reasons=reasons,
        created_at=timezone.now(),
    )
    return _save_response(
        signature,
        action="requested",
        email="signed",
        actor=actor.with_label(signer_email),
        detail={
            "display_name": display_name,
            "organization_created": created,
            "reasons": reasons,
        },
    )


@transaction.atomic
def sign_as_individual(
    *,
    sign_on: SignOn,
    person: str,
    title: str,
    affiliation: str,
    signer_email: str,
    text_hash: str,
    actor: Actor,
) -> Signature:
    """A person signs in a personal capacity, where the letter accepts it; staff review it."""
    sign_on = _lock_open(sign_on, text_hash)
    if not sign_on.letter.accepts_individuals:
        raise SignOnError("This letter is signed by organizations only.")
    person = _clean("signer_name", person, required=True)
    title = _clean("signer_title", title, required=False)
    affiliation = _clean("affiliation", affiliation, required=False)
    signer_email = _clean_email(signer_email)
    display_name = _clean(
        "display_name",
        Signature.default_individual_line(person, title, affiliation),
        required=True,
    )
    existing = _active_individual(sign_on, signer_email)
    if existing is not None:
        raise AlreadyResponded(describe_individual_response(existing), signature=existing)
    reasons = ["An individual signing in a personal capacity: not invited."]
    if affiliation:
        reasons.append(f"Check the affiliation “{affiliation}”: it prints for identification.")
    signature = Signature(
        letter_id=sign_on.letter_id,
        sign_on=sign_on,
        invitation=None,
        organization=None,
        response=Signature.Response.SIGNED,
        status=Signature.Status.PENDING_REVIEW,
        display_name=display_name,
        group=INDIVIDUALS_GROUP,
        position=next_position(sign_on),
        signer_name=person,
        signer_title=title,
        signer_email=signer_email,
        affiliation=affiliation,
        text_hash=text_hash,
        review_reasons=reasons,
        created_at=timezone.now(),
    )
    return _save_response(
        signature,
        action="individual_signed",
        email="signed",
        actor=actor.with_label(signer_email),
        detail={"display_name": display_name, "reasons": reasons},
    )
