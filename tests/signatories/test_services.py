"""The sign-on's services: opening, inviting each person, answering, review, closing, the events.

Every status move, allowed and refused, is in test_transitions.py; the chain's evidence in
test_chain.py.
"""

import datetime
import hashlib
import itertools

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from coalition.crm.models import Organization
from letters.versions import revision_text_hash
from signatories import selectors, services
from signatories.forms import RejectForm
from signatories.inputs import Declining, Forwarding, InvalidInput, Signing, Withdrawing
from signatories.models import Action, Event, Signature, SignOn
from tests.factories import ContactFactory, OrganizationFactory
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    decline,
    open_new_sign_on,
    sign,
    token_for,
    withdraw,
)

# Opening -------------------------------------------------------------------------------------


def test_it_freezes_the_revision_and_its_hash(members):
    revision = approved_revision()
    sign_on = open_new_sign_on(members, revision=revision)
    assert sign_on.revision == revision
    assert sign_on.text_hash == revision_text_hash(revision)
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
    outsider = ContactFactory(organization__name="Outside Group").organization
    archived = ContactFactory(
        organization__name="Gone Group", organization__status=Organization.Status.ARCHIVED
    ).organization
    nobody_to_ask = OrganizationFactory(name="Group Without Contacts")
    sign_on = open_new_sign_on(
        members, tiers=["lead", "steering"], organizations=[outsider, archived, nobody_to_ask]
    )
    invited = set(sign_on.invitations.values_list("organization__name", flat=True))
    assert invited == {
        "Association of Widget Makers 0",
        "Association of Widget Makers 1",
        "Outside Group",
    }
    assert sign_on.events.filter(action=Action.INVITED).count() == 3
    # In the audience, but nobody there can be asked: the tracker says so.
    assert selectors.audience_without_invitation(sign_on) == [nobody_to_ask]


def test_it_invites_each_chosen_person_with_a_link_of_their_own(
    members, mailoutbox, django_capture_on_commit_callbacks
):
    signer_org, primary_org, plain_org = members.organizations
    ContactFactory(organization=signer_org, name="Not A Signer", email="other@awm0.example.org")
    # An organization with no authorized signer: its primary contact is asked.
    primary_org.contacts.update(is_authorized_signer=False)
    ContactFactory(organization=primary_org, name="Second", email="second@awm1.example.org")
    # Neither signer nor primary: everyone is asked, except whoever opted out.
    plain_org.contacts.update(is_authorized_signer=False, is_primary=False)
    ContactFactory(organization=plain_org, name="Robin Plain", email="robin@awm2.example.org")
    ContactFactory(
        organization=plain_org, name="Opted Out", email="no@awm2.example.org", email_opt_out=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members)

    invitations = list(sign_on.invitations.order_by("email"))
    assert [(i.organization, i.email) for i in invitations] == [
        (signer_org, "pat0@awm0.example.org"),
        (primary_org, "pat1@awm1.example.org"),
        (plain_org, "pat2@awm2.example.org"),
        (plain_org, "robin@awm2.example.org"),
    ]
    assert all(i.contact is not None and i.name == i.contact.name for i in invitations)
    assert len({i.token_hash for i in invitations}) == 4
    assert sorted(m.to for m in mailoutbox) == [[i.email] for i in invitations]
    for invitation in invitations:
        (message,) = [m for m in mailoutbox if m.to == [invitation.email]]
        assert message.body.startswith(f"Dear {invitation.name},")
        link = reverse("signatories:sign", args=[token_for(invitation)])
        assert link in message.body
        assert selectors.find_invitation(token_for(invitation)) == invitation


def test_everyone_at_the_organization_is_invited_when_staff_ask_for_all(members):
    ContactFactory(organization=members.organizations[0], email="other@awm0.example.org")
    sign_on = open_new_sign_on(members, recipients=SignOn.Recipients.ALL)
    emails = set(
        sign_on.invitations.filter(organization=members.organizations[0]).values_list(
            "email", flat=True
        )
    )
    assert emails == {"pat0@awm0.example.org", "other@awm0.example.org"}


def test_it_invites_late_additions_and_people_added_since_once(sign_on):
    extra = ContactFactory(organization__name="Late Joiner", email="late@joiner.example.org")
    services.invite_organizations(
        sign_on=sign_on, organizations=[extra.organization], actor=STAFF_ACTOR
    )
    services.invite_organizations(
        sign_on=sign_on, organizations=[extra.organization], actor=STAFF_ACTOR
    )
    assert sign_on.invitations.filter(organization=extra.organization).count() == 1
    # A signer added to a member since it opened is invited; those invited already are not again.
    member = sign_on.invitations.first().organization
    ContactFactory(organization=member, email="new@member.example.org", is_authorized_signer=True)
    added = services.invite_organizations(
        sign_on=sign_on, organizations=[member], actor=STAFF_ACTOR
    )
    assert [i.email for i in added] == ["new@member.example.org"]
    assert sign_on.invitations.filter(organization=member).count() == 2


def test_it_stores_only_the_hash_of_the_token_and_derives_the_link_again(invitations, settings):
    invitation = invitations[0]
    events = invitation.sign_on.events.count()
    token = token_for(invitation)
    invitation.refresh_from_db()
    assert token not in (invitation.token_hash, invitation.token_nonce)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert selectors.find_invitation(token) == invitation
    # The job that emails a reminder derives the same link; deriving it changes nothing.
    assert token_for(invitation) == token
    assert invitation.sign_on.events.count() == events
    with pytest.raises(services.InvalidToken, match="copied all of it"):
        selectors.find_invitation(token[:-1])
    with pytest.raises(services.InvalidToken, match="replaced by a newer one"):
        selectors.find_invitation("A" * 43)
    # The database alone (a dump, a backup) cannot make a link: the key is in the settings.
    settings.SECRET_KEY = "another-secret-key"
    assert token_for(invitation) != token


def test_links_emailed_again_after_a_key_rotation_still_open(
    invitations, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """A reminder derives the link again from the nonce: under a rotated SECRET_KEY (the old one
    kept in SECRET_KEY_FALLBACKS, as Django rotates keys) it must still be the link issued."""
    invitation = invitations[0]
    token = token_for(invitation)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key", [settings.SECRET_KEY]
    assert token_for(invitation) == token
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(sign_on=invitation.sign_on, actor=STAFF_ACTOR, force=True)
    (reminder,) = [m for m in mailoutbox if m.to == [invitation.email]]
    assert reverse("signatories:sign", args=[token]) in reminder.body
    assert selectors.find_invitation(token) == invitation


# Signing -------------------------------------------------------------------------------------


def test_it_approves_a_known_authorized_signer_at_once(invitations):
    signature = sign(invitations[0])
    assert signature.status == Signature.Status.APPROVED
    assert signature.text_hash == invitations[0].sign_on.text_hash
    # The address is the one the link was sent to, not one the signer typed.
    assert signature.signer_email == invitations[0].email
    assert signature.invitation == invitations[0]
    assert selectors.review_reasons(signature) == []
    assert list(Signature.objects.printable().filter(letter=signature.letter)) == [signature]


def test_it_holds_a_contact_who_is_not_an_authorized_signer_until_staff_mark_them(members):
    # No authorized signer on file: the primary contact is invited and signs.
    members.organizations[0].contacts.update(is_authorized_signer=False)
    sign_on = open_new_sign_on(members)
    invitation = sign_on.invitations.get(organization=members.organizations[0])
    signature = sign(invitation)
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert selectors.review_reasons(signature) == [
        "Pat Signer 0 <pat0@awm0.example.org> is not marked as an authorized signer of "
        "Association of Widget Makers 0."
    ]
    assert sign_on.events.get(action=Action.SIGNED).detail["reasons"] == selectors.review_reasons(
        signature
    )
    assert not Signature.objects.printable().filter(pk=signature.pk).exists()
    # Staff fix the contact: the queue reads the reasons again, they are not frozen at signing.
    members.contacts[0].is_authorized_signer = True
    members.contacts[0].save()
    signature = Signature.objects.get(pk=signature.pk)
    assert selectors.review_reasons(signature) == []


def test_a_colleague_at_an_unknown_address_is_held_and_a_known_one_in_another_spelling_is_not(
    invitations,
):
    unknown = services.forward_invitation(
        invitation=invitations[0],
        forwarding=Forwarding(name="Dana Counsel", email="dana@awm0.example.org"),
        actor=SIGNER,
    )
    held = sign(unknown, signer_name="Dana Counsel")
    assert held.status == Signature.Status.PENDING_REVIEW
    assert selectors.review_reasons(held) == [
        "Pat Signer 0 forwarded the request to dana@awm0.example.org, which is not a contact of "
        "Association of Widget Makers 0 on file."
    ]
    # An authorized signer on file since the invitations went out, typed in capitals with a
    # +tag: the same person, so the same contact.
    lee = ContactFactory(
        organization=invitations[1].organization,
        name="Lee Director",
        email="lee@awm1.example.org",
        is_authorized_signer=True,
    )
    known = services.forward_invitation(
        invitation=invitations[1],
        forwarding=Forwarding(name="Lee", email="LEE+letters@AWM1.example.org"),
        actor=SIGNER,
    )
    assert (known.contact, known.name, known.email) == (lee, "Lee Director", lee.email)
    assert sign(known).status == Signature.Status.APPROVED


def test_it_holds_every_signature_when_staff_review_all(members):
    sign_on = open_new_sign_on(members, auto_approve_authorized=False)
    signature = sign(sign_on.invitations.first())
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert selectors.review_reasons(signature) == [
        "This sign-on has every signature reviewed by staff."
    ]


def test_it_holds_a_display_name_that_impersonates_another_organization(members, invitations):
    victim = members.organizations[1]
    signature = sign(invitations[0], display_name=victim.printed_name)
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert "name of another organization" in selectors.review_reasons(signature)[0]
    other = sign(invitations[2], display_name="Totally Different Name")
    assert other.status == Signature.Status.PENDING_REVIEW
    assert "differs from the organization's name" in selectors.review_reasons(other)[0]


def test_it_accepts_the_name_alone_or_with_the_acronym(invitations):
    alone = invitations[0].organization
    signing = Signing.clean(
        {"display_name": f"  {alone.name}  ", "signer_name": " Pat ", "authorized": "on"},
        organization_name=alone.name,
    )
    signature = services.sign_letter(
        invitation=invitations[0],
        signing=signing,
        text_hash=invitations[0].sign_on.text_hash,
        actor=SIGNER,
    )
    assert (signature.status, signature.display_name) == ("approved", alone.name)
    with_acronym = invitations[1].organization
    assert with_acronym.printed_name.endswith(f"({with_acronym.acronym})")
    assert sign(invitations[1], display_name=with_acronym.printed_name).status == "approved"


def test_the_first_answer_for_the_organization_stands_and_names_its_signer(members, sign_on):
    organization = members.organizations[0]
    ContactFactory(
        organization=organization, email="second@awm0.example.org", is_authorized_signer=True
    )
    services.invite_organizations(sign_on=sign_on, organizations=[organization], actor=STAFF_ACTOR)
    first, second = sign_on.invitations.filter(organization=organization).order_by("pk")
    sign(first, signer_name="First Person", signer_title="CEO")
    with pytest.raises(services.AlreadyResponded, match="First Person \\(CEO\\) already signed"):
        sign(second, signer_name="Second Person")
    with pytest.raises(services.AlreadyResponded, match="First Person \\(CEO\\) already signed"):
        decline(second)
    assert Signature.objects.filter(organization=organization).count() == 1


def test_signer_input_is_cleaned_once_with_every_problem_at_once():
    with pytest.raises(InvalidInput) as error:
        Signing.clean(
            {"display_name": "A" * 301, "signer_name": "   ", "comment": "x" * 2001},
            organization_name="Association of Widget Makers 0",
        )
    assert error.value.errors == {
        "display_name": "The name as it will print: at most 300 characters (this has 301).",
        "signer_name": "Your name: this is required.",
        "comment": "Comment: at most 2000 characters (this has 2001).",
        "authorized": "Confirm that you are authorized to sign on behalf of "
        "Association of Widget Makers 0.",
    }
    assert isinstance(error.value, services.SignOnError)
    assert error.value.field == "display_name"
    assert Signing.clean(
        {"display_name": " AWM\x00 ", "signer_name": "Pat\n Signer", "authorized": "on"},
        organization_name="AWM",
    ) == Signing(display_name="AWM", signer_name="Pat Signer")
    # A reason over the limit is refused, not silently dropped.
    with pytest.raises(InvalidInput) as error:
        Withdrawing.clean({"reason": "r" * 2001})
    assert error.value.errors == {"reason": "Reason: at most 2000 characters (this has 2001)."}
    with pytest.raises(InvalidInput, match="required"):
        Declining.clean({"signer_name": ""})
    assert Withdrawing.clean({"reason": "line one\r\nline two"}).reason == "line one\nline two"


def test_it_refuses_a_text_hash_other_than_the_circulated_one(invitations):
    with pytest.raises(services.SignOnError, match="text has changed") as error:
        sign(invitations[0], text_hash="0" * 64)
    assert error.value.field == "text_hash"
    assert not Signature.objects.exists()


def test_a_decline_gives_way_to_a_later_signature(invitations):
    declined = services.decline_letter(
        invitation=invitations[0], declining=Declining(signer_name="Kim"), actor=SIGNER
    )
    assert declined.response == "declined"
    assert declined.signer_email == invitations[0].email
    with pytest.raises(services.AlreadyResponded, match="Kim already declined"):
        services.decline_letter(
            invitation=invitations[0], declining=Declining(signer_name="Lee"), actor=SIGNER
        )
    signed = sign(invitations[0])
    declined.refresh_from_db()
    assert declined.status == Signature.Status.WITHDRAWN
    assert signed.status == Signature.Status.APPROVED
    with pytest.raises(services.AlreadyResponded, match="withdraw the signature first"):
        services.decline_letter(
            invitation=invitations[0], declining=Declining(signer_name="Lee"), actor=SIGNER
        )


def test_a_withdrawn_organization_may_sign_again(invitations):
    first = sign(invitations[0])
    withdraw(first, reason="Our board changed its mind.")
    first.refresh_from_db()
    assert first.status == Signature.Status.WITHDRAWN
    event = first.events.get(action=Action.WITHDRAWN)
    assert event.detail == {"reason": "Our board changed its mind."}
    second = sign(invitations[0])
    assert second.status == Signature.Status.APPROVED
    with pytest.raises(services.TransitionNotAllowed):
        withdraw(first)


def test_only_the_signer_or_an_authorized_signer_withdraws_through_an_invitation(invitations):
    director = invitations[0]
    dana, eve = (
        services.forward_invitation(
            invitation=director,
            forwarding=Forwarding(name=name, email=f"{name.lower()}@awm0.example.org"),
            actor=SIGNER,
        )
        for name in ("Dana", "Eve")
    )
    signature = sign(dana, signer_name="Dana")
    with pytest.raises(services.SignOnError, match="only they, or an authorized signer"):
        services.withdraw_signature(
            signature=signature, withdrawing=Withdrawing(), actor=SIGNER, by=eve
        )
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING_REVIEW
    # The director who passed it on is an authorized signer of the organization.
    services.withdraw_signature(
        signature=signature, withdrawing=Withdrawing(), actor=SIGNER, by=director
    )
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN


def test_approval_and_rejection_of_a_held_signature(
    invitations, mailoutbox, django_capture_on_commit_callbacks
):
    held = sign(invitations[0], display_name="Widget Makers United")
    assert held.status == Signature.Status.PENDING_REVIEW
    # The reason is cleaned once, by the typed input the form builds, before any service.
    assert RejectForm({"reason": "  "}).errors == {
        "reason": ["Give the reason for rejecting: it is emailed to the signer."]
    }
    assert RejectForm({"reason": "r" * 2001}).errors == {
        "reason": ["Reason: at most 2000 characters (this has 2001)."]
    }
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.approve_signature(signature=held, actor=STAFF_ACTOR)
    assert approved.approved_at is not None
    assert approved.status == "approved"
    assert approved.logo_id == invitations[0].organization.logo_id
    assert [m.to for m in mailoutbox] == [[invitations[0].email]]

    other = sign(invitations[1], display_name="Someone Else Entirely")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rejected = services.reject_signature(
            signature=other, actor=STAFF_ACTOR, reason="Not the organization's name."
        )
    assert (rejected.status, rejected.reason) == ("rejected", "Not the organization's name.")
    assert [m.to for m in mailoutbox] == [[invitations[1].email]]
    assert "Not the organization's name." in mailoutbox[0].body


@pytest.mark.parametrize("status", ["draft", "closed", "cancelled", "published"])
def test_it_refuses_responses_unless_open(status, sign_on, invitations):
    SignOn.objects.filter(pk=sign_on.pk).update(status=status)
    with pytest.raises(services.ResponsesClosed):
        sign(invitations[0])
    with pytest.raises(services.ResponsesClosed):
        decline(invitations[1])
    with pytest.raises(services.ResponsesClosed):
        services.forward_invitation(
            invitation=invitations[2],
            forwarding=Forwarding(name="Dana", email="dana@example.org"),
            actor=SIGNER,
        )
    assert not Signature.objects.exists()


def test_it_refuses_responses_after_the_deadline_even_before_closing(sign_on, invitations):
    signature = sign(invitations[0])
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        with pytest.raises(services.ResponsesClosed, match="responses are no longer accepted"):
            sign(invitations[1])
        with pytest.raises(services.ResponsesClosed):
            withdraw(signature)


# Closing -------------------------------------------------------------------------------------


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
    assert selectors.closed_message(sign_on) == (
        f"This sign-on closed on {date_format(timezone.localtime(sign_on.deadline), 'j F Y')} "
        f"at {timezone.localtime(sign_on.deadline):%H:%M}; responses are no longer accepted."
    )


def test_a_sign_on_closed_early_says_it_closed_that_day_not_at_its_deadline(members):
    """Finding 13: published early, it said it "closed on" its deadline, ten days later."""
    start = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        sign_on = open_new_sign_on(members, days=10)
        traveller.move_to(start + datetime.timedelta(days=3))
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
        closed = selectors.closed_message(SignOn.objects.get(pk=sign_on.pk))
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
        published = selectors.closed_message(SignOn.objects.get(pk=sign_on.pk))
    assert sign_on.events.get(action=Action.CLOSED).detail["early"] is True
    # 14:00 UTC is 09:00 in New York, the project's time zone.
    expected = "This sign-on closed on 5 March 2026 at 09:00; responses are no longer accepted."
    assert closed == expected
    assert published == expected


def test_the_closed_messages_say_why_no_response_is_taken(members):
    sign_on = services.create_sign_on(
        revision=approved_revision(),
        deadline=timezone.now() + datetime.timedelta(days=2),
        coalitions=[members.coalition],
        actor=STAFF_ACTOR,
    )
    assert selectors.closed_message(sign_on) == "This sign-on has not opened yet."
    services.open_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    assert selectors.closed_message(sign_on) == ""
    services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR, reason="Overtaken by events.")
    sign_on.refresh_from_db()
    assert selectors.closed_message(sign_on) == (
        "This sign-on was cancelled; no responses are being collected."
    )


# Events --------------------------------------------------------------------------------------


def test_every_step_appends_a_chained_event(sign_on, invitations):
    signature = sign(invitations[0], display_name="Widget Makers United")
    services.approve_signature(signature=signature, actor=STAFF_ACTOR)
    decline(invitations[1], reason="Not our issue")
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    events = list(sign_on.events.order_by("sequence"))
    assert [e.action for e in events] == [
        Action.CREATED,
        Action.OPENED,
        Action.INVITED,
        Action.INVITED,
        Action.INVITED,
        Action.SIGNED,
        Action.APPROVED,
        Action.DECLINED,
        Action.CLOSED,
    ]
    assert [e.sequence for e in events] == list(range(1, 10))
    assert all(e.previous_hash == p.hash for p, e in itertools.pairwise(events))
    signed = sign_on.events.get(action=Action.SIGNED)
    assert (signed.ip_address, signed.user_agent, signed.text_hash) == (
        "203.0.113.9",
        "Test/1.0",
        sign_on.text_hash,
    )
    assert signed.actor == invitations[0].email
    assert signed.state["signature"]["status"] == "pending_review"
    assert signed.state["signature"]["display_name"] == "Widget Makers United"
    assert signed.state["invitation"]["responded_at"] is not None
    approved = sign_on.events.get(action=Action.APPROVED)
    assert approved.state["signature"]["status"] == "approved"
    sign_on.refresh_from_db()
    assert (sign_on.event_count, sign_on.last_event_hash) == (9, events[-1].hash)
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_editing_an_event_is_detected(sign_on):
    event = sign_on.events.get(action=Action.OPENED)
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(pk=event.pk).update(actor="someone else")
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(pk=event.pk).delete()
    # Bypass the model, as someone with database access would.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signatories_event SET actor = %s WHERE id = %s", ["mallory", event.pk]
        )
    assert selectors.verify_event_chain(sign_on=sign_on) == [
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
    assert selectors.verify_event_chain(sign_on=sign_on) != []


def test_a_token_binds_to_its_own_sign_on(members):
    first = open_new_sign_on(members)
    second = open_new_sign_on(members, revision=approved_revision(slug="second"))
    token = token_for(first.invitations.first())
    invitation = selectors.find_invitation(token)
    assert invitation.sign_on == first
    sign(invitation)
    assert not second.signatures.exists()
    with pytest.raises(services.SignOnError, match="text has changed"):
        # The text the second sign-on circulates is not what this token's signer read.
        sign(invitation, text_hash=second.text_hash)


def test_a_signature_the_lock_should_have_refused_is_refused_by_the_constraint(
    members, monkeypatch
):
    """A signature is recorded without a savepoint where what stands was read under the lock; were
    that read ever wrong, the constraint of one confirmed response per organization still
    refuses the second, with words, and nothing of it is written."""
    organization = members.organizations[0]
    ContactFactory(
        organization=organization, email="sam@colleague.example.org", is_authorized_signer=True
    )
    sign_on = open_new_sign_on(members)
    first, second = sign_on.invitations.filter(organization=organization).order_by("pk")
    sign(first)
    events = sign_on.events.count()
    # The reads that would refuse it, wrong: nothing stands.
    monkeypatch.setattr(selectors, "may_have_answered", lambda invitation: False)
    monkeypatch.setattr(
        selectors, "standing_response_and_last_position", lambda sign_on, organization_id: (None, 9)
    )
    with pytest.raises(services.AlreadyResponded, match="already been recorded"):
        sign(second)
    assert Signature.objects.filter(sign_on=sign_on).count() == 1
    assert sign_on.events.count() == events
    assert selectors.verify_event_chain(sign_on=sign_on) == []
