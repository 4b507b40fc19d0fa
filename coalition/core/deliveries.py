"""Emails sent at most once however often their job runs, and retried while the server is away.

A job decides what to send, an `Outgoing` that says what makes it the same email on a second run
(the job and kind, the row it is about, the event it follows, the address), and hands it to
`deliver`. A row of `EmailDelivery` is written under that key, marked "sending", before the mail
server is called, and marked "sent" after. An email rendered in a request (a sign-in code, by
allauth) goes the same way: `queue_rendered` hands it to `send_rendered`, a job of its own.

- **A second run sends nothing.** A duplicate of the job, the job picked up again after its
  worker died, or a retry of an email already sent finds the row sent (or being sent) and stops.
- **At most once.** A run that dies between "sending" and "sent" (the worker killed during the
  SMTP conversation, a matter of seconds) leaves the row "sending": the server may or may not
  have taken the email. It is never sent again automatically: the row becomes "uncertain",
  logged as an error and listed by `manage.py email_deliveries`, and staff decide (a manual
  reminder sends a fresh one).
- **Retries with back-off.** When the mail server cannot be reached or answers "try later"
  (a refused or dropped connection, a timeout, a 4xx reply), the job queues itself again with
  `run_after`, the delay doubling from a minute up to an hour, MAX_ATTEMPTS attempts in all;
  then the row is "failed" and logged. A 5xx refusal of the recipient or the message fails at
  once. The retry reads the state again: an email that no longer applies (the organization
  answered meanwhile) is dropped, one that has been sent is not sent again.
- The server may get one email twice in a single case: the connection drops after the server
  accepted the message and before its answer reached us, and the retry sends it again. Each
  message carries a Message-ID derived from its key, by which mail systems recognise the copy.
"""

import contextlib
import datetime
import hashlib
import logging
import random
import secrets
import smtplib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, Literal, TypedDict

from django.conf import settings
from django.core.mail import DNS_NAME, EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.tasks import Task, task
from django.utils import timezone

from . import emails
from .models import EmailDelivery
from .worker import current_run, worker_is_alive

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A worker keeps its connection to the mail server between emails this long (seconds): well
# within the five minutes a server waits for the next command (RFC 5321, 4.5.3.2).
KEEP_CONNECTION_FOR = 10.0
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# An SMTP conversation that has not finished after this long never will: its sender is gone.
SENDING_TIMEOUT = datetime.timedelta(minutes=15)
# Sent emails are remembered as long as a job could still run again; the others, which someone
# may be asked about, for half a year.
KEEP_SENT = datetime.timedelta(days=30)
KEEP_UNSENT = datetime.timedelta(days=180)

Status = EmailDelivery.Status


@dataclass(frozen=True)
class Outgoing:
    """An email a job decided to send, and what makes it the same email on a second run."""

    name: str  # the templates: emails/<name>-subject.txt, …
    to: str
    context: Mapping[str, Any]
    job: str  # the job and kind: "invitation:reminder"
    regarding: str  # the row it is about: "invitation 12"
    occasion: str  # the event it follows ("event 345"), or "" when none is recorded
    topic: str = ""  # what it is sent for, in words: "“Letter on widgets” (sign-on 12)"
    # An email rendered already (in a request, by queue_rendered) rather than from `name`, and
    # the headers it came with.
    rendered: emails.Rendered | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # Files sent with it: (file name, bytes, media type), read by the job that sends it.
    attachments: tuple[tuple[str, bytes, str], ...] = ()

    @property
    def key(self) -> str:
        parts = (self.job, self.regarding, self.occasion, self.to.strip().casefold())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def deliver(
    outgoing: Outgoing | None,
    *,
    job: Task[Any, Any],
    args: Sequence[Any],
    retrying: int | None = None,
) -> bool:
    """Send the email unless a run of this job already did; on a server error, queue a retry.

    `job` and `args` queue the retry (`retrying` is then the delivery's id); `outgoing` is None
    when the job found that the email no longer applies. True if this call sent it. Jobs run
    outside a transaction, so the "sending" row is committed before the server is called.
    """
    if outgoing is None:
        if retrying is not None:
            _drop(retrying, "it no longer applied when its retry came")
        return False
    rendered = outgoing.rendered or emails.render(outgoing.name, outgoing.context)
    delivery, created = _record(outgoing, subject=rendered[0])
    if retrying is not None and retrying != delivery.pk:
        # What it followed has been overtaken (another reminder since): that one is sent instead.
        _drop(retrying, f"delivery {delivery.pk} replaced it")
    if not created and not _claim(delivery, retrying=retrying):
        return False
    try:
        message = emails.message(
            rendered,
            to=outgoing.to,
            headers={**dict(outgoing.headers), "Message-ID": _message_id(outgoing)},
        )
        for filename, content, mimetype in outgoing.attachments:
            message.attach(filename, content, mimetype)
        # What the provider's webhooks (django-anymail) report an event with: the key finds the
        # delivery it is about. Providers replace the Message-ID; they keep metadata.
        message.metadata = {"outbox_key": outgoing.key}  # type: ignore[attr-defined]
        _send(message)
    except Exception as error:
        _attempt_failed(delivery, error, job=job, args=args)
        return False
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENT, sent_at=timezone.now(), next_attempt_at=None, error=""
    )
    return True


class _KeptConnection(threading.local):
    """A worker's connection to the mail server, kept between the emails of its jobs."""

    backend: BaseEmailBackend | None = None
    last_used = 0.0


_kept = _KeptConnection()


def _send(message: EmailMessage) -> None:
    """Send the message; in a worker's job, through the connection its last email used.

    A run of emails (a rush of signatures, a round of invitations) then costs one greeting, and
    with TLS one handshake, instead of one for every email, as Django's send_mass_mail does for
    the messages of a single call. A connection unused for KEEP_CONNECTION_FOR is opened afresh.
    One the server closed since is opened again once (it took nothing meanwhile: it refused the
    first command); any other failure closes it and is the caller's.
    """
    if current_run() is None:
        message.send()
        return
    reused = _kept.backend is not None
    if reused and time.monotonic() - _kept.last_used > KEEP_CONNECTION_FOR:
        close_kept_connection()
        reused = False
    try:
        _send_kept(message)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused) as error:
        closed_by_server = (
            isinstance(error, smtplib.SMTPServerDisconnected) or error.smtp_code == 421
        )
        if not (reused and closed_by_server):
            raise
        _send_kept(message)


def _send_kept(message: EmailMessage) -> None:
    """Send through the kept connection, opened if need be; closed again if sending fails."""
    try:
        if _kept.backend is None:
            _kept.backend = get_connection()
            _kept.backend.open()
        message.connection = _kept.backend
        message.send()
    except BaseException:
        close_kept_connection()
        raise
    _kept.last_used = time.monotonic()


def close_kept_connection() -> None:
    """Close the worker's kept connection to the mail server, if it has one."""
    backend, _kept.backend = _kept.backend, None
    if backend is not None:
        with contextlib.suppress(Exception):
            backend.close()


class RenderedEmail(TypedDict):
    """An email rendered in a request, as its job carries it (JSON)."""

    subject: str
    text: str
    html: str
    to: str  # "" for nobody
    headers: dict[str, str]
    job: str
    regarding: str
    occasion: str


def queue_rendered(message: EmailMessage, *, job: str, regarding: str) -> None:
    """Hand an email rendered in a request to the worker, which sends it through the outbox.

    Queued at once rather than after commit: the database queue holds the job in the request's
    transaction, so the worker sees it only if the request's writes were kept. Each call is an
    email of its own (a new occasion), which a second run of its job does not send again. A
    message addressed to nobody is queued all the same and sends nothing, so that the request
    that asked for it did the same work (coalition/crm/accounts.py).
    """
    text, html = str(message.body), ""
    if message.content_subtype == "html":
        text, html = "", text
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = str(content)
    occasion = f"request {secrets.token_hex(8)}"
    for address in message.to or [""]:
        send_rendered.enqueue(
            RenderedEmail(
                subject=str(message.subject),
                text=text,
                html=html,
                to=address,
                headers={name: str(value) for name, value in message.extra_headers.items()},
                job=job,
                regarding=regarding,
                occasion=occasion,
            )
        )


@task(backend="background", queue_name="email")
def send_rendered(email: RenderedEmail, retrying: int | None = None) -> bool:
    """Send an email rendered in a request (queue_rendered), at most once; True if this run did."""
    outgoing = None
    if email["to"]:
        outgoing = Outgoing(
            name="",
            to=email["to"],
            context={},
            job=email["job"],
            regarding=email["regarding"],
            occasion=email["occasion"],
            rendered=(email["subject"], email["text"], email["html"]),
            headers=tuple(email["headers"].items()),
        )
    return deliver(outgoing, job=send_rendered, args=(email,), retrying=retrying)


def _record(outgoing: Outgoing, *, subject: str) -> tuple[EmailDelivery, bool]:
    """The delivery under this key: created here as being sent by this run, or found."""
    run = current_run()
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                key=outgoing.key,
                job=outgoing.job[:100],
                regarding=outgoing.regarding[:100],
                occasion=outgoing.occasion[:100],
                recipient=outgoing.to,
                subject=subject[:500],
                topic=outgoing.topic[:300],
                status=Status.SENDING,
                attempts=1,
                attempted_at=timezone.now(),
                worker_id=run.worker_id if run else "",
                job_id=run.job_id if run else "",
            )
            return delivery, True
    except IntegrityError:
        return EmailDelivery.objects.get(key=outgoing.key), False


def _claim(delivery: EmailDelivery, *, retrying: int | None) -> bool:
    """Whether this run may send a delivery another run recorded: only one waiting to retry."""
    now = timezone.now()
    if delivery.status == Status.SENDING:
        _settle_if_abandoned(delivery, now=now)
        return False
    if delivery.status != Status.RETRYING:
        return False  # sent, failed or uncertain: nothing more to do
    if retrying != delivery.pk and delivery.next_attempt_at and delivery.next_attempt_at > now:
        return False  # its retry is queued; sending before it would skip the back-off
    run = current_run()
    claimed = EmailDelivery.objects.filter(pk=delivery.pk, status=Status.RETRYING).update(
        status=Status.SENDING,
        attempts=F("attempts") + 1,
        attempted_at=now,
        worker_id=run.worker_id if run else "",
        job_id=run.job_id if run else "",
    )
    if claimed:
        delivery.refresh_from_db(fields=["status", "attempts", "attempted_at"])
    return bool(claimed)


def _settle_if_abandoned(delivery: EmailDelivery, *, now: datetime.datetime) -> None:
    """A delivery found "sending": if whoever was sending it is gone, it becomes uncertain."""
    why = abandoned(delivery, now=now)
    if why is not None:
        _mark_uncertain(delivery, why)


def abandoned(delivery: EmailDelivery, *, now: datetime.datetime) -> str | None:
    """Why a delivery left "sending" has no sender any more, or None if one may still be at it."""
    run = current_run()
    if run is not None and delivery.job_id == run.job_id:
        return "the job was cut short while sending it, and has been picked up again"
    if run is not None and delivery.worker_id == run.worker_id:
        return f"an earlier job of worker {delivery.worker_id} stopped while sending it"
    if delivery.worker_id and not worker_is_alive(delivery.worker_id, now=now):
        return f"its worker {delivery.worker_id} died while sending it"
    if delivery.attempted_at is None or delivery.attempted_at < now - SENDING_TIMEOUT:
        return f"the attempt of {delivery.attempted_at} never finished"
    return None


def _mark_uncertain(delivery: EmailDelivery, why: str) -> None:
    if EmailDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.UNCERTAIN, error=f"Uncertain: {why}."
    ):
        logger.error(
            "Email %s (%s) to %s may or may not have been sent: %s. It is not sent again; "
            "see `manage.py email_deliveries`.",
            delivery.pk,
            delivery.job,
            delivery.recipient,
            why,
        )


def _drop(delivery_id: int, why: str) -> None:
    """A retry that has nothing left to send: its delivery was never sent, and is forgotten."""
    if EmailDelivery.objects.filter(pk=delivery_id, status=Status.RETRYING).delete()[0]:
        logger.info("Email %s dropped before its retry: %s.", delivery_id, why)


def _attempt_failed(
    delivery: EmailDelivery, error: Exception, *, job: Task[Any, Any], args: Sequence[Any]
) -> None:
    """Retry later, or give up; an error that is not the mail server's is raised again."""
    now = timezone.now()
    described = f"{type(error).__name__}: {error}"[:2000]
    verdict = _verdict(error)
    if verdict != "retry":
        _fail(delivery, f"{described} (attempt {delivery.attempts})")
        if verdict == "ours":
            raise error  # a fault of ours, not the server's: the job fails with its traceback
        return
    if delivery.attempts >= MAX_ATTEMPTS:
        _fail(delivery, f"{described} (gave up after {delivery.attempts} attempts)")
        return
    if not job.get_backend().supports_defer:
        _fail(delivery, f"{described} (the task backend runs jobs inline and cannot retry later)")
        return
    at = now + retry_delay(delivery.attempts)
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.RETRYING, next_attempt_at=at, error=described
        )
        # In the same transaction as the row when the queue is this database: both, or neither.
        job.using(run_after=at).enqueue(*args, retrying=delivery.pk)
    logger.warning(
        "Email %s (%s) to %s not sent (attempt %d of %d): %s. Trying again at %s.",
        delivery.pk,
        delivery.job,
        delivery.recipient,
        delivery.attempts,
        MAX_ATTEMPTS,
        described,
        at.isoformat(timespec="seconds"),
    )


def _fail(delivery: EmailDelivery, error: str) -> None:
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, error=error, next_attempt_at=None
    )
    logger.error(
        "Email %s (%s) to %s failed: %s", delivery.pk, delivery.job, delivery.recipient, error
    )


def _verdict(error: Exception) -> Literal["retry", "refused", "ours"]:
    """Whether the server may take the email later, refused it for good, or the fault is ours."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return "refused" if codes and all(code >= 500 for code in codes) else "retry"
    if isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500:
        return "refused"
    if isinstance(error, (smtplib.SMTPException, OSError)):
        return "retry"
    return "ours"


def retry_delay(attempts: int) -> datetime.timedelta:
    """After the n-th failed attempt: a minute, doubling up to an hour, give or take a fifth.

    The spread keeps a thousand invitations that failed together from retrying together.
    """
    delay = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
    return delay * random.uniform(0.8, 1.2)


def _message_id(outgoing: Outgoing) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<{outgoing.key}@{domain}>"


def settle_abandoned(*, now: datetime.datetime | None = None) -> int:
    """Mark "uncertain" the deliveries whose sender died mid-send: nobody else would notice."""
    now = now or timezone.now()
    settled = 0
    for delivery in EmailDelivery.objects.filter(status=Status.SENDING):
        why = abandoned(delivery, now=now)
        if why is not None:
            _mark_uncertain(delivery, why)
            settled += 1
    return settled


def prune_deliveries(*, now: datetime.datetime | None = None, dry_run: bool = False) -> int:
    """Forget sent emails after KEEP_SENT, the others after KEEP_UNSENT."""
    now = now or timezone.now()
    old = EmailDelivery.objects.filter(
        Q(status=Status.SENT, created_at__lte=now - KEEP_SENT)
        | (~Q(status=Status.SENT) & Q(created_at__lte=now - KEEP_UNSENT))
    ).exclude(status=Status.SENDING)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    if deleted:
        logger.info("Pruned %d email delivery record(s).", deleted)
    return deleted


def needing_attention(*, now: datetime.datetime | None = None) -> QuerySet[EmailDelivery]:
    """Emails not sent that a person should look at: failed, uncertain, or a sender gone quiet."""
    now = now or timezone.now()
    return EmailDelivery.objects.filter(
        Q(status__in=[Status.FAILED, Status.UNCERTAIN])
        | Q(status=Status.SENDING, attempted_at__lte=now - SENDING_TIMEOUT)
        # A retry a day late: its worker has been down, or its job failed for another reason.
        | Q(status=Status.RETRYING, next_attempt_at__lte=now - datetime.timedelta(days=1))
    )
