"""Staff at size (issue 20): the tracker and the review queue a page at a time and filtered, with
the same few queries however many rows a page shows; every signature matching a filter approved
or rejected by a background job after a page that states the count; exports streamed."""

import csv
import importlib
import io

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatories import selectors, services
from signatories.inputs import IndividualSigning
from signatories.models import Action, Signature, SignOn
from signatories.selectors.review import ByKeys, ReviewFilter
from signatories.services import bulk_review
from tests.support.signing import SIGNER, STAFF_ACTOR, sign
from tests.support.signing_at_scale import individual, with_events

from .test_recirculation import recirculate

REVIEW = reverse("signatories_admin:review")
REVIEW_ALL = reverse("signatories_admin:review_all")


def waiting_individuals(sign_on: SignOn, count: int, *, start: int = 0) -> list[Signature]:
    """People who signed through the open link and confirmed their address: held for review."""
    people = []
    for number in range(start, start + count):
        person = services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(
                person=f"Person Number {number:03d}",
                title="Professor",
                signer_email=f"person{number}@uni.example.org",
            ),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
        people.append(services.confirm_signature(signature=person, actor=SIGNER))
    for person in people:
        person.refresh_from_db()
        assert person.status == Signature.Status.PENDING_REVIEW
    return people


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.fixture
def sign_on(open_sign_on: SignOn) -> SignOn:
    return open_sign_on


# The tracker ------------------------------------------------------------------------------------


def test_the_tracker_lists_a_page_at_a_time_with_links_that_keep_the_filter(
    staff_client, sign_on, monkeypatch
):
    monkeypatch.setattr("signatories.admin_views.common.PER_PAGE", 2)
    waiting_individuals(sign_on, 5)
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])

    response = staff_client.get(url, {"source": "individual", "column": "review", "page": "2"})

    page = response.context["rows"].page
    assert (page.paginator.count, page.number, len(page.object_list)) == (5, 2, 2)
    assert {row.source for row in page} == {"individual"}
    html = response.content.decode()
    assert "?column=review&amp;source=individual&amp;page=3" in html  # next
    assert "?column=review&amp;source=individual&amp;page=1" in html  # first, previous
    # The counts beside it are the tally's, whatever the filter.
    assert response.context["tally"].open_link_totals["review"] == 5


def test_the_tracker_filters_by_column_source_and_name(staff_client, sign_on, invitations):
    sign(invitations[0])
    waiting_individuals(sign_on, 3)
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])

    def names(**query: str) -> list[str]:
        return [row.name for row in staff_client.get(url, query).context["rows"].page]

    assert names(column="signed") == [invitations[0].organization.name]
    assert names(source="invited", column="not_responded") == [
        invitation.organization.name for invitation in invitations[1:]
    ]
    assert names(q="number 001") == ["Person Number 001"]
    assert names(q="PERSON2@UNI") == ["Person Number 002"]
    assert names(column="review", source="individual") == [
        f"Person Number {n:03d}" for n in range(3)
    ]
    # A filtered list and its column's count are one fact.
    counts = selectors.tally(sign_on)
    assert len(names(column="review")) == counts.waiting_for_review
    # Unknown values are dropped, not guessed at; a page past the end is the last.
    assert len(names(column="bogus", source="x", page="999")) == 3 + 3


def test_the_tracker_costs_the_same_queries_for_3_rows_as_for_10(staff_client, sign_on):
    url = reverse("signatories_admin:tracker", args=[sign_on.pk])
    waiting_individuals(sign_on, 3)
    few = queries_of(staff_client, url)
    waiting_individuals(sign_on, 7, start=3)
    many = queries_of(staff_client, url)
    assert many == few


# The review queue -------------------------------------------------------------------------------


def test_the_review_queue_pages_and_filters_by_sign_on_and_kind(
    staff_client, sign_on, invitations, monkeypatch
):
    monkeypatch.setattr(
        importlib.import_module("signatories.admin_views.review"), "REVIEW_PER_PAGE", 2
    )
    people = waiting_individuals(sign_on, 3)
    held = sign(invitations[0], display_name="Widget Friends")

    everything = staff_client.get(REVIEW)
    assert everything.context["pager"].page.paginator.count == 4
    assert len(everything.context["pending"]) == 2

    individuals = staff_client.get(
        REVIEW, {"sign_on": sign_on.pk, "kind": "individual", "page": "2"}
    )
    assert [item.signature for item in individuals.context["pending"]] == people[2:]
    html = individuals.content.decode()
    assert f"?sign_on={sign_on.pk}&amp;kind=individual&amp;page=1" in html
    assert "Approve all 3 matching the filter" in html

    invited = staff_client.get(REVIEW, {"kind": "invited"})
    assert [item.signature for item in invited.context["pending"]] == [held]
    assert staff_client.get(REVIEW, {"kind": "open_link"}).context["pending"] == []
    assert staff_client.get(REVIEW, {"sign_on": "999999"}).context["pending"] == []


def test_the_review_queue_costs_the_same_queries_for_3_rows_as_for_10(
    staff_client, sign_on, invitations
):
    waiting_individuals(sign_on, 2)
    sign(invitations[0], display_name="Widget Friends")
    few = queries_of(staff_client, REVIEW)
    waiting_individuals(sign_on, 6, start=2)
    sign(invitations[1], display_name="Gadget Friends")
    many = queries_of(staff_client, REVIEW)
    assert many == few


def test_a_page_of_the_queue_read_by_its_keys_is_the_page_the_queue_orders(
    sign_on, invitations, django_assert_num_queries
):
    """The queue's rows are picked by their keys, then read whole: the same rows, in the same
    order, with what each row shows read along (no query per row)."""
    people = waiting_individuals(sign_on, 5)
    held = sign(invitations[0], display_name="Widget Friends")
    queue = selectors.review_queue()
    by_keys = ByKeys(queue)

    assert len(by_keys) == queue.count() == 6
    for start, stop in [(0, 2), (2, 4), (4, 6), (5, 50), (0, 50)]:
        with django_assert_num_queries(2):
            page = by_keys[start:stop]
            shown = [
                (s.sign_on.letter.title, s.organization, s.invitation and s.invitation.contact)
                for s in page
            ]
        assert page == list(queue[start:stop])
        assert len(shown) == len(page)
    assert by_keys[0] == queue.first()
    assert set(by_keys[0:6]) == {*people, held}
    with django_assert_num_queries(1):
        assert by_keys[6:10] == []


def test_requests_never_confirmed_list_a_page_at_a_time_keeping_the_queues_page(
    staff_client, sign_on, monkeypatch
):
    monkeypatch.setattr(
        importlib.import_module("signatories.admin_views.review"), "SECTION_PER_PAGE", 2
    )
    asked = [
        services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(
                person=f"Asker Number {n}", signer_email=f"asker{n}@uni.example.org"
            ),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
        for n in range(5)
    ]
    assert {person.status for person in asked} == {Signature.Status.UNCONFIRMED}

    first = staff_client.get(REVIEW, {"sign_on": sign_on.pk})
    assert first.context["unconfirmed_people"] == asked[:2]
    assert first.context["unconfirmed_people_pager"].page.paginator.count == 5
    html = first.content.decode()
    assert f"?sign_on={sign_on.pk}&amp;page=1&amp;people_page=2#unconfirmed-heading" in html

    last = staff_client.get(REVIEW, {"sign_on": sign_on.pk, "people_page": "3"})
    assert last.context["unconfirmed_people"] == asked[4:]


def test_the_review_queue_costs_the_same_queries_for_3_requests_never_confirmed_as_for_60(
    staff_client, sign_on
):
    def ask(numbers: range) -> None:
        sign_on.refresh_from_db()
        unconfirmed = [individual(sign_on, n, Signature.Status.UNCONFIRMED) for n in numbers]
        with_events(sign_on, unconfirmed, Action.INDIVIDUAL_SIGNED)

    ask(range(3))
    few = queries_of(staff_client, REVIEW)
    ask(range(3, 60))
    assert queries_of(staff_client, REVIEW) == few
    page = staff_client.get(REVIEW).context
    assert len(page["unconfirmed_people"]) == 50


def test_reasons_read_in_bulk_are_those_read_one_by_one(sign_on, invitations):
    """The queue reads what its reasons need for a whole page at once: the same reasons."""
    waiting_individuals(sign_on, 2)
    services.sign_as_individual(
        sign_on=sign_on,
        signing=IndividualSigning(
            person=invitations[0].organization.name, signer_email="who@example.org"
        ),
        text_hash=sign_on.text_hash,
        actor=SIGNER,
    )
    sign(invitations[1], display_name="Widget Friends")
    queue = list(selectors.review_queue())
    items = selectors.review_items(queue)
    assert [item.reasons for item in items] == [
        selectors.review_reasons(signature) for signature in queue
    ]


# Bulk actions on a filter -----------------------------------------------------------------------


def test_staff_approve_every_individual_waiting_after_a_page_with_the_count(
    staff_client, sign_on, invitations, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(bulk_review, "BATCH", 2)
    people = waiting_individuals(sign_on, 5)
    organization = sign(invitations[0], display_name="Widget Friends")
    query = {"verb": "approve", "sign_on": str(sign_on.pk), "kind": "individual"}

    confirm = staff_client.get(REVIEW_ALL, query)
    assert confirm.status_code == 200
    assert confirm.context["preview"].matching == 5
    html = confirm.content.decode()
    assert "Approve 5 signatures" in html
    assert "Individuals, in a personal capacity" in html and sign_on.letter.title in html
    assert Signature.objects.filter(status=Signature.Status.APPROVED).count() == 0

    events_before = sign_on.events.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(REVIEW_ALL, {**query, "expected": "5"})

    assert response.status_code == 302
    assert response["Location"] == f"{REVIEW}?sign_on={sign_on.pk}&kind=individual"
    for person in people:
        person.refresh_from_db()
        assert person.status == Signature.Status.APPROVED
    organization.refresh_from_db()
    assert organization.status == Signature.Status.PENDING_REVIEW
    # One event per signature, the chain whole; one email per signer.
    assert sign_on.events.filter(action=Action.APPROVED).count() == 5
    assert sign_on.events.count() == events_before + 5
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    assert sorted(email.to[0] for email in mailoutbox) == sorted(p.signer_email for p in people)
    [run] = bulk_review.recent_bulk_runs()
    assert (run.done, run.total, run.finished, run.skipped) == (5, 5, True, {})
    queue = staff_client.get(REVIEW).content.decode()
    assert "done: 5 approved" in queue


def test_a_bulk_rejection_needs_a_reason_and_tells_each_signer(
    staff_client, sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    people = waiting_individuals(sign_on, 3)
    query = {"verb": "reject", "kind": "individual"}

    refused = staff_client.post(REVIEW_ALL, {**query, "reason": "  "})
    assert refused.status_code == 200
    assert any("Reason: give the reason for rejecting" in m for m in messages_of(refused))
    assert not Signature.objects.filter(status=Signature.Status.REJECTED).exists()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(REVIEW_ALL, {**query, "reason": "Not a real person", "expected": "3"})

    for person in people:
        person.refresh_from_db()
        assert (person.status, person.reason) == (Signature.Status.REJECTED, "Not a real person")
    assert len(mailoutbox) == 3
    assert "Not a real person" in mailoutbox[0].body


def test_a_filter_matching_nothing_is_refused_naming_the_filter(staff_client, sign_on):
    response = staff_client.get(REVIEW_ALL, {"verb": "approve", "kind": "open_link"})
    assert response.status_code == 302
    [message] = messages_of(response)
    assert "Nothing was started: Nothing waits for review that matches the filter" in message
    assert "Organizations asking through the open link" in message
    with pytest.raises(services.SignOnError) as refusal:
        bulk_review.preview_bulk_review(verb="approve", chosen=ReviewFilter(kind="individual"))
    assert refusal.value.field == "kind"


def test_a_changed_count_is_shown_again_before_anything_starts(staff_client, sign_on):
    waiting_individuals(sign_on, 2)
    response = staff_client.post(
        REVIEW_ALL, {"verb": "approve", "kind": "individual", "expected": "7"}
    )
    assert any("2 signatures match the filter now, not 7" in m for m in messages_of(response))
    assert not Signature.objects.filter(status=Signature.Status.APPROVED).exists()


def test_a_bulk_approval_skips_those_that_need_a_note_and_says_why(
    staff_client, sign_on, invitations, django_capture_on_commit_callbacks
):
    not_reconfirmed = sign(invitations[0], display_name="Widget Friends")
    recirculate(sign_on, material=True)
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    held = sign_on  # closed now: what was waiting for its signer is staff's
    waiting = Signature.objects.get(pk=not_reconfirmed.pk)
    assert waiting.status == Signature.Status.NEEDS_RECONFIRMATION

    refused = staff_client.get(REVIEW_ALL, {"verb": "approve", "sign_on": str(held.pk)})
    assert refused.status_code == 302
    assert any("each needs a note" in m for m in messages_of(refused))


def test_the_job_skips_what_needs_a_note_and_what_was_settled_meanwhile(
    sign_on, invitations, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(bulk_review, "BATCH", 2)
    people = waiting_individuals(sign_on, 4)
    chosen = ReviewFilter(sign_on_id=sign_on.pk)
    preview = bulk_review.preview_bulk_review(verb="approve", chosen=chosen)
    assert (preview.matching, preview.acting_on, preview.skipped) == (4, 4, {})
    # Withdrawn by its signer after staff confirmed, before the job reached it.
    services.reject_signature(signature=people[1], actor=STAFF_ACTOR, reason="Already settled")
    with django_capture_on_commit_callbacks(execute=True):
        run = bulk_review.start_bulk_review(verb="approve", chosen=chosen, actor=STAFF_ACTOR)
    run = bulk_review.bulk_run(run.id)
    assert run is not None and run.done == 3
    statuses = [Signature.objects.get(pk=p.pk).status for p in people]
    assert statuses == ["approved", "rejected", "approved", "approved"]


def test_a_signature_arriving_after_the_confirmation_is_left_for_staff(
    sign_on, deferring_backend, django_capture_on_commit_callbacks
):
    waiting_individuals(sign_on, 2)
    chosen = ReviewFilter(sign_on_id=sign_on.pk, kind="individual")
    with django_capture_on_commit_callbacks(execute=True):
        run = bulk_review.start_bulk_review(verb="approve", chosen=chosen, actor=STAFF_ACTOR)
    [queued] = [
        r for r in deferring_backend.results if r.task.func is bulk_review.run_bulk_review.func
    ]
    later = waiting_individuals(sign_on, 1, start=10)[0]

    queued.task.call(*queued.args, **queued.kwargs)

    assert Signature.objects.get(pk=later.pk).status == Signature.Status.PENDING_REVIEW
    assert bulk_review.bulk_run(run.id).done == 2


# Exports ----------------------------------------------------------------------------------------


def test_the_csv_export_streams_every_row_formulas_defused(staff_client, sign_on, invitations):
    sign(invitations[0], signer_name='=HYPERLINK("http://evil")')
    people = waiting_individuals(sign_on, 3)
    url = reverse("signatories_admin:export", args=[sign_on.pk, "csv"])

    response = staff_client.get(url)

    assert response.streaming
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert len(rows) == 1 + len(invitations) + len(people)
    assert rows[1][5] == '\'=HYPERLINK("http://evil")'
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Person Number 002"][1:4] == [
        "Open link (individual)",
        "",
        "Signed, pending review",
    ]
    # The same states as the tally's rows, one row each.
    counted = selectors.tally(sign_on)
    assert sorted(row[3] for row in rows[1:]) == sorted(row.state_label for row in counted.rows)


def test_the_xlsx_export_is_sent_from_a_file_every_cell_text(staff_client, sign_on, invitations):
    from openpyxl import load_workbook

    sign(invitations[0], signer_name="=1+1")
    response = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "xlsx"]))
    assert response.streaming
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.max_row == 1 + len(invitations)
    assert (sheet["F2"].value, sheet["F2"].data_type) == ("=1+1", "s")
