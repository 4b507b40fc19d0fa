import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Contact
from signatories import selectors, services
from signatories.models import Action, Invitation, SignOn
from signatories.services.reminders import reminders_due, send_scheduled_reminders
from signatories.tasks import send_invitation
from tests.factories import ContactFactory, UserFactory
from tests.support.signing import (
    LINK,
    STAFF_ACTOR,
    approved_revision,
    decline,
    make_members,
    open_new_sign_on,
    sign,
    token_for,
    withdraw,
)

from .test_admin import open_form_data

# However many are reminded: savepoint and release, the sign-on locked, who is waiting, the
# invitations locked, their counts updated in one write, the events appended in one, the head.
REMINDER_QUERIES = 8


@pytest.fixture
def ten_days(members) -> SignOn:
    """Open with a deadline ten days out: both reminders of the default schedule (7, 2) lie ahead."""
    return open_new_sign_on(members, days=10)


def invitation_of(sign_on: SignOn, organization) -> Invitation:
    return sign_on.invitations.select_related("organization", "sign_on").get(
        organization=organization
    )


def after(moment: datetime.datetime, minutes: int = 1) -> datetime.datetime:
    return moment + datetime.timedelta(minutes=minutes)


def test_it_counts_the_reminders_due_with_a_frozen_clock(ten_days):
    seven, two = ten_days.reminder_moments()
    assert (ten_days.deadline - seven, ten_days.deadline - two) == (
        datetime.timedelta(days=7),
        datetime.timedelta(days=2),
    )
    invited_at = ten_days.invitations.first().created_at
    expectations = [
        (seven - datetime.timedelta(seconds=1), 0),
        (seven, 1),
        (two - datetime.timedelta(seconds=1), 1),
        (after(two), 2),
    ]
    for moment, due in expectations:
        with time_machine.travel(moment, tick=False):
            assert reminders_due(ten_days, invited_at=invited_at, now=timezone.now()) == due
    # An organization invited after the first moment is not reminded for it.
    assert reminders_due(ten_days, invited_at=after(seven), now=after(two)) == 1


def test_it_sends_the_scheduled_reminders_when_due(
    ten_days, members, mailoutbox, django_capture_on_commit_callbacks
):
    seven, _ = ten_days.reminder_moments()
    with time_machine.travel(seven - datetime.timedelta(hours=1), tick=False):
        assert services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR) == []
    with time_machine.travel(after(seven), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            reminded = services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR)
        assert len(reminded) == 3
        assert sorted(m.to[0] for m in mailoutbox) == sorted(c.email for c in members.contacts)
        assert "closes in 7 days" in mailoutbox[0].body
    assert set(ten_days.invitations.values_list("reminders_sent", flat=True)) == {1}
    assert ten_days.events.filter(action=Action.REMINDER_SENT).count() == 3
    assert selectors.verify_event_chain(sign_on=ten_days) == []


def test_only_organizations_that_have_not_responded_are_reminded(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    members = make_members(4)
    sign_on = open_new_sign_on(members, days=10)
    signed, declined, withdrawn, silent = (
        invitation_of(sign_on, org) for org in members.organizations
    )
    sign(signed)
    decline(declined)
    withdraw(sign(withdrawn))
    with (
        time_machine.travel(after(sign_on.reminder_moments()[0]), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminded = services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR)
    # Withdrawing is an answer too: an organization that withdrew is not chased to sign again.
    assert {i.pk for i in reminded} == {silent.pk}
    assert [m.to[0] for m in mailoutbox] == [members.contacts[3].email]
    reminded_orgs = set(
        sign_on.events.filter(action=Action.REMINDER_SENT).values_list("organization", flat=True)
    )
    assert reminded_orgs == {silent.organization_id}


def test_opted_out_contacts_get_no_reminder(
    ten_days, members, mailoutbox, django_capture_on_commit_callbacks
):
    first, second, _ = members.organizations
    ContactFactory(organization=first, email="quiet@awm0.example.org", email_opt_out=True)
    # Everyone at the second organization opted out: it gets nothing at all.
    type(members.contacts[1]).objects.filter(organization=second).update(email_opt_out=True)
    with (
        time_machine.travel(after(ten_days.reminder_moments()[0]), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminded = services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR)
    assert second.pk not in {i.organization_id for i in reminded}
    assert len(reminded) == 2
    sent_to = sorted(m.to[0] for m in mailoutbox)
    assert sent_to == [members.contacts[0].email, members.contacts[2].email]
    assert invitation_of(ten_days, second).reminders_sent == 0


def test_running_it_twice_sends_each_reminder_once(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    seven, two = ten_days.reminder_moments()
    with (
        time_machine.travel(after(seven), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert len(services.send_due_reminders()) == 3
        assert services.send_due_reminders() == []
        assert services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR) == []
    assert len(mailoutbox) == 3
    with (
        time_machine.travel(after(two), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert len(services.send_due_reminders()) == 3
        assert services.send_due_reminders() == []
    assert len(mailoutbox) == 6
    assert set(ten_days.invitations.values_list("reminders_sent", flat=True)) == {2}


def test_a_missed_moment_is_not_made_up_with_a_burst(ten_days, mailoutbox):
    with time_machine.travel(after(ten_days.reminder_moments()[1]), tick=False):
        assert len(services.send_due_reminders()) == 3
        assert services.send_due_reminders() == []
    assert set(ten_days.invitations.values_list("reminders_sent", flat=True)) == {2}


@pytest.mark.parametrize("state", ["past deadline", "closed", "cancelled"])
def test_nothing_is_sent_after_the_deadline_or_once_ended(
    state, ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    moment = after(ten_days.reminder_moments()[1])
    if state == "past deadline":
        moment = after(ten_days.deadline)
    elif state == "closed":
        services.close_sign_on(sign_on=ten_days, actor=STAFF_ACTOR)
    else:
        services.cancel_sign_on(sign_on=ten_days, actor=STAFF_ACTOR)
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.send_due_reminders() == []
        with pytest.raises(services.SignOnError):
            services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR, force=True)
        assert send_scheduled_reminders.call(ten_days.pk) == 0
    assert mailoutbox == []
    assert not ten_days.events.filter(action=Action.REMINDER_SENT).exists()


def test_the_reminder_links_to_the_sign_page_and_escapes_the_title(
    members, client, mailoutbox, django_capture_on_commit_callbacks
):
    revision = approved_revision(title="Widgets & <b>gadgets</b>")
    sign_on = open_new_sign_on(members, days=10, revision=revision)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    email = mailoutbox[0]
    assert email.subject.startswith("Reminder, please respond: Widgets & <b>gadgets</b> (closes")
    html = email.alternatives[0][0]
    assert "Widgets &amp; &lt;b&gt;gadgets&lt;/b&gt;" in html
    assert "<b>gadgets" not in html
    assert "has not answered yet" in email.body
    path = LINK.search(email.body).group(1)
    assert LINK.search(html).group(1) == path
    # The same link as the invitation's: the job derives it and changes nothing.
    invitation = sign_on.invitations.get(email=email.to[0])
    assert path == reverse("signatories:sign", args=[token_for(invitation)])
    assert client.get(path).status_code == 200
    assert set(sign_on.events.values_list("action", flat=True)) == {
        Action.CREATED,
        Action.OPENED,
        Action.INVITED,
        Action.REMINDER_SENT,
        Action.INVITATION_OPENED,
    }


def test_staff_send_a_reminder_now_from_the_tracker(
    staff_client, ten_days, members, mailoutbox, django_capture_on_commit_callbacks
):
    sign(invitation_of(ten_days, members.organizations[0]))
    page = staff_client.get(reverse("signatories_admin:tracker", args=[ten_days.pk]))
    content = page.content.decode()
    assert "Send a reminder now" in content
    assert "7 and 2 days before the deadline" in content
    url = reverse("signatories_admin:remind", args=[ten_days.pk])
    assert f'href="{url}"' in content
    # Reading the page sends nothing: it says who the reminder would reach.
    confirm = staff_client.get(url)
    assert confirm.status_code == 200
    assert "Pat Signer 1 &lt;pat1@awm1.example.org&gt;" in confirm.content.decode()
    assert mailoutbox == [] and not ten_days.events.filter(action=Action.REMINDER_SENT).exists()
    # Nothing is due by the schedule, yet the button reminds everyone who has not responded.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, follow=True)
    assert "Reminding 2 people at 2 organizations" in response.content.decode()
    assert len(mailoutbox) == 2
    event = ten_days.events.filter(action=Action.REMINDER_SENT).first()
    assert event.actor == "staff" and event.detail["manual"] is True


def test_the_reminder_button_needs_csrf_and_the_change_permission(client, ten_days):
    user = UserFactory(username="viewer")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_signon"])
    )
    client.force_login(user)
    url = reverse("signatories_admin:remind", args=[ten_days.pk])
    page = client.get(reverse("signatories_admin:tracker", args=[ten_days.pk]))
    assert "Send a reminder now" not in page.content.decode()
    assert client.post(url)["Location"] == "/admin/"  # Wagtail's answer to PermissionDenied
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory(username="boss", is_superuser=True, is_staff=True))
    assert strict.post(url).status_code == 403
    assert not ten_days.events.filter(action=Action.REMINDER_SENT).exists()


def test_the_command_sends_the_due_reminders(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    with time_machine.travel(after(ten_days.reminder_moments()[0]), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_due_reminders", stdout=out)
        call_command("send_due_reminders", stdout=out)
    lines = out.getvalue().splitlines()
    assert len([line for line in lines if line.startswith("Reminded ")]) == 3
    assert "A joint letter on widgets" in lines[0]
    assert lines[-1] == "No reminder is due."
    assert len(mailoutbox) == 3


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("7, soon", "Give whole numbers of days"),
        ("0", "Give whole numbers of days"),
        ("-2", "Give whole numbers of days"),
        ("7, 7", "Give each number of days once."),
        ("6, 5, 4, 3, 2, 1", "Give at most 5 reminders."),
    ],
)
def test_the_open_form_names_a_bad_reminder_schedule(staff_client, members, value, error):
    revision = approved_revision()
    response = staff_client.post(
        reverse("signatories_admin:open"),
        open_form_data(revision.circulation_approval, members, reminder_days=value),
    )
    assert response.status_code == 400
    assert f"Reminder schedule: {error}" in response.content.decode()
    assert not SignOn.objects.exists()


@pytest.mark.parametrize(("value", "stored"), [("3, 10", [10, 3]), ("", [])])
def test_the_open_form_sets_the_reminder_schedule(staff_client, members, value, stored):
    revision = approved_revision()
    page = staff_client.get(reverse("signatories_admin:open"))
    assert 'value="7, 2"' in page.content.decode()
    response = staff_client.post(
        reverse("signatories_admin:open"),
        open_form_data(revision.circulation_approval, members, reminder_days=value),
    )
    assert response.status_code == 302
    assert SignOn.objects.get().reminder_days == stored


def test_the_service_refuses_a_bad_schedule(members):
    with pytest.raises(services.SignOnError) as caught:
        open_new_sign_on(members, reminder_days=[2, 0])
    assert caught.value.field == "reminder_days"


def test_opening_queues_a_deferred_run_per_reminder_moment(
    members, deferring_backend, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(members, days=10, reminder_days=[14, 7, 2])
    runs = [
        result
        for result in deferring_backend.results
        if result.task.name == send_scheduled_reminders.name
    ]
    seven, two = sign_on.reminder_moments()[1:]
    # The 14-day moment is already past at opening: only those to come are queued.
    assert [(r.task.run_after, r.args) for r in runs] == [
        (seven, [sign_on.pk]),
        (two, [sign_on.pk]),
    ]
    with (
        time_machine.travel(seven, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_scheduled_reminders.call(sign_on.pk) == 3
        assert send_scheduled_reminders.call(sign_on.pk) == 0


@pytest.mark.parametrize("count", [3, 10])
def test_send_reminders_queries_grow_by_a_constant_per_invitation(
    db, count, django_assert_max_num_queries
):
    sign_on = open_new_sign_on(make_members(count), days=10)
    # The invitations are updated and their events appended in bulk: nothing grows with the list.
    with django_assert_max_num_queries(REMINDER_QUERIES):
        reminded = services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    assert len(reminded) == count


def test_a_queued_reminder_is_not_sent_once_the_organization_has_answered(
    sign_on, invitations, mailoutbox
):
    invitation = invitations[0]
    decline(invitation)
    mailoutbox.clear()

    assert send_invitation.call(invitation.pk, "reminder") == 0
    assert mailoutbox == []
    assert send_invitation.call(invitations[1].pk, "reminder") == 1
    assert len(mailoutbox) == 1


def test_a_reminder_keeps_the_date_the_person_was_invited_and_their_link(sign_on, invitations):
    invitation = invitations[0]
    before = (invitation.created_at, invitation.sent_at, invitation.token_hash)

    with time_machine.travel(invitation.sent_at + datetime.timedelta(days=2)):
        services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)

    invitation.refresh_from_db()
    assert invitation.reminders_sent == 1
    assert (invitation.created_at, invitation.sent_at, invitation.token_hash) == before


def test_reminders_reach_only_who_has_not_answered_each_greeted_by_name(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 6: reminders went to an organization that had withdrawn with a reason, and one
    greeted the wrong contact ("Dear Andrea Morales" to another person of the same organization)."""
    members = make_members(5)
    signed, declined, withdrew, two_people, one_left = members.organizations
    ContactFactory(organization=two_people, name="Andrea Morales", email="andrea@awm3.example.org")
    ContactFactory(organization=one_left, name="Ben Okafor", email="ben@awm4.example.org")
    for organization in (signed, declined, withdrew):
        ContactFactory(organization=organization, name="Cy Colleague")
    sign_on = open_new_sign_on(members, days=10, recipients=SignOn.Recipients.ALL)
    assert sign_on.invitations.count() == 10

    sign(sign_on.invitations.get(contact=members.contacts[0]))
    decline(sign_on.invitations.get(contact=members.contacts[1]), reason="Not our issue")
    withdraw(
        sign(sign_on.invitations.get(contact=members.contacts[2])),
        reason="Our board changed its mind",
    )
    Contact.objects.filter(email="ben@awm4.example.org").update(email_opt_out=True)
    expected = {
        "andrea@awm3.example.org": "Andrea Morales",
        members.contacts[3].email: members.contacts[3].name,
        members.contacts[4].email: members.contacts[4].name,
    }
    assert {i.email for i in services.reminder_recipients(sign_on, force=True)} == set(expected)

    with django_capture_on_commit_callbacks(execute=True):
        reminded = services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)

    assert {i.email for i in reminded} == set(expected)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(expected)
    for email in mailoutbox:
        (address,) = email.to
        assert email.body.startswith(f"Dear {expected[address]},")
        assert f"<p>Dear {expected[address]},</p>" in email.alternatives[0][0]
    # Nor on schedule, nor once queued: the job checks again when it runs.
    with time_machine.travel(after(sign_on.reminder_moments()[1]), tick=False):
        assert {i.email for i in services.send_due_reminders()} == set(expected)
    for invitation in sign_on.invitations.exclude(email__in=expected):
        assert invitation.reminders_sent == 0
        assert send_invitation.call(invitation.pk, "reminder") == 0
    assert len(mailoutbox) == 3
    assert selectors.verify_event_chain(sign_on=sign_on) == []
