"""The tracker at a hundred thousand signatures (issue 20): its counts from the database, the
same queries however many people signed, a chart of bounded size replayed only since it was last
drawn, and the check of a long record shown as of the latest check finished."""

import datetime
import importlib
import re
from collections import Counter

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories import selectors, services
from signatories.models import Action, Event, Invitation, Signature, SignOn
from signatories.selectors import chart as charts
from signatories.selectors.tally import counting_responses, responses_that_count, state_of
from signatories.services import chain_checks
from tests.factories import ContactFactory, MembershipFactory, OrganizationFactory
from tests.support.signing import STAFF_ACTOR, make_members, open_new_sign_on, sign
from tests.support.signing_at_scale import individual, status_of, with_events

from .test_tally import every_state  # noqa: F401 (a fixture)

tallies = importlib.import_module("signatories.selectors.tally_shown")


@pytest.fixture
def sign_on(open_sign_on: SignOn) -> SignOn:
    return open_sign_on


def people(
    sign_on: SignOn, count: int = 0, *, start: int = 0, numbers: list[int] | None = None
) -> None:
    """People who signed through the open link, as the services leave them, in one write each:
    most approved, some unconfirmed, withdrawn or rejected (the benchmark's mix)."""
    sign_on.refresh_from_db()
    numbers = numbers or list(range(10_000 + start, 10_000 + start + count))
    with_events(
        sign_on,
        [individual(sign_on, n, status_of(n)) for n in numbers],
        Action.INDIVIDUAL_SIGNED,
    )


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


TRACKER_VIEWS = [
    "",
    "?column=review",
    "?source=individual&column=signed",
    "?q=person+number",
]


@pytest.mark.parametrize("query", TRACKER_VIEWS)
def test_the_tracker_costs_the_same_queries_for_3_people_as_for_200(
    staff_client, sign_on, invitations, query
):
    sign(invitations[0])
    url = reverse("signatories_admin:tracker", args=[sign_on.pk]) + query
    people(sign_on, numbers=[4999, 5005, 5000])  # waiting for review, approved, unconfirmed
    few = queries_of(staff_client, url)
    people(sign_on, 197, start=3)
    many = queries_of(staff_client, url)
    assert many == few


def test_the_counts_in_the_database_are_the_tallys_own(every_state):  # noqa: F811
    """`counting_responses` and `state_of` in SQL pick what the Python rules pick."""
    sign_on = every_state.sign_on
    everything = Signature.objects.filter(sign_on=sign_on).order_by("created_at", "pk")
    expected = {s.pk for s in responses_that_count(everything).values()}
    assert set(counting_responses(sign_on).values_list("pk", flat=True)) == expected
    counts = selectors.tally(sign_on)
    by_python = [row.state for row in counts.rows]
    assert len(by_python) == counts.totals["total"] + counts.open_link_totals["total"]


def test_the_tracker_lists_people_by_name_after_the_invited(staff_client, sign_on):
    people(sign_on, 120)
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])
    first = staff_client.get(url).context["rows"].page
    second = staff_client.get(url, {"page": "2"}).context["rows"].page
    rows = [*first, *second]
    assert len(rows) == len(sign_on.invitations.all()) + 120
    invited = [row for row in rows if row.source == "invited"]
    individuals = [row for row in rows if row.source == "individual"]
    assert rows == invited + individuals
    assert [row.name for row in individuals] == sorted(
        (row.name for row in individuals), key=str.casefold
    )
    assert {row.state for row in individuals} >= {"signed", "unconfirmed", "withdrawn"}


# The chart --------------------------------------------------------------------------------------


def test_the_charts_points_are_bounded_however_many_changes(sign_on, monkeypatch):
    start = sign_on.opened_at or sign_on.created_at
    replay = charts.Replay(start=start)
    for n in range(20_000):
        replay.change("signed", +1, start + datetime.timedelta(seconds=7 * n))
    assert all(len(steps) <= charts.KEPT_STEPS for steps in replay.steps.values())
    assert replay.totals["signed"] == replay.maximum == 20_000
    monkeypatch.setattr(charts, "replayed", lambda sign_on: replay)

    chart = selectors.response_chart(sign_on, width=640)

    columns = 640 - 2 * charts.PAD
    for points in chart.series.values():
        assert len(points.split()) <= 2 * (columns + 1) + 2
    assert chart.totals["signed"] == 20_000


def test_the_chart_replays_only_the_events_since_and_ends_where_a_full_replay_does(
    sign_on, invitations, django_assert_max_num_queries
):
    people(sign_on, 30)
    sign_on.refresh_from_db()
    before = selectors.response_chart(sign_on)
    sign(invitations[0])
    people(sign_on, 30, start=30)
    sign_on.refresh_from_db()

    with django_assert_max_num_queries(1):
        kept = selectors.response_chart(sign_on)
    with django_assert_max_num_queries(0):
        assert selectors.response_chart(sign_on) == kept
    charts.cache.clear()
    assert selectors.response_chart(sign_on) == kept
    assert kept.totals["signed"] > before.totals["signed"]
    counts = selectors.tally(sign_on)
    assert kept.totals["signed"] == counts.printed


# The check of a long record ---------------------------------------------------------------------


def chain_paragraph(client, sign_on: SignOn) -> str:
    html = client.get(reverse("signatories_admin:tracker", args=[sign_on.pk])).content.decode()
    found = re.search(r'<p id="chain-check">(.*?)</p>', html, re.S)
    assert found
    return re.sub(r"<[^>]+>", "", found[1])


def test_a_long_record_shows_the_latest_check_and_queues_one_at_a_time(
    staff_client, sign_on, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(chain_checks, "CHECKED_IN_REQUEST", 0)
    people(sign_on, 5)
    sign_on.refresh_from_db()

    with django_capture_on_commit_callbacks() as queued:
        assert "the worker is checking it now" in chain_paragraph(staff_client, sign_on)
        assert "the worker is checking it now" in chain_paragraph(staff_client, sign_on)
    assert len(queued) == 1  # one job, however many views

    assert chain_checks.check_event_chain.call(sign_on.pk) == 0
    checked = sign_on.event_count
    assert "The record holds" in chain_paragraph(staff_client, sign_on)

    people(sign_on, 2, start=5)
    with django_capture_on_commit_callbacks() as queued:
        said = chain_paragraph(staff_client, sign_on)
        chain_paragraph(staff_client, sign_on)
    assert f"The record held for its first {checked} events, checked at" in said
    assert "the 2 since are being checked" in said
    assert len(queued) == 1


def test_a_check_of_events_since_rewritten_is_not_shown(
    staff_client, sign_on, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(chain_checks, "CHECKED_IN_REQUEST", 0)
    people(sign_on, 3)
    chain_checks.check_event_chain.call(sign_on.pk)
    sign_on.refresh_from_db()
    last = sign_on.events.get(sequence=sign_on.event_count)
    models.QuerySet(Event).filter(pk=last.pk).update(hash="0" * 64)  # the record rewritten
    people(sign_on, 1, start=3)

    assert "the worker is checking it now" in chain_paragraph(staff_client, sign_on)


# The counts in the database, held to the Python rules ------------------------------------------


def python_tally(sign_on: SignOn) -> tuple[dict[int, tuple[str, bool]], dict[str, Counter]]:
    """The tally as `responses_that_count` and `state_of` work it out over every row in Python
    (what the tracker did before the database counted): each invited organization's state and
    whether it opened or answered, and how many of the others are in each state."""
    sign_on.refresh_from_db()
    responses_open = sign_on.accepts_responses
    everything = Signature.objects.filter(sign_on=sign_on).order_by("created_at", "pk")
    latest = responses_that_count(everything)
    opened: dict[int, bool] = {}
    for organization_id, opened_at in sign_on.invitations.values_list(
        "organization_id", "opened_at"
    ):
        opened[organization_id] = opened.get(organization_id, False) or opened_at is not None
    invited = {
        organization_id: (
            state_of(latest.get(organization_id), opened=was, responses_open=responses_open),
            was or organization_id in latest,
        )
        for organization_id, was in opened.items()
    }
    others: dict[str, Counter] = {"open_link": Counter(), "individual": Counter()}
    for key, response in latest.items():
        if key in opened:
            continue
        source = "individual" if response.organization_id is None else "open_link"
        others[source][state_of(response, responses_open=responses_open)] += 1
    return invited, others


def several_answers_each(sign_on: SignOn) -> None:
    """People with more than one response: withdrawn then signed again, signed then an
    unconfirmed request beside it, two unconfirmed requests, rejected then withdrawn."""
    rounds = [
        [(7001, Signature.Status.WITHDRAWN), (7002, Signature.Status.APPROVED)],
        [(7003, Signature.Status.UNCONFIRMED), (7004, Signature.Status.REJECTED)],
        [(7001, Signature.Status.APPROVED), (7002, Signature.Status.UNCONFIRMED)],
        [(7003, Signature.Status.UNCONFIRMED), (7004, Signature.Status.WITHDRAWN)],
    ]
    for answers in rounds:
        sign_on.refresh_from_db()
        with_events(
            sign_on,
            [individual(sign_on, number, status) for number, status in answers],
            Action.INDIVIDUAL_SIGNED,
        )


@pytest.mark.parametrize("closed", [False, True])
def test_the_counts_in_the_database_are_those_python_works_out(every_state, closed):  # noqa: F811
    sign_on = every_state.sign_on
    several_answers_each(sign_on)
    people(sign_on, numbers=[4999, 5000, 5002, 5004, 5005])
    if closed:  # the signer can no longer reconfirm: staff decide
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    invited, others = python_tally(sign_on)

    counts = selectors.tally(SignOn.objects.get(pk=sign_on.pk))

    assert {row.organization_id: (row.state, row.opened) for row in counts.counted_invited} == (
        invited
    )
    assert counts.others == others
    assert counts.others["individual"]["signed"] == 4  # 7001 again, 7002 before, 5005, Lee Ng
    assert ("not_reconfirmed" in {state for state, _ in invited.values()}) == closed


# The counts past a thousand lines: read at most every few seconds, and said how old ----------


def tracker_html(client, sign_on: SignOn) -> str:
    response = client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert response.status_code == 200
    return response.content.decode()


def printed_count(html: str) -> int:
    found = re.search(r'<strong id="printed-count">(\d+)</strong>', html)
    assert found
    return int(found[1])


def counted_at(html: str) -> str:
    found = re.search(r'<p class="help-text" id="counts-as-of">(.*?)</p>', html, re.S)
    return found[1] if found else ""


def test_a_small_sign_on_is_counted_as_it_stands_on_every_view(staff_client, sign_on):
    people(sign_on, numbers=[5005, 5006])
    with time_machine.travel(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC), tick=False):
        assert printed_count(tracker_html(staff_client, sign_on)) == 2
        people(sign_on, numbers=[5007])
        html = tracker_html(staff_client, sign_on)
    assert printed_count(html) == 3
    assert counted_at(html) == ""


def test_a_large_sign_on_is_counted_at_most_every_few_seconds_and_says_when(
    staff_client, sign_on, monkeypatch
):
    monkeypatch.setattr(tallies, "LIVE_UP_TO", 2)
    people(sign_on, numbers=[5005, 5006, 5007])
    start = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        html = tracker_html(staff_client, sign_on)
        assert (printed_count(html), counted_at(html)) == (3, "")  # counted for this view
        people(sign_on, numbers=[5008])
        clock.shift(3)

        html = tracker_html(staff_client, sign_on)
        assert printed_count(html) == 3
        said = counted_at(html)
        assert "3 seconds ago" in said
        assert f"at most every {tallies.REFRESHED_EVERY} seconds" in said

        clock.shift(tallies.REFRESHED_EVERY)
        html = tracker_html(staff_client, sign_on)
    assert (printed_count(html), counted_at(html)) == (4, "")


def test_while_one_view_counts_again_the_others_show_the_counts_before(
    staff_client, sign_on, monkeypatch
):
    monkeypatch.setattr(tallies, "LIVE_UP_TO", 2)
    people(sign_on, numbers=[5005, 5006, 5007])
    start = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        tracker_html(staff_client, sign_on)
        people(sign_on, numbers=[5008])
        clock.shift(tallies.REFRESHED_EVERY + 1)
        counting = tallies.counting_key(sign_on)
        assert cache.add(counting, 1)  # another view is counting

        html = tracker_html(staff_client, sign_on)
        assert printed_count(html) == 3
        assert f"{tallies.REFRESHED_EVERY + 1} seconds ago" in counted_at(html)

        cache.delete(counting)
        html = tracker_html(staff_client, sign_on)
    assert (printed_count(html), counted_at(html)) == (4, "")


def test_the_tracker_of_a_large_sign_on_reads_no_tally_between_counts(
    staff_client, sign_on, monkeypatch
):
    people(sign_on, numbers=[5005, 5006, 5007])
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])
    queries_of(staff_client, url)
    live = queries_of(staff_client, url)
    monkeypatch.setattr(tallies, "LIVE_UP_TO", 2)
    counted = queries_of(staff_client, url)
    kept = queries_of(staff_client, url)
    assert kept < counted == live


# Who inviting again would reach -----------------------------------------------------------------


def planned_by_reading_everything(sign_on: SignOn) -> tuple[list, list, list]:
    """`not_yet_invited` as it was: every organization of the audience planned for."""
    audience = list(selectors.audience_of(sign_on))
    planned = selectors.planned_invitations(sign_on, audience)
    invited = set(sign_on.invitations.values_list("organization_id", flat=True))
    reachable = {invitation.organization.pk for invitation in planned}
    uninvited = [o for o in audience if o.pk not in invited]
    return (
        [(i.organization.pk, i.contact_id, i.email) for i in planned],
        [o for o in uninvited if o.pk in reachable],
        [o for o in uninvited if o.pk not in reachable],
    )


@pytest.mark.parametrize("recipients", [SignOn.Recipients.SIGNERS, SignOn.Recipients.ALL])
def test_who_inviting_again_would_reach_is_what_reading_every_organization_finds(db, recipients):
    members = make_members(6)
    sign_on = open_new_sign_on(members)
    SignOn.objects.filter(pk=sign_on.pk).update(recipients=recipients)
    sign_on.refresh_from_db()
    coalition, (first, second, third, fourth, *_) = members.coalition, members.organizations
    joined = OrganizationFactory(name="Gadget Guild")
    MembershipFactory(coalition=coalition, organization=joined)
    ContactFactory(organization=joined, email="nia@gadgets.example.org")
    silent = OrganizationFactory(name="Quiet Makers")
    MembershipFactory(coalition=coalition, organization=silent)
    ContactFactory(organization=silent, email="out@quiet.example.org", email_opt_out=True)
    ContactFactory(organization=first, email="cal@awm0.example.org", is_authorized_signer=True)
    ContactFactory(organization=second, email="plain@awm1.example.org")  # not a signer
    # A link passed on to an address with no contact behind it, which later became a contact's.
    Invitation.objects.create(
        sign_on=sign_on, organization=third, contact=None, name="Fay", email="fay@awm2.example.org"
    )
    ContactFactory(organization=third, email="FAY@awm2.example.org", is_authorized_signer=True)
    ContactFactory(organization=fourth, email="gone@awm3.example.org", email_opt_out=True)

    found = selectors.not_yet_invited(sign_on)

    expected = planned_by_reading_everything(sign_on)
    assert [(i.organization.pk, i.contact_id, i.email) for i in found.invitations] == expected[0]
    assert (found.joined_later, found.unreachable) == (expected[1], expected[2])
    assert found.joined_later == [joined] and found.unreachable == [silent]
    assert len(found.invitations) == (2 if recipients == SignOn.Recipients.SIGNERS else 3)


def test_who_inviting_again_would_reach_costs_the_same_queries_for_3_organizations_as_30(
    db, django_assert_num_queries
):
    members = make_members(3)
    sign_on = open_new_sign_on(members)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.not_yet_invited(sign_on).invitations == []
    for number in range(27):
        joined = OrganizationFactory(name=f"Gadget Guild {number}")
        MembershipFactory(coalition=members.coalition, organization=joined)
        contact = ContactFactory(organization=joined, email=f"nia@gadgets{number}.example.org")
        Invitation.objects.create(
            sign_on=sign_on, organization=joined, contact=contact, name="Nia", email=contact.email
        )
    with django_assert_num_queries(len(queries)):
        assert selectors.not_yet_invited(sign_on).invitations == []
    assert sign_on.invitations.count() == 30
