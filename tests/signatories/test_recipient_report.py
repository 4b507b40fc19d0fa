"""The coalition's memory of who listens: each recipient across letters with the letters sent,
delivered and answered and the median days to an answer, as a page and a CSV file that come
from one selector, in a number of queries that does not grow with letters or people."""

import csv
import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.core.models import EmailDelivery
from coalition.crm.models import Contact
from coalition.crm.services import create_contact, office_named
from letters.models import LetterPage
from signatories import selectors, services
from signatories.models import LetterDelivery, Recipient
from tests.factories import UserFactory, make_letter, publish
from tests.support.recipients import ADDRESS_BLOCK, emailed
from tests.support.signing import STAFF_ACTOR

pytestmark = pytest.mark.django_db

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
SENT = "2026-03-02 15:00 +00:00"  # 10:00 in New York: the same day wherever it is read
LATER = "2026-03-25 15:00 +00:00"


def letter(slug: str) -> LetterPage:
    """A published letter (its PDF is not rendered: these letters go unattached, or by hand)."""
    return publish(make_letter(live=False, slug=slug, recipients=ADDRESS_BLOCK))


def person(name: str, email: str, office: str) -> Contact:
    return create_contact(organization=office_named(office), name=name, email=email)


def addressed(letter: LetterPage, contact: Contact) -> Recipient:
    return services.add_recipient(letter=letter, contact=contact, actor=STAFF_ACTOR)


def reported(delivery: LetterDelivery, kind: str) -> None:
    services.record_provider_event(
        outbox_key=delivery.outbox_key,
        provider="Postmark",
        event_type=kind,
        event_id=f"{kind}-{delivery.pk}",
        occurred_at=None,
    )


def by_hand(recipient: Recipient, day: datetime.date) -> None:
    services.record_hand_delivery(
        recipient=recipient,
        method="post",
        delivered_on=day,
        scan=None,
        note="",
        actor=STAFF_ACTOR,
    )


def answered(recipient: Recipient, day: datetime.date) -> None:
    services.record_answer(
        recipient=recipient, received_on=day, text="Thank you.", file=None, actor=STAFF_ACTOR
    )


def march(day: int) -> datetime.date:
    return datetime.date(2026, 3, day)


@pytest.fixture
def history() -> dict[str, Contact]:
    """Three letters, four people, their fates worked out by hand:

    Jane: A emailed and delivered, answered 4 days later; B emailed (no word from the provider),
    answered after 5; C by post on the 3rd, answered after 10: sent 3, delivered 2, answered 3,
    median 5 (odd count). Ann: A emailed and bounced, answered after 3 all the same; B emailed and
    opened, answered after 8: sent 2, delivered 1, answered 2, median 5.5 (even count). "=Never"
    emailed A, delivered, never answered. Rob: C's email the outbox gave up on: sent nothing.
    """
    a, b, c = letter("letter-a"), letter("letter-b"), letter("letter-c")
    jane = person("Jane Doe", "jane@widgets.example.gov", "Department of Widgets")
    ann = person("Ann Other", "ann@trade.example.gov", "Office of Trade")
    never = person("=Never Answers", "never@example.gov", "+Silent Office")
    rob = person("Rob Unsent", "rob@example.gov", "Office of Trade")
    with time_machine.travel(SENT, tick=False):
        jane_a, ann_a, never_a = addressed(a, jane), addressed(a, ann), addressed(a, never)
        jane_b, ann_b = addressed(b, jane), addressed(b, ann)
        jane_c, rob_c = addressed(c, jane), addressed(c, rob)
        to_jane_a, to_ann_a, to_never_a = emailed(a, jane_a, ann_a, never_a, attach=False)
        _, to_ann_b = emailed(b, jane_b, ann_b, attach=False)
        [to_rob] = emailed(c, rob_c, attach=False)
    reported(to_jane_a, "delivered")
    reported(to_ann_a, "bounced")
    reported(to_ann_b, "opened")
    reported(to_never_a, "delivered")
    EmailDelivery.objects.filter(key=to_rob.outbox_key).update(status=EmailDelivery.Status.FAILED)
    with time_machine.travel(LATER, tick=False):
        by_hand(jane_c, march(3))
        answered(jane_a, march(6))
        answered(jane_b, march(7))
        answered(jane_b, march(20))  # a second answer: the first counts
        answered(jane_c, march(13))
        answered(ann_a, march(5))
        answered(ann_b, march(10))
    return {"jane": jane, "ann": ann, "never": never, "rob": rob}


def figures(record: selectors.RecipientRecord) -> tuple:
    return (record.sent, record.delivered, record.answered, record.median_days)


def test_it_counts_each_recipient_across_letters_as_worked_out_by_hand(history):
    report = {record.name: record for record in selectors.recipient_report()}

    assert figures(report["Jane Doe"]) == (3, 2, 3, 5)
    assert figures(report["Ann Other"]) == (2, 1, 2, 5.5)
    assert figures(report["=Never Answers"]) == (1, 1, 0, None)
    assert figures(report["Rob Unsent"]) == (0, 0, 0, None)
    assert report["Ann Other"].office == "Office of Trade"
    # By name (where "=" sorts among letters is the database's collation's business).
    named = [record.name for record in selectors.recipient_report() if record.name[0].isalpha()]
    assert named == ["Ann Other", "Jane Doe", "Rob Unsent"]
    by_answers = [record.name for record in selectors.recipient_report("answered")]
    assert by_answers[:2] == ["Jane Doe", "Ann Other"]


def test_the_page_lists_them_and_refuses_who_may_not_publish(client, history):
    publisher = UserFactory(username="publisher", is_staff=True)
    publisher.groups.add(Group.objects.get(name="Publishers"))
    client.force_login(publisher)

    response = client.get(reverse("signatories_admin:recipient_report"))

    assert response.status_code == 200
    rows = response.context["records"]
    ann = next(record for record, _ in rows if record.name == "Ann Other")
    assert figures(ann) == (2, 1, 2, 5.5)
    page = response.content.decode()
    assert "Ann Other" in page and "5.5" in page and "Department of Widgets" in page
    editor = UserFactory(username="editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    assert not editor.has_perm("letters.publish_letter")
    client.force_login(editor)
    for name in ("signatories_admin:recipient_report", "signatories_admin:recipient_report_csv"):
        # Wagtail's admin refuses an XHR with 403 (a page, with a redirect to the dashboard).
        assert client.get(reverse(name), **XHR).status_code == 403
        assert "Ann Other" not in client.get(reverse(name), follow=True).content.decode()


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_has_the_same_figures_and_runs_no_formula(staff_client, history):
    response = staff_client.get(reverse("signatories_admin:recipient_report_csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    headings, *rows = read_csv(response)
    assert headings == [
        "Name",
        "Title",
        "Office",
        "Email",
        "Letters sent",
        "Delivered",
        "Answered",
        "Median days to an answer",
    ]
    assert sorted(rows) == [
        ["'=Never Answers", "", "'+Silent Office", "never@example.gov", "1", "1", "0", ""],
        ["Ann Other", "", "Office of Trade", "ann@trade.example.gov", "2", "1", "2", "5.5"],
        ["Jane Doe", "", "Department of Widgets", "jane@widgets.example.gov", "3", "2", "3", "5"],
        ["Rob Unsent", "", "Office of Trade", "rob@example.gov", "0", "0", "0", ""],
    ]


def grow(count: int) -> None:
    """More letters and more people, each sent a letter by hand and answering it."""
    for n in range(count):
        extra = letter(f"extra-{n}")
        for m in range(3):
            someone = addressed(
                extra, person(f"Extra {n}-{m}", f"extra{n}-{m}@example.gov", f"Office {n}")
            )
            with time_machine.travel(LATER, tick=False):
                by_hand(someone, march(2))
                answered(someone, march(4 + m))


def test_the_selector_the_page_and_the_csv_take_as_many_queries_for_many(staff_client, history):
    url = reverse("signatories_admin:recipient_report")
    export = reverse("signatories_admin:recipient_report_csv")

    def counted() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as report:
            list(selectors.recipient_report())
        with CaptureQueriesContext(connection) as page:
            assert staff_client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as csv_file:
            read_csv(staff_client.get(export))
        return len(report), len(page), len(csv_file)

    few = counted()
    grow(4)
    many = counted()

    assert len(list(selectors.recipient_report())) == 4 + 12
    assert few == many
    assert few[0] == 2  # the rows, counted by the database, and the days to each answer


def test_the_page_shows_fifty_at_a_time(staff_client, history):
    grow(17)  # 51 more people: 55

    first = staff_client.get(reverse("signatories_admin:recipient_report"))
    second = staff_client.get(reverse("signatories_admin:recipient_report"), {"p": 2})

    assert len(first.context["records"]) == 50
    assert len(second.context["records"]) == 5
    assert "Page 2 of 2" in second.content.decode()
