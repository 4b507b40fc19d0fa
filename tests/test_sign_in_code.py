"""The sign-in code is rendered in the request and sent by the task worker: an address on file
and one on file for nobody get the same answer after the same work, and nothing is sent while
the request waits."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from coalition.core.deliveries import RenderedEmail, queue_rendered, send_rendered
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
PAGES = {"/accounts/login/code/": "email", "/accounts/login/": "login"}


@pytest.fixture
def queue():
    """The background backend swapped for one that keeps what is queued and runs nothing, as the
    database queue does until the worker picks it up."""
    backend = DummyBackend(
        alias="background", params={"QUEUES": settings.TASKS["background"]["QUEUES"]}
    )
    task_backends["background"] = backend
    yield backend
    del task_backends["background"]


@pytest.fixture
def staff_address(staff):
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    return staff.email


def run(job) -> int:
    """Run a queued job as the worker would."""
    return job.task.call(*job.args, **job.kwargs)


def ask(door: str, address: str):
    """A code asked for `address` by a fresh visitor: the answer, the queries it took, and the
    page it leads to."""
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(door, {PAGES[door]: address})
    following = client.get(response["Location"]).content.decode()
    return (
        response,
        len(queries),
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", following),
    )


@pytest.mark.parametrize("door", PAGES)
def test_the_code_is_queued_and_nothing_is_sent_during_the_request(
    door, staff_address, queue, mailoutbox
):
    response = Client().post(door, {PAGES[door]: staff_address})

    assert response.status_code == 302
    assert mailoutbox == []
    [job] = queue.results
    assert job.task.name == send_rendered.name
    assert job.task.queue_name == "email"
    assert job.args[0]["to"] == staff_address

    assert run(job) == 1
    [message] = mailoutbox
    assert message.to == [staff_address]
    assert CODE.search(message.body)
    # In the site's own name and address, not the host the request came in by.
    assert message.subject == "Coalition letters: Your sign-in code"
    assert "sign in to Coalition letters" in message.body
    assert "testserver" not in message.subject + message.body


@pytest.mark.parametrize("door", PAGES)
def test_a_known_and_an_unknown_address_get_the_same_answer_after_the_same_work(
    door, staff_address, queue, mailoutbox
):
    ask(door, "warm-up@example.org")  # caches that fill once per process (content types)
    queue.clear()

    known, known_queries, known_page = ask(door, staff_address)
    known_jobs = len(queue.results)
    unknown, unknown_queries, unknown_page = ask(door, "nobody@example.org")
    unknown_jobs = len(queue.results) - known_jobs

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert unknown_page == known_page
    assert unknown_queries == known_queries
    assert unknown_jobs == known_jobs == 1
    assert mailoutbox == []

    # The worker sends the one for the known address, and finds nobody to send the other to.
    assert [run(job) for job in queue.results] == [1, 0]
    assert [message.to for message in mailoutbox] == [[staff_address]]


def test_a_contact_who_signed_in_before_answers_like_anyone_else(queue, mailoutbox, staff_address):
    contact = ContactFactory()
    ask("/accounts/login/code/", contact.email)  # the account is made the first time
    queue.clear()

    known, known_queries, _ = ask("/accounts/login/code/", contact.email)
    unknown, unknown_queries, _ = ask("/accounts/login/code/", "nobody@example.org")

    assert known["Location"] == unknown["Location"]
    assert known_queries == unknown_queries
    assert [job.args[0]["to"] for job in queue.results] == [contact.email, ""]


def test_a_job_for_nobody_sends_nothing(mailoutbox):
    email = RenderedEmail(
        subject="Your code",
        text="ABCD-EFGH",
        html="",
        to="",
        headers={},
        job="account:login_code",
        regarding="nobody@example.org",
        occasion="request 1",
    )
    assert send_rendered.call(email) is False
    assert mailoutbox == []


def test_the_code_email_keeps_its_html_and_headers_on_the_way_through_the_queue(
    staff_address, queue, mailoutbox
):
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        subject="Γεια σας", body="Text", to=[staff_address], headers={"X-Kind": "code"}
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    queue_rendered(message, job="account:login_code", regarding=staff_address)
    run(queue.results[0])

    [sent] = mailoutbox
    assert (sent.subject, sent.body, sent.to) == ("Γεια σας", "Text", [staff_address])
    assert sent.alternatives[0][:2] == ("<p>HTML</p>", "text/html")
    assert sent.extra_headers["X-Kind"] == "code"
    assert sent.from_email == settings.DEFAULT_FROM_EMAIL
