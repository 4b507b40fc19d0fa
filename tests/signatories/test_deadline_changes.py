"""Moving an open sign-on's deadline: recorded, re-scheduled, and emailed once to who has not answered."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from coalition.crm.models import Contact
from signatories import selectors, services
from signatories.models import Action, SignOn
from signatories.services.reminders import send_scheduled_reminders
from signatories.services.sign_ons import change_deadline, close_at_deadline
from signatories.tasks import send_invitation
from tests.factories import ContactFactory
from tests.support.signing import LINK, STAFF_ACTOR, make_members, open_new_sign_on, sign

ET = ZoneInfo("America/New_York")
# A Monday noon in New York, far from a change of daylight saving time: the deadline is ten
# days out, at noon.
START = datetime.datetime(2027, 1, 11, 12, 0, tzinfo=ET)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ten_days(db, clock) -> SignOn:
    return open_new_sign_on(make_members(), days=10)


def at(moment: datetime.datetime):
    return time_machine.travel(moment, tick=False)


def days(count: float) -> datetime.timedelta:
    return datetime.timedelta(days=count)


def test_extending_records_the_old_and_the_new_deadline(ten_days, clock):
    old = ten_days.deadline
    new = old + days(7)

    change_deadline(sign_on=ten_days, deadline=new, actor=STAFF_ACTOR)

    ten_days.refresh_from_db()
    assert ten_days.deadline == new
    event = ten_days.events.get(action=Action.DEADLINE_CHANGED)
    assert event.detail["previous_deadline"] == old.isoformat()
    assert event.detail["deadline"] == new.isoformat()
    assert event.detail["extended"] is True
    assert event.state["sign_on"]["deadline"] == new.isoformat()
    assert selectors.verify_event_chain(sign_on=ten_days) == []
    assert selectors.deadline_words(ten_days) == "closes in 17 days, on 28 January at 12:00 ET"


@pytest.mark.parametrize(
    "moment, message",
    [
        (START - days(1), "The deadline must be in the future."),
        (START, "The deadline must be in the future."),
        (START + days(10), "That is the deadline already: choose another."),
        (START + days(1000), "The deadline must be within 730 days from now."),
    ],
    ids=["past", "now", "unchanged", "too-far"],
)
def test_a_deadline_in_the_past_is_refused_by_its_field(ten_days, moment, message):
    before = ten_days.event_count
    with pytest.raises(services.SignOnError) as refused:
        change_deadline(sign_on=ten_days, deadline=moment, actor=STAFF_ACTOR)
    assert (refused.value.field, refused.value.message) == ("deadline", message)
    ten_days.refresh_from_db()
    assert (ten_days.deadline, ten_days.event_count) == (START + days(10), before)


def test_only_an_open_sign_on_before_its_deadline_moves(ten_days):
    with (
        at(ten_days.deadline + datetime.timedelta(minutes=1)),
        pytest.raises(services.TransitionNotAllowed, match="deadline has passed"),
    ):
        change_deadline(sign_on=ten_days, deadline=START + days(20), actor=STAFF_ACTOR)
    services.close_sign_on(sign_on=ten_days, actor=STAFF_ACTOR)
    with pytest.raises(services.TransitionNotAllowed, match="this one is closed"):
        change_deadline(sign_on=ten_days, deadline=START + days(20), actor=STAFF_ACTOR)


def test_the_new_date_is_emailed_once_to_those_who_have_not_answered(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    signed, quiet, waiting = ten_days.invitations.order_by("organization__name")
    sign(signed)
    Contact.objects.filter(pk=quiet.contact_id).update(email_opt_out=True)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        change_deadline(sign_on=ten_days, deadline=START + days(17), actor=STAFF_ACTOR)

    [email] = mailoutbox
    assert email.to == [waiting.email]
    assert email.subject == (
        "Deadline extended: A joint letter on widgets (now closes 28 January at 12:00 ET)"
    )
    assert (
        "It now closes on 28 January at 12:00 ET, instead of 21 January at 12:00 ET." in email.body
    )
    assert LINK.search(email.body)
    assert "<strong>28 January at 12:00 ET</strong>" in email.alternatives[0][0]
    # The job run again (a retry, a worker restarted) sends nothing more.
    assert send_invitation.call(waiting.pk, "deadline_changed") == 0
    assert len(mailoutbox) == 1
    assert ten_days.events.filter(action=Action.DEADLINE_NOTIFIED).count() == 1


def test_bringing_it_forward_says_so(ten_days, mailoutbox, django_capture_on_commit_callbacks):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_deadline(sign_on=ten_days, deadline=START + days(6), actor=STAFF_ACTOR)
    assert len(mailoutbox) == 3
    assert mailoutbox[0].subject.startswith("Deadline brought forward:")
    assert "brought forward the deadline" in mailoutbox[0].body
    assert ten_days.events.get(action=Action.DEADLINE_CHANGED).detail["extended"] is False


def test_the_close_job_of_the_old_deadline_leaves_an_extended_sign_on_open(ten_days):
    old = ten_days.deadline
    change_deadline(sign_on=ten_days, deadline=old + days(7), actor=STAFF_ACTOR)

    with at(old + datetime.timedelta(minutes=1)):
        assert close_at_deadline.call(ten_days.pk) == "deadline not reached"
        assert services.close_due_sign_ons() == []
    ten_days.refresh_from_db()
    assert ten_days.status == SignOn.Status.OPEN
    with at(old + days(7)):
        assert close_at_deadline.call(ten_days.pk) == "closed"


def test_the_close_job_of_a_deadline_brought_forward_closes_then_and_the_old_one_does_nothing(
    ten_days,
):
    old = ten_days.deadline
    change_deadline(sign_on=ten_days, deadline=START + days(4), actor=STAFF_ACTOR)

    with at(START + days(4)):
        assert close_at_deadline.call(ten_days.pk) == "closed"
    with at(old):
        assert close_at_deadline.call(ten_days.pk) == "not open"
    closed = ten_days.events.get(action=Action.CLOSED)
    assert closed.detail["early"] is False


def test_a_reminder_job_of_the_old_schedule_sends_no_second_reminder(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    """Reminders 7 and 2 days before: brought forward from day 10 to day 6, the 7-day moment has
    passed (the email of the new date stands for it); the job queued for the old 7-day moment
    (day 3) must not remind them again a day before the new 2-day moment (day 4)."""
    with django_capture_on_commit_callbacks(execute=True):
        change_deadline(sign_on=ten_days, deadline=START + days(6), actor=STAFF_ACTOR)
    mailoutbox.clear()

    with at(START + days(3)), django_capture_on_commit_callbacks(execute=True):
        assert send_scheduled_reminders.call(ten_days.pk) == 0
    assert mailoutbox == []
    with at(START + days(4)), django_capture_on_commit_callbacks(execute=True):
        assert send_scheduled_reminders.call(ten_days.pk) == 3
        # The old schedule's job and the new one's at the same moment: one reminder.
        assert send_scheduled_reminders.call(ten_days.pk) == 0
    assert len(mailoutbox) == 3
    assert "closes in 2 days" in mailoutbox[0].body


def test_a_later_deadline_brings_its_own_reminders(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    """Both reminders sent before the deadline was extended by a week: the new 2-day moment
    reminds again, and the old moments remind nobody."""
    with at(START + days(3)):
        services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR)
    with at(START + days(8)):
        services.send_reminders(sign_on=ten_days, actor=STAFF_ACTOR)
        change_deadline(sign_on=ten_days, deadline=START + days(17), actor=STAFF_ACTOR)
    assert set(ten_days.invitations.values_list("reminders_sent", flat=True)) == {0}
    mailoutbox.clear()

    with at(START + days(9)):
        assert send_scheduled_reminders.call(ten_days.pk) == 0
    with at(START + days(10)), django_capture_on_commit_callbacks(execute=True):
        assert send_scheduled_reminders.call(ten_days.pk) == 3
    with at(START + days(15)), django_capture_on_commit_callbacks(execute=True):
        assert send_scheduled_reminders.call(ten_days.pk) == 3
    assert len(mailoutbox) == 6
    assert selectors.verify_event_chain(sign_on=ten_days) == []


def test_the_jobs_of_the_new_deadline_are_queued_for_their_moments(
    db, clock, deferring_backend, django_capture_on_commit_callbacks
):
    sign_on = open_new_sign_on(make_members(), days=10)
    deferring_backend.clear()
    new = START + days(17)

    with django_capture_on_commit_callbacks(execute=True):
        change_deadline(sign_on=sign_on, deadline=new, actor=STAFF_ACTOR)

    queued = {
        (result.task.name, result.task.run_after, tuple(result.args))
        for result in deferring_backend.results
    }
    assert (close_at_deadline.name, new, (sign_on.pk,)) in queued
    assert (send_scheduled_reminders.name, new - days(7), (sign_on.pk,)) in queued
    assert (send_scheduled_reminders.name, new - days(2), (sign_on.pk,)) in queued
    emails = [args for name, _, args in queued if name == send_invitation.name]
    assert sorted(emails) == sorted(
        (pk, "deadline_changed") for pk in sign_on.invitations.values_list("pk", flat=True)
    )


def test_a_contact_added_after_the_change_is_not_told_of_it(
    ten_days, mailoutbox, django_capture_on_commit_callbacks
):
    """The email follows the invitation's own event: one invited later has none to follow."""
    change_deadline(sign_on=ten_days, deadline=START + days(17), actor=STAFF_ACTOR)
    organization = ten_days.invitations.first().organization
    late = ContactFactory(
        organization=organization, email="late@example.org", is_authorized_signer=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        [invitation] = services.invite_organizations(
            sign_on=ten_days, organizations=[organization], actor=STAFF_ACTOR
        )
    assert invitation.contact == late
    mailoutbox.clear()
    assert send_invitation.call(invitation.pk, "deadline_changed") == 0
    assert mailoutbox == []


def test_the_tracker_words_the_change(ten_days, staff_client):
    change_deadline(sign_on=ten_days, deadline=START + days(17), actor=STAFF_ACTOR)
    html = staff_client.get(reverse("signatories_admin:tracker", args=[ten_days.pk])).content
    assert (
        "deadline_changed: extended from 21 January at 12:00 ET to 28 January at 12:00 ET"
        in html.decode()
    )
