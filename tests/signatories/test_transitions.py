"""Every status move of a sign-on and of a signature, allowed and refused.

First through the one core every change takes (`core.check_status`, `core.transition`): a refused
move changes nothing and records nothing; an allowed one saves the status and appends exactly
one event holding it. Then through the services staff and signers use, from statuses reached
the way they are reached in use, so that the record verifies after each move.
"""

import datetime
import itertools

import pytest
from django.utils import timezone

from signatories import selectors, services
from signatories.models import Event, Signature, SignOn
from signatories.services.core import check_status, holding, transition
from tests.factories import SignatureFactory
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    ask_to_sign,
    make_members,
    sign,
    withdraw,
)

SIGN_ON_MOVES = list(itertools.product(SignOn.Status.values, repeat=2))
SIGNATURE_MOVES = list(itertools.product(Signature.Status.values, repeat=2))


@pytest.fixture
def draft(db) -> SignOn:
    members = make_members(1)
    return services.create_sign_on(
        revision=approved_revision(),
        deadline=timezone.now() + datetime.timedelta(days=2),
        coalitions=[members.coalition],
        actor=STAFF_ACTOR,
    )


def put(row: SignOn | Signature, status: str) -> None:
    """Set a status behind the services' back: here only the core under test decides."""
    type(row).objects.filter(pk=row.pk).update(status=status)
    row.refresh_from_db()


def chain_of(sign_on: SignOn) -> list[tuple[int, str]]:
    return list(Event.objects.filter(sign_on=sign_on).values_list("sequence", "hash"))


def refusal(row: SignOn | Signature, current: str, target: str) -> str:
    kind = "sign-on" if isinstance(row, SignOn) else "signature"
    labels = type(row).Status
    return (
        f"A {kind} that is {labels(current).label.lower()} cannot become "
        f"{labels(target).label.lower()}."
    )


# Through the core ----------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), SIGN_ON_MOVES)
def test_the_core_moves_a_sign_on_exactly_as_its_table_allows(current, target, draft):
    put(draft, current)
    allowed = target in SignOn.TRANSITIONS[current]
    assert SignOn.can_transition(current, target) is allowed
    row_before = SignOn.objects.values().get(pk=draft.pk)
    chain_before = chain_of(draft)
    moment = timezone.now() + datetime.timedelta(minutes=5)

    def move() -> SignOn:
        with holding(draft) as held:
            check_status(held.sign_on, target)
            transition(
                held.sign_on,
                held.sign_on,
                action="moved",
                actor=STAFF_ACTOR,
                status=target,
                fields={"closed_at": moment},
                detail={"to": target},
            )
        return held.sign_on

    if not allowed:
        with pytest.raises(services.TransitionNotAllowed) as error:
            move()
        assert str(error.value) == refusal(draft, current, target)
        assert SignOn.objects.values().get(pk=draft.pk) == row_before
        assert chain_of(draft) == chain_before
        return

    moved = move()
    assert moved.status == target
    draft.refresh_from_db()
    assert (draft.status, draft.closed_at) == (target, moment)
    chain_after = chain_of(draft)
    assert chain_after[:-1] == chain_before
    assert len(chain_after) == len(chain_before) + 1
    event = Event.objects.get(sign_on=draft, sequence=chain_after[-1][0])
    assert (event.action, event.detail, event.actor) == (
        "moved",
        {"to": target},
        "staff@example.org",
    )
    assert event.state == {"sign_on": draft.chain_state()}
    assert event.state["sign_on"]["status"] == target
    assert event.previous_hash == chain_before[-1][1]
    assert event.hash_is_valid()
    assert (draft.event_count, draft.last_event_hash) == chain_after[-1]


def test_the_core_sets_only_the_fields_typed_for_the_row(draft):
    """A field outside the row's typed fields (core.SignOnFields) is refused before anything is
    saved or recorded: a caller cannot reach the status, the chain or another row's columns."""
    row_before = SignOn.objects.values().get(pk=draft.pk)
    chain_before = chain_of(draft)
    for fields in ({"status": SignOn.Status.PUBLISHED}, {"event_count": 0}, {"reminders_sent": 3}):
        refused = f"does not set {next(iter(fields))} on a SignOn"
        with pytest.raises(TypeError, match=refused), holding(draft) as held:
            transition(held.sign_on, held.sign_on, action="moved", actor=STAFF_ACTOR, fields=fields)
    assert SignOn.objects.values().get(pk=draft.pk) == row_before
    assert chain_of(draft) == chain_before


@pytest.mark.parametrize(("current", "target"), SIGNATURE_MOVES)
def test_the_core_moves_a_signature_exactly_as_its_table_allows(current, target, draft):
    signature = SignatureFactory(sign_on=draft, letter=draft.letter, status=current)
    allowed = target in Signature.TRANSITIONS[current]
    assert Signature.can_transition(current, target) is allowed
    row_before = Signature.objects.values().get(pk=signature.pk)
    sign_on_before = SignOn.objects.values().get(pk=draft.pk)
    chain_before = chain_of(draft)

    def move() -> Signature:
        with holding(draft, signature=signature) as held:
            check_status(held.signature, target)
            transition(
                held.sign_on,
                held.signature,
                action="moved",
                actor=STAFF_ACTOR,
                status=target,
                fields={"reason": "Moved by the test."},
            )
        return held.signature

    if not allowed:
        with pytest.raises(services.TransitionNotAllowed) as error:
            move()
        assert str(error.value) == refusal(signature, current, target)
        assert Signature.objects.values().get(pk=signature.pk) == row_before
        assert SignOn.objects.values().get(pk=draft.pk) == sign_on_before
        assert chain_of(draft) == chain_before
        return

    assert move().status == target
    signature.refresh_from_db()
    assert (signature.status, signature.reason) == (target, "Moved by the test.")
    chain_after = chain_of(draft)
    assert chain_after[:-1] == chain_before
    assert len(chain_after) == len(chain_before) + 1
    event = Event.objects.get(sign_on=draft, sequence=chain_after[-1][0])
    assert (event.action, event.signature, event.organization) == (
        "moved",
        signature,
        signature.organization,
    )
    assert event.state == {"signature": signature.chain_state()}
    assert event.state["signature"]["status"] == target
    assert event.hash_is_valid()


# Through the services ------------------------------------------------------------------------


def sign_on_in(status: str) -> SignOn:
    """A sign-on brought to `status` by the services, in the order staff would."""
    members = make_members(1)
    sign_on = services.create_sign_on(
        revision=approved_revision(),
        deadline=timezone.now() + datetime.timedelta(days=2),
        coalitions=[members.coalition],
        actor=STAFF_ACTOR,
    )
    if status == SignOn.Status.CANCELLED:
        services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    if status in (SignOn.Status.OPEN, SignOn.Status.CLOSED, SignOn.Status.PUBLISHED):
        services.open_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    if status in (SignOn.Status.CLOSED, SignOn.Status.PUBLISHED):
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    if status == SignOn.Status.PUBLISHED:
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    assert sign_on.status == status
    return sign_on


SIGN_ON_SERVICES = {
    SignOn.Status.OPEN: ("opened", lambda s: services.open_sign_on(sign_on=s, actor=STAFF_ACTOR)),
    SignOn.Status.CLOSED: (
        "closed",
        lambda s: services.close_sign_on(sign_on=s, actor=STAFF_ACTOR),
    ),
    SignOn.Status.CANCELLED: (
        "cancelled",
        lambda s: services.cancel_sign_on(sign_on=s, actor=STAFF_ACTOR),
    ),
    SignOn.Status.PUBLISHED: (
        "published",
        lambda s: services.publish_sign_on(sign_on=s, actor=STAFF_ACTOR),
    ),
}


@pytest.mark.parametrize(("current", "target"), SIGN_ON_MOVES)
def test_the_services_move_a_sign_on_exactly_as_its_table_allows(current, target, db):
    allowed = target in SignOn.TRANSITIONS[current]
    if target == SignOn.Status.DRAFT:
        assert not allowed  # nothing returns a sign-on to draft
        return
    sign_on = sign_on_in(current)
    action, drive = SIGN_ON_SERVICES[target]
    events = sign_on.events.count()
    if allowed:
        drive(sign_on)
        sign_on.refresh_from_db()
        assert sign_on.status == target
        new = list(sign_on.events.filter(sequence__gt=events).order_by("sequence"))
        assert (new[0].action, new[0].state["sign_on"]["status"]) == (action, target)
        # Opening also invites the audience, one event per person.
        invited = sign_on.invitations.count() if target == SignOn.Status.OPEN else 0
        assert [e.action for e in new[1:]] == ["invited"] * invited
    else:
        # Publishing an open sign-on is refused with what to do instead.
        expected = (
            services.SignOnError
            if (current, target) == (SignOn.Status.OPEN, SignOn.Status.PUBLISHED)
            else services.TransitionNotAllowed
        )
        with pytest.raises(expected):
            drive(sign_on)
        sign_on.refresh_from_db()
        assert sign_on.status == current
        assert sign_on.events.count() == events
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def signature_in(status: str, sign_on: SignOn) -> Signature:
    """A signature brought to `status` by the services, as signers and staff would."""
    invitation = sign_on.invitations.get()
    if status == Signature.Status.UNCONFIRMED:
        services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
        return ask_to_sign(sign_on)
    if status == Signature.Status.APPROVED:
        return sign(invitation)
    # A line that is not the organization's name waits for review.
    signature = sign(invitation, display_name="Widget Makers United")
    if status == Signature.Status.WITHDRAWN:
        withdraw(signature)
    elif status == Signature.Status.REJECTED:
        services.reject_signature(signature=signature, actor=STAFF_ACTOR, reason="Not its name.")
    signature.refresh_from_db()
    assert signature.status == status
    return signature


SIGNATURE_SERVICES = {
    Signature.Status.PENDING_REVIEW: (
        "confirmed",
        lambda s: services.confirm_signature(signature=s, actor=SIGNER),
    ),
    Signature.Status.APPROVED: (
        "approved",
        lambda s: services.approve_signature(signature=s, actor=STAFF_ACTOR),
    ),
    Signature.Status.REJECTED: (
        "rejected",
        lambda s: services.reject_signature(signature=s, actor=STAFF_ACTOR, reason="Not a member"),
    ),
    Signature.Status.WITHDRAWN: ("withdrawn", withdraw),
}


@pytest.mark.parametrize(("current", "target"), SIGNATURE_MOVES)
def test_the_services_move_a_signature_exactly_as_its_table_allows(current, target, db):
    allowed = target in Signature.TRANSITIONS[current]
    if Signature.Status.NEEDS_RECONFIRMATION in (current, target):
        return  # recirculation and reconfirmation: see test_recirculation.py
    if target == Signature.Status.UNCONFIRMED:
        assert not allowed  # only asking through the open link makes one
        return
    sign_on = sign_on_in(SignOn.Status.OPEN)
    signature = signature_in(current, sign_on)
    action, drive = SIGNATURE_SERVICES[target]
    events = sign_on.events.count()
    if (current, target) == (Signature.Status.UNCONFIRMED, Signature.Status.APPROVED):
        # Only a person confirming their address where the sign-on approves individuals by rule
        # (test_approval_by_rule.py); staff never approve an address nobody confirmed.
        assert allowed
        allowed = False
    if allowed:
        drive(signature)
        signature.refresh_from_db()
        assert signature.status == target
        assert sign_on.events.count() == events + 1
        event = sign_on.events.last()
        assert (event.action, event.signature) == (action, signature)
        assert event.state["signature"]["status"] == target
    else:
        with pytest.raises(services.TransitionNotAllowed):
            drive(signature)
        signature.refresh_from_db()
        assert signature.status == current
        assert sign_on.events.count() == events
    assert selectors.verify_event_chain(sign_on=sign_on) == []
