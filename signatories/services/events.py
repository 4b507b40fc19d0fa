"""The audit trail: who acts, and the append-only, keyed chain of events of each sign-on."""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from coalition.crm.accounts import client_ip
from signatories import tasks
from signatories.models import Action, Event, Invitation, Signature, SignOn


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where: recorded on every event."""

    user: User | None = None
    label: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: HttpRequest, *, label: str = "") -> "Actor":
        user = request.user if isinstance(request.user, User) else None
        if not label and user is not None:
            label = user.get_username()
        return cls(
            user=user,
            label=label,
            # Behind a load balancer, the address it saw (TRUSTED_PROXY_COUNT), as allauth's
            # limits and the sign-on's own limits count it.
            ip_address=clean_ip(client_ip(request)),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        )

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(label=label)

    def with_label(self, label: str) -> "Actor":
        return Actor(
            user=self.user, label=label, ip_address=self.ip_address, user_agent=self.user_agent
        )


def clean_ip(value: str | None) -> str | None:
    try:
        return ipaddress.ip_address(value).compressed if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class EventSpec:
    """One event to append: what happened, to which rows, and the state it left them in."""

    action: Action
    invitation: Invitation | None = None
    signature: Signature | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    text_hash: str | None = None


def append_events(*, sign_on: SignOn, actor: Actor, specs: Sequence[EventSpec]) -> list[Event]:
    """Append events to the sign-on's chain in one write; the caller holds the sign-on's row lock."""
    events = []
    previous_hash, sequence = sign_on.last_event_hash, sign_on.event_count
    for spec in specs:
        organization_id = None
        if spec.signature is not None:
            organization_id = spec.signature.organization_id
        elif spec.invitation is not None:
            organization_id = spec.invitation.organization_id
        sequence += 1
        event = Event(
            sign_on=sign_on,
            sequence=sequence,
            action=spec.action,
            invitation=spec.invitation,
            signature=spec.signature,
            organization_id=organization_id,
            user=actor.user,
            actor=actor.label[:300],
            ip_address=clean_ip(actor.ip_address),
            user_agent=actor.user_agent[:500],
            text_hash=sign_on.text_hash if spec.text_hash is None else spec.text_hash,
            detail=spec.detail,
            state=spec.state,
            previous_hash=previous_hash,
        )
        event.hash = event.compute_hash()
        previous_hash = event.hash
        events.append(event)
    if not events:
        return []
    Event.objects.bulk_create(events)
    sign_on.event_count, sign_on.last_event_hash = sequence, previous_hash
    SignOn.objects.filter(pk=sign_on.pk).update(event_count=sequence, last_event_hash=previous_hash)
    # Once committed, the new head is also kept outside the database (signatories.checkpoints).
    if getattr(settings, "EVENT_CHECKPOINTS", ""):
        transaction.on_commit(partial(tasks.keep_checkpoint.enqueue, sign_on.pk))
    return events
