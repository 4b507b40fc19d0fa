"""The tracker at a hundred thousand signatures (issue 20): its counts from the database, the
same queries however many people signed, a chart of bounded size replayed only since it was last
drawn, and the check of a long record shown as of the latest check finished."""

import datetime
import re

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories import selectors
from signatories.models import Action, Event, Signature, SignOn
from signatories.selectors import chart as charts
from signatories.selectors.tally import counting_responses, responses_that_count
from signatories.services import chain_checks
from tests.support.signing import sign
from tests.support.signing_at_scale import individual, status_of, with_events

from .test_tally import every_state  # noqa: F401 (a fixture)


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
