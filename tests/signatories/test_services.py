import datetime
import itertools

import pytest
import time_machine
from django.utils import timezone

from coalition.models import Organization
from signatories import services
from signatories.models import Event, Signature, SignOn
from tests.factories import ContactFactory, OrganizationFactory

from .conftest import SIGNER, STAFF_ACTOR, approved_revision, open_new_sign_on, sign, token_for

# Sign-on status transitions ------------------------------------------------------------------

SIGN_ON_STATUSES = list(SignOn.Status.values)


def drive_sign_on(sign_on: SignOn, target: str) -> None:
    if target == SignOn.Status.OPEN:
        services.open_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    elif target == SignOn.Status.CLOSED:
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    elif target == SignOn.Status.CANCELLED:
        services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    else:
        raise NotImplementedError(target)


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(SIGN_ON_STATUSES, SIGN_ON_STATUSES))
)
def test_it_allows_exactly_the_sign_on_transitions_in_the_table(current, target, members):
    allowed = target in SignOn.TRANSITIONS[current]
    assert SignOn.can_transition(current, target) is allowed
    if target in (SignOn.Status.DRAFT, SignOn.Status.PUBLISHED):
        # Nothing returns a sign-on to draft; publication is its own step (not part of sign-on).
        assert allowed is ((current, target) == (SignOn.Status.CLOSED, SignOn.Status.PUBLISHED))
        return
    sign_on = services.create_sign_on(
        revision=approved_revision(),
        deadline=timezone.now() + datetime.timedelta(days=2),
        coalitions=[members.coalition],
        actor=STAFF_ACTOR,
    )
    SignOn.objects.filter(pk=sign_on.pk).update(status=current)
    sign_on.refresh_from_db()
    if allowed:
        drive_sign_on(sign_on, target)
        sign_on.refresh_from_db()
        assert sign_on.status == target
        action = {"open": "opened"}.get(target, target)
        assert sign_on.events.filter(action=action).exists()
    else:
        count = sign_on.events.count()
        with pytest.raises(services.TransitionNotAllowed):
            drive_sign_on(sign_on, target)
        sign_on.refresh_from_db()
        assert sign_on.status == current
        assert sign_on.events.count() == count


# Signature status transitions -----------------------------------------------------------------

SIGNATURE_STATUSES = list(Signature.Status.values)


def drive_signature(signature: Signature, target: str) -> None:
    if target == Signature.Status.APPROVED:
        services.approve_signature(signature=signature, actor=STAFF_ACTOR)
    elif target == Signature.Status.REJECTED:
        services.reject_signature(signature=signature, actor=STAFF_ACTOR, reason="Not a member")
    elif target == Signature.Status.WITHDRAWN:
        services.withdraw_signature(signature=signature, actor=SIGNER)
    else:
        raise NotImplementedError(target)


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(SIGNATURE_STATUSES, SIGNATURE_STATUSES))
)
def test_it_allows_exactly_the_signature_transitions_in_the_table(current, target, sign_on):
    allowed = target in Signature.TRANSITIONS[current]
    assert Signature.can_transition(current, target) is allowed
    if Signature.Status.NEEDS_RECONFIRMATION in (current, target):
        return  # recirculation and reconfirmation: see test_recirculation.py
    if target in (Signature.Status.UNCONFIRMED, Signature.Status.PENDING_REVIEW):
        # Only signing creates these: nothing returns a signature to them.
        assert not allowed or (current, target) == ("unconfirmed", "pending_review")
        return
    signature = sign(sign_on.invitations.first())
    Signature.objects.filter(pk=signature.pk).update(status=current)
    signature.refresh_from_db()
    if allowed:
        drive_signature(signature, target)
        signature.refresh_from_db()
        assert signature.status == target
    else:
        with pytest.raises(services.TransitionNotAllowed):
            drive_signature(signature, target)
        signature.refresh_from_db()
        assert signature.status == current


# Opening -------------------------------------------------------------------------------------


def test_it_freezes_the_revision_and_its_hash(members):
    revision = approved_revision()
    sign_on = open_new_sign_on(members, revision=revision)
    assert sign_on.revision == revision
    assert sign_on.text_hash == services.revision_text_hash(revision)
    assert len(sign_on.text_hash) == 64
    # A later draft of the letter does not change what is circulated.
    letter = revision.content_object
    letter.title = "Changed after circulation"
    letter.save_revision()
    sign_on.refresh_from_db()
    assert sign_on.revision == revision


def test_it_refuses_a_revision_not_approved_for_circulation(members):
    from tests.factories import make_letter

    letter = make_letter(live=False)
    with pytest.raises(services.SignOnError, match="not been approved") as error:
        services.create_sign_on(
            revision=letter.latest_revision,
            deadline=timezone.now() + datetime.timedelta(days=1),
            coalitions=[members.coalition],
            actor=STAFF_ACTOR,
        )
    assert error.value.field == "revision"


def test_it_refuses_a_past_deadline_and_an_empty_audience(members):
    with pytest.raises(services.SignOnError, match="future") as error:
        services.create_sign_on(
            revision=approved_revision(),
            deadline=timezone.now() - datetime.timedelta(minutes=1),
            coalitions=[members.coalition],
            actor=STAFF_ACTOR,
        )
    assert error.value.field == "deadline"
    with pytest.raises(services.SignOnError, match="audience is empty"):
        services.create_sign_on(
            revision=approved_revision(slug="other"),
            deadline=timezone.now() + datetime.timedelta(days=1),
            actor=STAFF_ACTOR,
        )


def test_it_refuses_a_second_sign_on_on_the_same_letter(members):
    revision = approved_revision()
    open_new_sign_on(members, revision=revision)
    with pytest.raises(services.SignOnError, match="already has a sign-on"):
        open_new_sign_on(members, revision=revision)


def test_it_invites_the_audience_by_coalition_tier_and_hand_picked(members):
    outsider = OrganizationFactory(name="Outside Group")
    archived = OrganizationFactory(name="Gone Group", status=Organization.Status.ARCHIVED)
    sign_on = open_new_sign_on(
        members, tiers=["lead", "steering"], organizations=[outsider, archived]
    )
    invited = set(sign_on.invitations.values_list("organization__name", flat=True))
    assert invited == {
        "Association of Widget Makers 0",
        "Association of Widget Makers 1",
        "Outside Group",
    }
    assert sign_on.events.filter(action="invited").count() == 3


def test_it_invites_late_additions_once(sign_on):
    extra = OrganizationFactory(name="Late Joiner")
    services.invite_organizations(sign_on=sign_on, organizations=[extra], actor=STAFF_ACTOR)
    services.invite_organizations(sign_on=sign_on, organizations=[extra], actor=STAFF_ACTOR)
    assert sign_on.invitations.filter(organization=extra).count() == 1


def test_it_stores_only_the_hash_of_the_token(invitations):
    token = token_for(invitations[0])
    invitations[0].refresh_from_db()
    assert token not in invitations[0].token_hash
    assert services.find_invitation(token) == invitations[0]
    # A new link replaces the old one.
    newer = token_for(invitations[0])
    assert services.find_invitation(newer) == invitations[0]
    with pytest.raises(services.InvalidToken):
        services.find_invitation(token)


# Signing -------------------------------------------------------------------------------------


def test_it_approves_a_known_authorized_signer_at_once(invitations):
    signature = sign(invitations[0])
    assert signature.status == Signature.Status.APPROVED
    assert signature.text_hash == invitations[0].sign_on.text_hash
    assert list(Signature.objects.printable().filter(letter=signature.letter)) == [signature]


def test_it_holds_an_unknown_signer_for_review(invitations):
    signature = sign(invitations[0], signer_email="stranger@example.com")
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert "not a known authorized signer" in signature.review_reasons[0]
    assert not Signature.objects.printable().filter(pk=signature.pk).exists()


def test_it_holds_every_signature_when_staff_review_all(members):
    sign_on = open_new_sign_on(members, auto_approve_authorized=False)
    signature = sign(sign_on.invitations.first())
    assert signature.status == Signature.Status.PENDING_REVIEW


def test_it_holds_a_display_name_that_impersonates_another_organization(members, invitations):
    victim = members.organizations[1]
    signature = sign(invitations[0], display_name=victim.printed_name)
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert "name of another organization" in signature.review_reasons[0]
    other = sign(invitations[2], display_name="Totally Different Name")
    assert other.status == Signature.Status.PENDING_REVIEW
    assert "differs from the organization's name" in other.review_reasons[0]


def test_it_accepts_the_name_alone_or_with_the_acronym(invitations):
    org = invitations[0].organization
    assert sign(invitations[0], display_name=f"  {org.name}  ").status == "approved"


def test_it_refuses_a_second_signature_and_names_the_first_signer(members, invitations):
    sign(invitations[0], signer_name="First Person", signer_title="CEO")
    ContactFactory(organization=invitations[0].organization, email="second@awm0.example.org")
    with pytest.raises(services.AlreadyResponded, match="First Person \\(CEO\\) already signed"):
        sign(invitations[0], signer_name="Second Person", signer_email="second@awm0.example.org")
    assert Signature.objects.filter(organization=invitations[0].organization).count() == 1


def test_it_requires_the_authorization_and_the_names(invitations):
    with pytest.raises(services.SignOnError, match="authorized") as error:
        sign(invitations[0], authorized=False)
    assert error.value.field == "authorized"
    with pytest.raises(services.SignOnError, match="signer name is required"):
        sign(invitations[0], signer_name="   ")
    with pytest.raises(services.SignOnError, match="display name is too long"):
        sign(invitations[0], display_name="A" * 301)
    assert not Signature.objects.exists()


def test_it_refuses_a_text_hash_other_than_the_circulated_one(invitations):
    with pytest.raises(services.SignOnError, match="text has changed") as error:
        sign(invitations[0], text_hash="0" * 64)
    assert error.value.field == "text_hash"


def test_a_decline_gives_way_to_a_later_signature(invitations):
    declined = services.decline_letter(
        invitation=invitations[0], signer_name="Kim", signer_email="kim@x.org", actor=SIGNER
    )
    assert declined.response == "declined"
    with pytest.raises(services.AlreadyResponded, match="Kim already declined"):
        services.decline_letter(
            invitation=invitations[0], signer_name="Lee", signer_email="lee@x.org", actor=SIGNER
        )
    signed = sign(invitations[0])
    declined.refresh_from_db()
    assert declined.status == Signature.Status.WITHDRAWN
    assert signed.status == Signature.Status.APPROVED
    with pytest.raises(services.AlreadyResponded, match="withdraw the signature first"):
        services.decline_letter(
            invitation=invitations[0], signer_name="Lee", signer_email="lee@x.org", actor=SIGNER
        )


def test_a_withdrawn_organization_may_sign_again(invitations):
    first = sign(invitations[0])
    services.withdraw_signature(signature=first, actor=SIGNER)
    second = sign(invitations[0])
    assert second.status == Signature.Status.APPROVED
    with pytest.raises(services.TransitionNotAllowed):
        services.withdraw_signature(signature=first, actor=SIGNER)


def test_approval_freezes_the_logo_and_rejection_needs_a_reason(invitations):
    held = sign(invitations[0], signer_email="stranger@example.com")
    with pytest.raises(services.SignOnError, match="reason") as error:
        services.reject_signature(signature=held, actor=STAFF_ACTOR, reason="  ")
    assert error.value.field == "reason"
    approved = services.approve_signature(signature=held, actor=STAFF_ACTOR)
    assert approved.approved_at is not None
    assert approved.status == "approved"


@pytest.mark.parametrize("status", ["draft", "closed", "cancelled", "published"])
def test_it_refuses_responses_unless_open(status, sign_on, invitations):
    SignOn.objects.filter(pk=sign_on.pk).update(status=status)
    with pytest.raises(services.ResponsesClosed):
        sign(invitations[0])
    with pytest.raises(services.ResponsesClosed):
        services.decline_letter(
            invitation=invitations[1], signer_name="Kim", signer_email="k@x.org", actor=SIGNER
        )
    assert not Signature.objects.exists()


def test_it_refuses_responses_after_the_deadline_even_before_closing(sign_on, invitations):
    signature = sign(invitations[0])
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        with pytest.raises(services.ResponsesClosed, match="responses are no longer accepted"):
            sign(invitations[1])
        with pytest.raises(services.ResponsesClosed):
            services.withdraw_signature(signature=signature, actor=SIGNER)


def test_it_closes_due_sign_ons(sign_on, members):
    later = open_new_sign_on(members, days=10, revision=approved_revision(slug="later"))
    assert services.close_due_sign_ons() == []
    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        closed = services.close_due_sign_ons()
    assert [s.pk for s in closed] == [sign_on.pk]
    sign_on.refresh_from_db()
    later.refresh_from_db()
    assert sign_on.status == "closed"
    assert later.status == "open"
    event = sign_on.events.last()
    assert (event.action, event.actor, event.detail["early"]) == ("closed", "deadline", False)


# Events --------------------------------------------------------------------------------------


def test_every_step_appends_a_chained_event(sign_on, invitations):
    token_for(invitations[0])
    signature = sign(invitations[0], signer_email="stranger@example.com")
    services.approve_signature(signature=signature, actor=STAFF_ACTOR)
    services.decline_letter(
        invitation=invitations[1], signer_name="Kim", signer_email="kim@x.org", actor=SIGNER
    )
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    actions = list(sign_on.events.values_list("action", flat=True))
    assert actions[:2] == ["created", "opened"]
    assert actions[-4:] == ["signed", "approved", "declined", "closed"]
    signed = sign_on.events.get(action="signed")
    assert (signed.ip_address, signed.user_agent, signed.text_hash) == (
        "203.0.113.9",
        "Test/1.0",
        sign_on.text_hash,
    )
    assert signed.actor == "stranger@example.com"
    assert services.verify_event_chain(sign_on=sign_on) == []


def test_editing_an_event_is_detected(sign_on):
    event = sign_on.events.get(action="opened")
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(pk=event.pk).update(actor="someone else")
    # Bypass the model, as someone with database access would.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signatories_event SET actor = %s WHERE id = %s", ["mallory", event.pk]
        )
    assert services.verify_event_chain(sign_on=sign_on) == [
        f"event {event.sequence} (opened) was altered"
    ]


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_deleting_an_event_is_detected(which, sign_on):
    from django.db import connection

    events = list(sign_on.events.order_by("sequence"))
    victim = {"first": events[0], "middle": events[len(events) // 2], "last": events[-1]}[which]
    with pytest.raises(TypeError):
        victim.delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM signatories_event WHERE id = %s", [victim.pk])
    assert services.verify_event_chain(sign_on=sign_on) != []


def test_a_token_binds_to_its_own_sign_on(members):
    first = open_new_sign_on(members)
    second = open_new_sign_on(members, revision=approved_revision(slug="second"))
    token = token_for(first.invitations.first())
    invitation = services.find_invitation(token)
    assert invitation.sign_on == first
    sign(invitation)
    assert not second.signatures.exists()
    with pytest.raises(services.SignOnError, match="text has changed"):
        # The text the second sign-on circulates is not what this token's signer read.
        sign(invitation, text_hash=second.text_hash)
