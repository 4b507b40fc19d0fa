"""A sign-on's goal: "publish when 25 organizations have signed". Progress shows in the tracker
and on the signers' page, staff are told once when it is reached, and the sign-on closes and
the letter goes out by itself where staff chose so."""

import pytest
from django.urls import reverse

from letters.models import Publication
from signatories import selectors, services
from signatories.models import Action, SignOn
from tests.support.signing import (
    STAFF_ACTOR,
    approved_revision,
    ask_to_sign,
    open_form_data,
    open_new_sign_on,
    sign,
    token_for,
    with_open_link,
)

pytestmark = pytest.mark.django_db


def goal_emails(mailoutbox) -> list:
    return [m for m in mailoutbox if m.subject.startswith("Goal reached")]


@pytest.fixture
def opener(staff) -> services.Actor:
    """Staff who open the sign-on: the goal's email goes to them."""
    return services.Actor(user=staff, label=staff.email)


def test_staff_set_a_goal_and_see_progress_in_the_tracker_and_on_the_signers_page(
    staff_client, members, client, django_capture_on_commit_callbacks
):
    revision = approved_revision()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:open"),
            open_form_data(revision.circulation_approval, members, goal_organizations="2"),
        )
    assert response.status_code == 302
    sign_on = SignOn.objects.get()
    assert (sign_on.goal_organizations, sign_on.publish_at_goal) == (2, False)
    invitations = list(sign_on.invitations.order_by("organization__name"))
    with django_capture_on_commit_callbacks(execute=True):
        sign(invitations[0])
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    html = tracker.content.decode()
    assert "1 of 2 organizations signed" in html
    assert '<progress id="goal-organizations" max="2" value="1">50%</progress>' in html
    assert "When it is reached, you are emailed; you close and publish." in html
    page = client.get(reverse("signatories:sign", args=[token_for(invitations[1])]))
    text = page.content.decode()
    assert "The letter goes out when</strong> 2 organizations have signed" in text
    assert "1 of 2 organizations signed" in text


def test_staff_are_told_once_when_the_goal_is_reached(
    members, opener, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = open_new_sign_on(members, actor=opener, goal_organizations=2)
    first, second, third = sign_on.invitations.order_by("organization__name")[:3]
    with django_capture_on_commit_callbacks(execute=True):
        sign(first)
    sign_on.refresh_from_db()
    assert sign_on.goal_reached_at is None and not goal_emails(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        sign(second)
    sign_on.refresh_from_db()
    assert sign_on.goal_reached_at is not None
    assert sign_on.status == SignOn.Status.OPEN  # staff close and publish themselves
    [email] = goal_emails(mailoutbox)
    assert email.to == ["staff@example.org"]
    assert "2 organizations signed (the goal: 2)" in email.body
    assert "The sign-on is still open." in email.body
    # A third signature, and the job run again (a second worker): nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        sign(third)
    assert services.reach_goal.call(sign_on.pk) == "no goal to reach"
    assert len(goal_emails(mailoutbox)) == 1
    assert sign_on.events.filter(action=Action.GOAL_REACHED).count() == 1
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_by_itself_the_sign_on_closes_and_the_letter_goes_out(
    members, opener, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = open_new_sign_on(members, actor=opener, goal_organizations=2, publish_at_goal=True)
    first, second = sign_on.invitations.order_by("organization__name")[:2]
    with django_capture_on_commit_callbacks(execute=True):
        sign(first)
        sign(second)
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.PUBLISHED
    publication = Publication.objects.get(letter=sign_on.letter)
    assert len(publication.lines()) == 2
    [email] = goal_emails(mailoutbox)
    assert "the sign-on closed and the letter was published" in email.body
    actions = list(sign_on.events.order_by("sequence").values_list("action", flat=True))
    assert actions[-3:] == [Action.GOAL_REACHED, Action.CLOSED, Action.PUBLISHED]
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_signatures_waiting_for_review_keep_it_closed_and_staff_are_told(
    members, opener, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = with_open_link(
        open_new_sign_on(members, actor=opener, goal_organizations=1, publish_at_goal=True)
    )
    request = ask_to_sign(sign_on)
    services.confirm_signature(signature=request, actor=STAFF_ACTOR)  # now waits for review
    with django_capture_on_commit_callbacks(execute=True):
        sign(sign_on.invitations.order_by("organization__name")[0])
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.CLOSED
    assert not Publication.objects.filter(letter=sign_on.letter).exists()
    [email] = goal_emails(mailoutbox)
    assert "it was not published, as 1 signature awaits review" in email.body


def test_a_goal_of_individuals_counts_individuals(members, django_capture_on_commit_callbacks):
    sign_on = open_new_sign_on(
        members,
        revision=approved_revision(accepts_individuals=True),
        goal_organizations=1,
        goal_individuals=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sign(sign_on.invitations.order_by("organization__name")[0])
    sign_on.refresh_from_db()
    goal = selectors.goal_of(sign_on, selectors.tally(sign_on))
    assert [(p.label, p.signed, p.goal) for p in goal.parts] == [
        ("organizations", 1, 1),
        ("individuals", 0, 1),
    ]
    assert sign_on.goal_reached_at is None  # both goals must be reached


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"goal_organizations": "0"}, "goal_organizations", "greater than or equal to 1"),
        ({"goal_organizations": "many"}, "goal_organizations", "Enter a whole number"),
        ({"goal_individuals": "5"}, "goal_individuals", "does not accept individuals"),
        ({"publish_at_goal": "on"}, "publish_at_goal", "Set a goal of organizations"),
    ],
)
def test_a_goal_that_cannot_be_is_refused_by_name(staff_client, members, overrides, field, message):
    revision = approved_revision(accepts_individuals=False)
    response = staff_client.post(
        reverse("signatories_admin:open"),
        open_form_data(revision.circulation_approval, members, **overrides),
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert not SignOn.objects.exists()
