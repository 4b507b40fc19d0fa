"""A worker keeps its connection to the mail server between the emails of its jobs."""

import pytest

from coalition.core import deliveries
from coalition.core.deliveries import Outgoing, deliver, send_rendered
from coalition.core.models import EmailDelivery
from coalition.core.worker import running
from tests.support.smtp_sink import SmtpSink, text_of


@pytest.fixture
def sink(settings):
    server = SmtpSink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = False
    yield server
    deliveries.close_kept_connection()
    server.close()


def email(n: int) -> Outgoing:
    return Outgoing(
        name="",
        to=f"person{n}@exämple.org",
        context={},
        job="test:kept",
        regarding=f"person {n}",
        occasion="",
        rendered=(f"Email {n}", f"Hello {n}", ""),
    )


def send(n: int) -> bool:
    with running("worker-1", f"job-{n}"):
        return deliver(email(n), job=send_rendered, args=())


def test_a_workers_emails_share_one_connection(db, sink):
    assert [send(n) for n in range(3)] == [True, True, True]
    assert sink.sessions == 1
    assert [text_of(m).strip() for _, m in sink.kept()] == ["Hello 0", "Hello 1", "Hello 2"]
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_connection_left_idle_is_opened_afresh(db, sink, monkeypatch):
    assert send(0)
    monkeypatch.setattr(deliveries, "KEEP_CONNECTION_FOR", 0.0)
    assert send(1)
    assert sink.sessions == 2


def test_one_the_server_closed_is_opened_again_and_the_email_goes_at_once(db, sink):
    assert send(0)
    sink.hang_up()
    assert send(1)
    assert sink.sessions == 2
    assert sink.count() == 2
    assert EmailDelivery.objects.get(regarding="person 1").status == "sent"


def test_outside_a_worker_each_email_has_its_own_connection(db, sink):
    for n in range(2):
        assert deliver(email(n), job=send_rendered, args=())
    assert sink.sessions == 2
