"""A worker that survives faults: jobs run twice do their work once, emails go at most once and
are retried with back-off, jobs left running by a killed worker run again, old rows are pruned."""

import datetime
import io
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.mail.backends.locmem import EmailBackend as MemoryEmailBackend
from django.core.management import CommandError, call_command
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.dummy import DummyBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from coalition.core import deliveries, worker
from coalition.core.management.commands.worker import chores
from coalition.core.models import EmailDelivery
from letters.models import Publication
from letters.versions import render_publication_pdf
from signatories import selectors, services
from signatories.inputs import Forwarding, IndividualSigning
from signatories.models import Action, Event, Invitation, SignOn
from signatories.services.reminders import send_scheduled_reminders
from signatories.services.sign_ons import close_at_deadline
from signatories.tasks import send_invitation, send_signature_email
from tests.shared_database import SharedDatabase
from tests.signatories.test_recirculation import recirculate
from tests.support.database import ensure_wagtail_site
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    Members,
    approved_revision,
    ask_to_sign,
    decline,
    make_members,
    open_new_sign_on,
    sign,
    withdraw,
)

ROOT = Path(__file__).resolve().parent.parent
Status = EmailDelivery.Status


class FlakyEmailBackend(MemoryEmailBackend):
    """The test outbox behind a mail server that raises the queued errors first, one per send."""

    failures: ClassVar[list[Exception]] = []
    calls: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[Any]) -> int:
        type(self).calls += 1
        if type(self).failures:
            raise type(self).failures.pop(0)
        return super().send_messages(messages)


class GatedEmailBackend(MemoryEmailBackend):
    """For a worker process: the server takes each email (a line in a file), then the worker
    hangs until the test opens the gate, or kills it."""

    def send_messages(self, messages: Sequence[Any]) -> int:
        folder = Path(os.environ["WORKER_FAULTS_DIR"])
        with (folder / "outbox").open("a") as outbox:
            for message in messages:
                outbox.write(f"{message.to[0]}\t{message.extra_headers['Message-ID']}\n")
        _wait_for_gate(folder)
        return len(messages)


@task(backend="background")
def wait_for_gate(directory: str) -> str:
    """Note each start, wait for the test to open the gate, then leave a mark only once."""
    folder = Path(directory)
    with (folder / "starts").open("a") as starts:
        starts.write(f"{os.getpid()}\n")
    _wait_for_gate(folder)
    # Exclusive creation: a second run that got this far would fail here.
    (folder / "done").open("x").close()
    return "done"


def _wait_for_gate(folder: Path) -> None:
    deadline = time.monotonic() + 120
    while not (folder / "gate").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def sign_on(members: Members) -> SignOn:
    return open_new_sign_on(members, days=10)


@pytest.fixture
def invitations(sign_on: SignOn) -> list[Invitation]:
    return list(sign_on.invitations.order_by("organization__name"))


@pytest.fixture
def flaky_mail(settings: Any) -> Iterator[type[FlakyEmailBackend]]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"
    FlakyEmailBackend.failures = []
    FlakyEmailBackend.calls = 0
    yield FlakyEmailBackend
    FlakyEmailBackend.failures = []


# Safe to run twice ---------------------------------------------------------------------------


def test_every_job_the_services_queue_does_nothing_more_when_run_again(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    """Each job of a sign-on's whole life (invitations, reminders, a forward, responses, the
    open link's confirmation, approval, rejection, the new text, reconfirmation, the PDF) run a
    second time, at once as a worker picking a job up again would, and again at the end: no
    email, no change."""
    members = make_members(4)
    revision = approved_revision(accepts_individuals=True)
    jobs: list[Callable[[], object]] = []

    def step(change: Callable[[], Any]) -> Any:
        """Make the change and run the jobs it queued, then run them again."""
        with django_capture_on_commit_callbacks(execute=True) as queued:
            done = change()
        sent, events = len(mailoutbox), Event.objects.count()
        for job in queued:
            job()
        assert (len(mailoutbox), Event.objects.count()) == (sent, events)
        jobs.extend(queued)
        return done

    sign_on = step(lambda: open_new_sign_on(members, revision=revision, days=10))
    step(
        lambda: services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    )
    invitations = list(sign_on.invitations.order_by("organization__name"))
    step(lambda: services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True))
    signed = step(lambda: sign(invitations[0]))
    step(lambda: decline(invitations[1], reason="Not our issue"))
    step(lambda: withdraw(sign(invitations[2]), reason="Changed our mind"))
    step(
        lambda: services.forward_invitation(
            invitation=invitations[3],
            forwarding=Forwarding(name="Dana Counsel", email="dana@awm3.example.org"),
            actor=SIGNER,
        )
    )
    request = step(lambda: ask_to_sign(sign_on))
    step(lambda: services.confirm_signature(signature=request, actor=SIGNER))
    step(lambda: services.approve_signature(signature=request, actor=STAFF_ACTOR))
    person = step(
        lambda: services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning(person="Jane Doe", signer_email="jane@example.org"),
            text_hash=sign_on.text_hash,
            actor=SIGNER,
        )
    )
    step(lambda: services.confirm_signature(signature=person, actor=SIGNER))
    step(
        lambda: services.reject_signature(
            signature=person, actor=STAFF_ACTOR, reason="Not known to us"
        )
    )
    step(lambda: recirculate(sign_on, material=True, note="We added a hearing."))
    sign_on.refresh_from_db()
    step(
        lambda: services.reconfirm_signature(
            signature=signed, text_hash=sign_on.text_hash, actor=SIGNER
        )
    )
    step(lambda: services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR))
    publication = step(lambda: services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR))

    queued = {getattr(job, "func", None) for job in jobs}
    kinds = {(delivery.job, delivery.status) for delivery in EmailDelivery.objects.order_by("job")}
    assert {job for job, _ in kinds} >= {
        "invitation:invitation",
        "invitation:reminder",
        "invitation:forwarded",
        "invitation:text_changed",
        "signature:signed",
        "signature:declined",
        "signature:withdrawn",
        "signature:confirm",
        "signature:approved",
        "signature:rejected",
        "signature:reconfirmed",
        "text_changed:signed",
        "text_changed:declined",
    }
    assert {status for _, status in kinds} == {Status.SENT}
    assert len(mailoutbox) == EmailDelivery.objects.count()
    publication.refresh_from_db()
    assert publication.pdf_sha256 and render_publication_pdf.enqueue in queued
    before = _snapshot(sign_on, publication)
    sent = len(mailoutbox)

    for job in jobs:
        job()

    assert len(mailoutbox) == sent
    assert _snapshot(sign_on, publication) == before
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def _snapshot(sign_on: SignOn, publication: Publication) -> tuple[Any, ...]:
    publication.refresh_from_db()
    return (
        Event.objects.filter(sign_on=sign_on).count(),
        list(EmailDelivery.objects.order_by("pk").values_list("pk", "status", "attempts")),
        list(Invitation.objects.order_by("pk").values_list("pk", "reminders_sent")),
        (publication.pdf.name, publication.pdf_sha256),
        sorted(default_storage.listdir("letters/published/")[1]),
    )


def test_a_second_reminder_is_a_new_email_and_each_reminder_goes_once(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = open_new_sign_on(make_members(2), days=10)
    invitation = sign_on.invitations.first()
    assert invitation is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    assert send_invitation.call(invitation.pk, "reminder") == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    assert send_invitation.call(invitation.pk, "reminder") == 0

    reminders = [m for m in mailoutbox if m.to == [invitation.email]]
    assert len(reminders) == 2
    # Each carries the Message-ID of its delivery: a copy would be recognised as one.
    ids = {m.extra_headers["Message-ID"] for m in reminders}
    assert len(ids) == 2
    assert ids == {
        f"<{d.key}@localhost>"
        for d in EmailDelivery.objects.filter(job="invitation:reminder", recipient=invitation.email)
    }


def test_the_timed_jobs_act_once_when_run_twice(db, mailoutbox, django_capture_on_commit_callbacks):
    sign_on = open_new_sign_on(make_members(3), days=10, reminder_days=[7])
    (moment,) = sign_on.reminder_moments()
    with (
        time_machine.travel(moment + datetime.timedelta(minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_scheduled_reminders.call(sign_on.pk) == 3
        assert send_scheduled_reminders.call(sign_on.pk) == 0
    assert len(mailoutbox) == 3

    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        assert close_at_deadline.call(sign_on.pk) == "closed"
        assert close_at_deadline.call(sign_on.pk) == "not open"
    assert sign_on.events.filter(action=Action.CLOSED).count() == 1
    assert len(mailoutbox) == 3


# Retries with back-off ------------------------------------------------------------------------


def _run_due(backend: DummyBackend, index: int) -> Any:
    """Run the index-th job queued (a retry) at its moment; what it returned."""
    retry = backend.results[index]
    assert retry.task.run_after is not None
    with time_machine.travel(retry.task.run_after, tick=False):
        return retry.task.call(*retry.args, **retry.kwargs)


def test_a_mail_server_that_is_away_is_tried_again_later_and_the_email_goes_once(
    sign_on, invitations, flaky_mail, deferring_backend, mailoutbox, caplog
):
    flaky_mail.failures = [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        ConnectionRefusedError(111, "Connection refused"),
    ]
    invitation = invitations[0]
    started = timezone.now()

    assert send_invitation.call(invitation.pk, "invitation") == 0

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.RETRYING, 1)
    assert "SMTPServerDisconnected" in delivery.error
    (retry,) = deferring_backend.results
    assert (retry.args, retry.kwargs) == (
        [invitation.pk, "invitation", ""],
        {"retrying": delivery.pk},
    )
    assert retry.task.queue_name == "email"
    after = retry.task.run_after - started
    assert datetime.timedelta(seconds=47) < after < datetime.timedelta(seconds=73)
    assert "Trying again at" in caplog.text
    # The job run again meanwhile (a duplicate) waits for the retry: the server is likely away.
    assert send_invitation.call(invitation.pk, "invitation") == 0
    assert flaky_mail.calls == 1

    assert _run_due(deferring_backend, 0) == 0
    second = deferring_backend.results[1]
    # The delay doubles: about two minutes after the second attempt.
    gap = second.task.run_after - retry.task.run_after
    assert datetime.timedelta(seconds=95) < gap < datetime.timedelta(seconds=145)
    assert _run_due(deferring_backend, 1) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (Status.SENT, 3, "")
    assert [m.to for m in mailoutbox] == [[invitation.email]]
    # Either retry run once more sends nothing.
    assert _run_due(deferring_backend, 0) == 0
    assert _run_due(deferring_backend, 1) == 0
    assert len(mailoutbox) == 1
    assert len(deferring_backend.results) == 2


def test_after_the_last_attempt_the_email_is_failed_and_logged(
    sign_on, invitations, flaky_mail, deferring_backend, mailoutbox, caplog
):
    flaky_mail.failures = [TimeoutError("timed out")] * deliveries.MAX_ATTEMPTS
    invitation = invitations[0]

    assert send_invitation.call(invitation.pk, "invitation") == 0
    for index in range(deliveries.MAX_ATTEMPTS - 1):
        assert _run_due(deferring_backend, index) == 0

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, deliveries.MAX_ATTEMPTS)
    assert f"gave up after {deliveries.MAX_ATTEMPTS} attempts" in delivery.error
    assert len(deferring_backend.results) == deliveries.MAX_ATTEMPTS - 1
    # The longest wait is an hour, give or take a fifth.
    last, before = deferring_backend.results[-1], deferring_backend.results[-2]
    assert last.task.run_after - before.task.run_after < datetime.timedelta(minutes=73)
    assert mailoutbox == []
    assert (
        f"Email {delivery.pk} (invitation:invitation) to {invitation.email} failed" in caplog.text
    )
    assert send_invitation.call(invitation.pk, "invitation") == 0
    assert flaky_mail.calls == deliveries.MAX_ATTEMPTS


def test_a_refusal_for_good_is_not_retried(
    sign_on, invitations, flaky_mail, deferring_backend, mailoutbox
):
    invitation = invitations[0]
    flaky_mail.failures = [
        smtplib.SMTPRecipientsRefused({invitation.email: (550, b"5.1.1 No such user")})
    ]

    assert send_invitation.call(invitation.pk, "invitation") == 0

    delivery = EmailDelivery.objects.get()
    assert delivery.status == Status.FAILED and "No such user" in delivery.error
    assert deferring_backend.results == []


def test_a_temporary_refusal_is_retried(sign_on, invitations, flaky_mail, deferring_backend):
    invitation = invitations[0]
    flaky_mail.failures = [
        smtplib.SMTPRecipientsRefused({invitation.email: (451, b"4.7.1 Greylisted")})
    ]
    assert send_invitation.call(invitation.pk, "invitation") == 0
    assert EmailDelivery.objects.get().status == Status.RETRYING
    assert len(deferring_backend.results) == 1


def test_an_inline_task_backend_cannot_wait_so_the_email_fails_at_once(
    sign_on, invitations, flaky_mail, mailoutbox
):
    flaky_mail.failures = [ConnectionRefusedError(111, "Connection refused")]
    assert not send_invitation.get_backend().supports_defer

    assert send_invitation.call(invitations[0].pk, "invitation") == 0

    delivery = EmailDelivery.objects.get()
    assert delivery.status == Status.FAILED
    assert "runs jobs inline and cannot retry later" in delivery.error


def test_a_fault_of_ours_fails_the_email_and_the_job(sign_on, invitations, flaky_mail):
    flaky_mail.failures = [ValueError("a bug in a mail backend")]
    with pytest.raises(ValueError, match="a bug"):
        send_invitation.call(invitations[0].pk, "invitation")
    assert EmailDelivery.objects.get().status == Status.FAILED


def test_a_retry_that_no_longer_applies_is_dropped(
    sign_on, invitations, flaky_mail, deferring_backend, mailoutbox
):
    flaky_mail.failures = [OSError("Network is unreachable")]
    invitation = invitations[0]
    assert send_invitation.call(invitation.pk, "reminder") == 0
    assert EmailDelivery.objects.get().status == Status.RETRYING
    # The organization answers while the reminder waits for its retry.
    decline(invitation)

    assert _run_due(deferring_backend, 0) == 0

    assert not EmailDelivery.objects.filter(job="invitation:reminder").exists()
    assert [m for m in mailoutbox if "remind" in m.subject.lower()] == []


def test_a_retry_overtaken_by_a_newer_reminder_sends_that_one_once(
    sign_on,
    invitations,
    flaky_mail,
    deferring_backend,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    flaky_mail.failures = [OSError("Network is unreachable")]
    invitation = invitations[0]
    services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)
    assert send_invitation.call(invitation.pk, "reminder") == 0
    first = EmailDelivery.objects.get()
    # Another reminder is recorded before the retry runs (its own job has not run yet).
    services.send_reminders(sign_on=sign_on, actor=STAFF_ACTOR, force=True)

    assert _run_due(deferring_backend, 0) == 1
    assert send_invitation.call(invitation.pk, "reminder") == 0

    assert not EmailDelivery.objects.filter(pk=first.pk).exists()
    assert EmailDelivery.objects.get().status == Status.SENT
    assert [m.to for m in mailoutbox] == [[invitation.email]]


# A run cut short while sending ----------------------------------------------------------------


class DyingEmailBackend(MemoryEmailBackend):
    """The worker is killed in the middle of the SMTP conversation."""

    def send_messages(self, messages: Sequence[Any]) -> int:
        raise SystemExit("killed")


def _die_while_sending(settings: Any, send: Callable[[], object], *, as_worker: str) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.DyingEmailBackend"
    with worker.running(as_worker, "job-1"), pytest.raises(SystemExit):
        send()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert EmailDelivery.objects.latest("pk").status == Status.SENDING


def test_a_job_picked_up_again_after_dying_mid_send_does_not_send_twice(
    sign_on, invitations, settings, mailoutbox, caplog
):
    invitation = invitations[0]
    send = lambda: send_invitation.call(invitation.pk, "invitation")  # noqa: E731
    _die_while_sending(settings, send, as_worker="host:1:dead")

    with worker.running("host:2:next", "job-1"):
        assert send() == 0

    delivery = EmailDelivery.objects.get()
    assert delivery.status == Status.UNCERTAIN
    assert "cut short while sending it" in delivery.error
    assert mailoutbox == []
    assert "may or may not have been sent" in caplog.text
    assert send() == 0 and mailoutbox == []


def test_an_email_being_sent_by_a_live_worker_is_left_to_it(
    sign_on, invitations, settings, mailoutbox
):
    signature = sign(invitations[0])
    send = lambda: send_signature_email.call(signature.pk, "signed")  # noqa: E731
    worker.beat("host:1:alive", queues="*", dead_after=60)
    _die_while_sending(settings, send, as_worker="host:1:alive")
    mailoutbox.clear()

    with worker.running("host:2:other", "job-2"):
        assert send() is False
    assert deliveries.settle_abandoned() == 0
    assert EmailDelivery.objects.get().status == Status.SENDING

    # Once that worker's heartbeat expires, the email is uncertain: never sent again.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert deliveries.settle_abandoned() == 1
    delivery = EmailDelivery.objects.get()
    assert delivery.status == Status.UNCERTAIN
    assert "its worker host:1:alive died while sending it" in delivery.error
    assert send() is False and mailoutbox == []


def test_an_inline_send_that_never_finished_becomes_uncertain(
    sign_on, invitations, settings, mailoutbox
):
    settings.EMAIL_BACKEND = f"{__name__}.DyingEmailBackend"
    with pytest.raises(SystemExit):
        send_invitation.call(invitations[0].pk, "invitation")
    assert deliveries.settle_abandoned() == 0
    later = timezone.now() + deliveries.SENDING_TIMEOUT + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        assert deliveries.settle_abandoned() == 1
    assert EmailDelivery.objects.get().status == Status.UNCERTAIN


def test_staff_find_the_emails_that_need_them_and_cron_is_told(
    sign_on, invitations, flaky_mail, settings
):
    flaky_mail.failures = [
        smtplib.SMTPRecipientsRefused({invitations[0].email: (550, b"5.1.1 No such user")})
    ]
    send_invitation.call(invitations[0].pk, "invitation")
    worker.beat("host:1:alive", queues="*", dead_after=60)
    send = lambda: send_invitation.call(invitations[1].pk, "invitation")  # noqa: E731
    _die_while_sending(settings, send, as_worker="host:1:alive")
    send_invitation.call(invitations[2].pk, "invitation")
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 email"):
        call_command("email_deliveries", "--check", stdout=out)
    listed = out.getvalue()
    assert f"failed, not sent: invitation:invitation to {invitations[0].email}" in listed
    assert "No such user" in listed
    # Being sent by a worker that is alive: not yet a matter for staff.
    assert invitations[1].email not in listed
    assert invitations[2].email not in listed

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        deliveries.settle_abandoned()
        out = io.StringIO()
        with pytest.raises(CommandError, match="2 email"):
            call_command(
                "email_deliveries", "--check", f"--about=(sign-on {sign_on.pk})", stdout=out
            )
    assert (
        f"uncertain: the sender died while sending: invitation:invitation to "
        f"{invitations[1].email} (“{sign_on.letter.title}” (sign-on {sign_on.pk}))"
        in out.getvalue()
    )
    out = io.StringIO()
    call_command("email_deliveries", "--all", stdout=out)
    assert f"sent: invitation:invitation to {invitations[2].email}" in out.getvalue()


# Jobs left running by a dead worker -----------------------------------------------------------


def _job(
    *,
    status: str = TaskResultStatus.RUNNING,
    queue_name: str = "default",
    workers: Sequence[str] = (),
    started_at: datetime.datetime | None = None,
    finished_at: datetime.datetime | None = None,
) -> DBTaskResult[Any, Any]:
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": ["x"], "kwargs": {}},
        task_path=wait_for_gate.module_path,
        queue_name=queue_name,
        backend_name="background",
        run_after=get_date_max(),
        worker_ids=list(workers),
        started_at=started_at or (timezone.now() if workers else None),
        finished_at=finished_at,
    )


def test_jobs_of_a_dead_worker_go_back_to_the_queue_and_a_live_ones_stay(db, caplog):
    now = timezone.now()
    worker.beat("alive", queues="*", dead_after=60)
    with time_machine.travel(now - datetime.timedelta(minutes=5)):
        worker.beat("dead", queues="*", dead_after=60)
    worker.beat("stopped", queues="*", dead_after=60)
    worker.mark_stopped("stopped")
    alive = _job(workers=["alive"], started_at=now - datetime.timedelta(hours=2))
    dead = _job(workers=["dead"])
    stopped = _job(workers=["stopped"])

    recovered = worker.recover_stale_jobs(backend_name="background")

    assert sorted(recovered.requeued) == sorted([str(dead.pk), str(stopped.pk)])
    assert DBTaskResult.objects.get(pk=alive.pk).status == TaskResultStatus.RUNNING
    for job in (dead, stopped):
        job.refresh_from_db()
        assert (job.status, job.started_at) == (TaskResultStatus.READY, None)
        assert job in DBTaskResult.objects.ready()
    assert "stopped renewing its heartbeat" in caplog.text


@pytest.mark.parametrize(
    ("queue_name", "limit"),
    [("pdf", 2 * 300), ("email", 15 * 60), ("default", 30 * 60)],
)
def test_a_job_of_a_worker_without_heartbeat_goes_back_after_its_queues_time_limit(
    db, settings, queue_name, limit
):
    settings.LETTER_PDF_TIMEOUT = 300
    started = timezone.now()
    job = _job(queue_name=queue_name, workers=["a-bare-db-worker"], started_at=started)

    with time_machine.travel(started + datetime.timedelta(seconds=limit - 5)):
        assert worker.recover_stale_jobs(backend_name="background").requeued == []
    with time_machine.travel(started + datetime.timedelta(seconds=limit + 5)):
        assert worker.recover_stale_jobs(backend_name="background").requeued == [str(job.pk)]


def test_a_job_that_its_workers_died_under_too_often_fails(db, caplog):
    job = _job(workers=["w1", "w2", "w3"], started_at=timezone.now() - datetime.timedelta(days=1))

    recovered = worker.recover_stale_jobs(backend_name="background")

    assert recovered.failed == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED and job.finished_at is not None
    assert import_string(job.exception_class_path) is worker.WorkerLost
    assert "3 workers died while running it" in job.traceback
    assert "Not run again" in caplog.text


# Pruning on a schedule ------------------------------------------------------------------------


def test_the_worker_prunes_finished_jobs_and_old_email_records_daily_keeping_failures_longer(
    db,
):
    now = timezone.now()
    days = lambda n: now - datetime.timedelta(days=n)  # noqa: E731
    done = TaskResultStatus.SUCCESSFUL
    failed = TaskResultStatus.FAILED
    kept = [
        _job(status=done, finished_at=days(6)),
        _job(status=failed, finished_at=days(29)),
        _job(status=TaskResultStatus.READY),
        _job(workers=["w"], started_at=days(40)),
    ]
    pruned = [_job(status=done, finished_at=days(8)), _job(status=failed, finished_at=days(31))]
    mails = {
        "kept": [
            _delivery(Status.SENT, days(29)),
            _delivery(Status.FAILED, days(179)),
            _delivery(Status.UNCERTAIN, days(179)),
            _delivery(Status.SENDING, days(400)),
        ],
        "pruned": [
            _delivery(Status.SENT, days(31)),
            _delivery(Status.FAILED, days(181)),
            _delivery(Status.UNCERTAIN, days(181)),
        ],
    }
    housekeeping = worker.Housekeeping(
        worker_id="w-prune",
        queues="*",
        chores=chores(backend_name="background", recover_every=30, prune_every=24 * 3600),
    )

    housekeeping.tick(clock=1000.0)

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {j.pk for j in kept}
    assert set(EmailDelivery.objects.values_list("pk", flat=True)) == {d.pk for d in mails["kept"]}
    assert worker.worker_is_alive("w-prune")
    # Not again within the day; again once a day has passed.
    late = _job(status=done, finished_at=days(9))
    housekeeping.tick(clock=1000.0 + 23 * 3600)
    assert DBTaskResult.objects.filter(pk=late.pk).exists()
    housekeeping.tick(clock=1000.0 + 24 * 3600)
    assert not DBTaskResult.objects.filter(pk=late.pk).exists()
    assert {p.pk for p in pruned} & set(DBTaskResult.objects.values_list("pk", flat=True)) == set()


def _delivery(status: str, created_at: datetime.datetime) -> EmailDelivery:
    return EmailDelivery.objects.create(
        key=f"{status}-{created_at.isoformat()}",
        job="invitation:invitation",
        regarding="invitation 1",
        recipient="someone@example.org",
        status=status,
        created_at=created_at,
        attempted_at=timezone.now(),
    )


def test_prune_jobs_prunes_by_hand_what_the_worker_prunes_daily(db):
    old = timezone.now() - datetime.timedelta(days=40)
    _job(status=TaskResultStatus.SUCCESSFUL, finished_at=old)
    _delivery(Status.SENT, old)
    out = io.StringIO()

    call_command("prune_jobs", "--dry-run", stdout=out)
    assert out.getvalue() == "Would delete 1 finished job(s) and 1 email record(s).\n"
    assert DBTaskResult.objects.exists() and EmailDelivery.objects.exists()
    call_command("prune_jobs", stdout=out)
    assert not DBTaskResult.objects.exists() and not EmailDelivery.objects.exists()


def test_a_failing_chore_is_logged_and_the_others_still_run(db, caplog):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("the database went away")

    housekeeping = worker.Housekeeping(
        worker_id="w-chores",
        queues="*",
        chores=[
            worker.Chore("breaking", 10, broken),
            worker.Chore("noting", 10, lambda: ran.append("x")),
        ],
    )
    housekeeping.tick(clock=0.0)
    housekeeping.tick(clock=5.0)
    housekeeping.tick(clock=10.0)

    assert ran == ["x", "x"]
    assert "Worker w-chores: breaking failed" in caplog.text


# Killing the worker mid-job -------------------------------------------------------------------


class WorkerProcesses:
    """`manage.py worker` processes against the test's database, with short heartbeats."""

    def __init__(self, shared: SharedDatabase, folder: Path) -> None:
        self.shared = shared
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}

    def share(self, **env: str) -> None:
        """Hand the database as it is now to the workers started from now on."""
        self.env = {
            **os.environ,
            "DATABASE_URL": self.shared.url(),
            "TASKS_IMMEDIATE": "0",
            "WORKER_FAULTS_DIR": str(self.folder),
            **env,
        }

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval=0.1",
                "--heartbeat=0.5",
                "--dead-after=2",
                "--recover-every=0.5",
                f"--worker-id={name}",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.shared.pull()
            if check():
                return
            for process in self.started:
                assert process.poll() in (None, -signal.SIGKILL), self.logs()
            time.sleep(0.2)
        raise AssertionError(f"Timed out waiting for {what}.\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}"
            for path in sorted(self.folder.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(SharedDatabase(tmp_path), tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_job_is_run_again_by_the_next_worker_and_done_once(
    worker_processes, tmp_path
):
    job = _job(status=TaskResultStatus.READY)
    job.args_kwargs = {"args": [str(tmp_path)], "kwargs": {}}
    job.save(update_fields=["args_kwargs"])
    worker_processes.share()
    first = worker_processes.start("first")
    worker_processes.wait_for("the first worker to start the job", (tmp_path / "starts").exists)
    worker_processes.shared.pull()
    job.refresh_from_db()
    assert (job.status, job.worker_ids) == (TaskResultStatus.RUNNING, ["first"])

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    (tmp_path / "gate").touch()
    worker_processes.start("second")

    def finished() -> bool:
        job.refresh_from_db()
        return job.status not in (TaskResultStatus.READY, TaskResultStatus.RUNNING)

    worker_processes.wait_for("the second worker to finish the job", finished)
    assert job.status == TaskResultStatus.SUCCESSFUL, job.traceback
    assert job.return_value == "done"
    assert job.worker_ids == ["first", "second"]
    assert len((tmp_path / "starts").read_text().split()) == 2
    assert (tmp_path / "done").exists()
    assert "queued again: its worker first stopped renewing its heartbeat" in (
        worker_processes.log("second")
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_server_took_an_email_does_not_send_it_again(
    worker_processes, tmp_path, members
):
    ensure_wagtail_site()  # an earlier transactional test may have flushed it
    sign_on = open_new_sign_on(members, days=10)
    invitation = sign_on.invitations.order_by("pk").first()
    assert invitation is not None
    job = DBTaskResult.objects.create(
        args_kwargs={"args": [invitation.pk, "reminder"], "kwargs": {}},
        task_path=send_invitation.module_path,
        queue_name="email",
        backend_name="background",
        run_after=get_date_max(),
    )
    worker_processes.share(EMAIL_BACKEND=f"{__name__}.GatedEmailBackend")
    first = worker_processes.start("first")
    outbox = tmp_path / "outbox"
    worker_processes.wait_for("the server to take the email", outbox.exists)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    (tmp_path / "gate").touch()
    worker_processes.start("second")

    def settled() -> bool:
        job.refresh_from_db()
        delivery = EmailDelivery.objects.filter(job="invitation:reminder").first()
        return job.status == TaskResultStatus.SUCCESSFUL and (
            delivery is not None and delivery.status == Status.UNCERTAIN
        )

    worker_processes.wait_for("the job to run again and find the email", settled)
    assert job.worker_ids == ["first", "second"]
    assert job.return_value == 0
    assert len(outbox.read_text().splitlines()) == 1
    delivery = EmailDelivery.objects.get(job="invitation:reminder")
    assert (delivery.worker_id, delivery.job_id) == ("first", str(job.pk))
    assert "may or may not have been sent" in worker_processes.log("second")
