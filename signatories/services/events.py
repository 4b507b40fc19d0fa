"""The audit trail: append-only events, hash-chained per sign-on."""

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from signatories.models import Event, Invitation, Signature, SignOn


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where: recorded on every event."""

    user: AbstractBaseUser | None = None
    label: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: HttpRequest, *, label: str = "") -> "Actor":
        user = (
            request.user
            if getattr(request, "user", None) and request.user.is_authenticated
            else None
        )
        if not label and user is not None:
            label = user.get_username()
        return cls(
            user=user,
            label=label,
            ip_address=_clean_ip(request.META.get("REMOTE_ADDR")),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        )

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(label=label)

    def with_label(self, label: str) -> "Actor":
        return Actor(
            user=self.user, label=label, ip_address=self.ip_address, user_agent=self.user_agent
        )


def _clean_ip(value: str | None) -> str | None:
    try:
        return ipaddress.ip_address(value).compressed if value else None
    except ValueError:
        return None


def record_event(
    *,
    sign_on: SignOn,
    action: str,
    actor: Actor,
    invitation: Invitation | None = None,
    signature: Signature | None = None,
    detail: dict[str, Any] | None = None,
    text_hash: str | None = None,
) -> Event:
    """Append an event to the sign-on's chain; the caller holds the sign-on's row lock."""
    organization_id = None
    if signature is not None:
        organization_id = signature.organization_id
    elif invitation is not None:
        organization_id = invitation.organization_id
    event = Event(
        sign_on=sign_on,
        sequence=sign_on.event_count + 1,
        action=action,
        invitation=invitation,
        signature=signature,
        organization_id=organization_id,
        user=actor.user,
        actor=actor.label[:300],
        ip_address=_clean_ip(actor.ip_address),
        user_agent=actor.user_agent[:500],
        text_hash=sign_on.text_hash if text_hash is None else text_hash,
        detail=detail or {},
        previous_hash=sign_on.last_event_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    sign_on.event_count = event.sequence
    sign_on.last_event_hash = event.hash
    SignOn.objects.filter(pk=sign_on.pk).update(
        event_count=event.sequence, last_event_hash=event.hash
    )
    return event


def verify_event_chain(*, sign_on: SignOn) -> list[str]:
    """Every break in the sign-on's event chain (edited, removed or reordered events); empty if intact."""
    problems: list[str] = []
    previous_hash = ""
    expected = 1
    for event in Event.objects.filter(sign_on=sign_on).order_by("sequence"):
        if event.sequence != expected:
            problems.append(f"event {expected} is missing (found event {event.sequence} next)")
        if event.previous_hash != previous_hash:
            problems.append(f"event {event.sequence} does not follow the event before it")
        if event.compute_hash() != event.hash:
            problems.append(f"event {event.sequence} ({event.action}) was altered")
        previous_hash = event.hash
        expected = event.sequence + 1
    sign_on.refresh_from_db(fields=["event_count", "last_event_hash"])
    if expected - 1 != sign_on.event_count or previous_hash != sign_on.last_event_hash:
        problems.append(
            f"the chain ends at event {expected - 1}, but the sign-on recorded "
            f"{sign_on.event_count} events"
        )
    return problems
