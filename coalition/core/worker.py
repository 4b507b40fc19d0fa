"""The task worker that survives faults (`manage.py worker`): django-tasks-db's `db_worker` with a
heartbeat, the recovery of jobs a dead worker left running, and housekeeping on a schedule.

django-tasks-db marks a job RUNNING when a worker claims it and never looks at it again, so a
worker cut short mid-job (SIGKILL, out of memory, a lost machine, a code reload) leaves it
RUNNING for ever. Here each worker renews a heartbeat row every few seconds from a second
thread, and puts back in the queue every RUNNING job whose worker's heartbeat has expired; the
jobs of this project are written to be run again (see `coalition/core/deliveries.py` for emails).
A job claimed by a worker without a heartbeat (a bare `db_worker`) goes back once it has run for
longer than its queue allows. A job whose worker died under it MAX_CLAIMS times (one that
exhausts the memory, say) fails instead of taking the next worker down with it.
"""

import contextvars
import datetime
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 10.0
DEAD_AFTER = 60.0
RECOVER_EVERY = 30.0
PRUNE_EVERY = 24 * 3600.0
# Claims of one job by workers that died under it, after which it fails instead.
MAX_CLAIMS = 3
# Finished jobs are kept this long: failures longer, so that someone can read why.
KEEP_SUCCESSFUL = datetime.timedelta(days=7)
KEEP_FAILED = datetime.timedelta(days=30)
# The heartbeats of stopped or dead workers, kept for whoever asks what ran where.
KEEP_HEARTBEATS = datetime.timedelta(days=7)


class WorkerLost(Exception):
    """The worker running this job died under it too often: the job itself may be the cause."""


@dataclass(frozen=True)
class Run:
    """The job the current thread runs, and the worker running it."""

    worker_id: str
    job_id: str


_current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "current_run", default=None
)


def current_run() -> Run | None:
    """The worker and job running this code, or None outside a worker (inline jobs, requests)."""
    return _current_run.get()


@contextmanager
def running(worker_id: str, job_id: str) -> Iterator[Run]:
    """Run the code inside as `worker_id` running the job `job_id` (see `current_run`)."""
    run = Run(worker_id=worker_id, job_id=job_id)
    token = _current_run.set(run)
    try:
        yield run
    finally:
        _current_run.reset(token)


def new_worker_id() -> str:
    """Unique across machines and restarts, and says where the worker ran (64 characters at most)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def time_limit(queue_name: str) -> datetime.timedelta:
    """How long a job of this queue may run before a worker without heartbeat is presumed dead."""
    seconds = {
        # A long letter renders for minutes; twice its time limit before trying again.
        "pdf": 2 * settings.LETTER_PDF_TIMEOUT,
        # An SMTP conversation is seconds; a slow server's timeouts are minutes.
        "email": 15 * 60,
    }.get(queue_name, 30 * 60)
    return datetime.timedelta(seconds=seconds)


def beat(worker_id: str, *, queues: str, dead_after: float) -> None:
    """Renew this worker's heartbeat: others hold it alive until `dead_after` seconds from now."""
    now = timezone.now()
    expires_at = now + datetime.timedelta(seconds=dead_after)
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        seen_at=now, expires_at=expires_at
    )
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            queues=queues[:255],
            started_at=now,
            seen_at=now,
            expires_at=expires_at,
        )


def mark_stopped(worker_id: str) -> None:
    """The worker stops: its jobs, if any were left running, can be taken back at once."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=timezone.now())


def worker_is_alive(worker_id: str, *, now: datetime.datetime | None = None) -> bool:
    """Whether a worker with a heartbeat renews it still (False for one that never had one)."""
    heartbeat = WorkerHeartbeat.objects.filter(worker_id=worker_id).first()
    return heartbeat is not None and heartbeat.is_alive(now or timezone.now())


@dataclass
class Recovered:
    """What a recovery did: the jobs put back in the queue and those failed for good."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def recover_stale_jobs(*, backend_name: str, now: datetime.datetime | None = None) -> Recovered:
    """Put back in the queue the jobs left RUNNING by a worker that is gone."""
    now = now or timezone.now()
    recovered = Recovered()
    running = list(
        DBTaskResult.objects.running()
        .filter(backend_name=backend_name)
        .only("id", "queue_name", "started_at", "worker_ids", "task_path")
    )
    claimants = {row.worker_ids[-1] for row in running if row.worker_ids}
    heartbeats = {
        heartbeat.worker_id: heartbeat
        for heartbeat in WorkerHeartbeat.objects.filter(worker_id__in=claimants)
    }
    for row in running:
        worker_id = row.worker_ids[-1] if row.worker_ids else ""
        heartbeat = heartbeats.get(worker_id)
        if heartbeat is not None:
            if heartbeat.is_alive(now):
                continue
            why = f"its worker {worker_id} stopped renewing its heartbeat at {heartbeat.seen_at}"
        elif row.started_at is None or row.started_at > now - time_limit(row.queue_name):
            continue
        else:
            why = (
                f"it has run since {row.started_at}, longer than the {row.queue_name!r} queue "
                f"allows, under a worker without heartbeat ({worker_id or 'unknown'})"
            )
        # Matched on when it started, so that a job claimed again meanwhile is left alone.
        still_there = DBTaskResult.objects.filter(
            pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        if len(row.worker_ids) >= MAX_CLAIMS:
            message = (
                f"{len(row.worker_ids)} workers died while running it; the last time, {why}. "
                "Not run again: it may be what kills them."
            )
            if still_there.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                return_value=None,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}: {message}\n",
            ):
                logger.error("Job %s (%s) failed: %s", row.pk, row.task_path, message)
                recovered.failed.append(str(row.pk))
        elif still_there.update(status=TaskResultStatus.READY, started_at=None):
            logger.warning("Job %s (%s) queued again: %s.", row.pk, row.task_path, why)
            recovered.requeued.append(str(row.pk))
    return recovered


def prune_finished_jobs(
    *, backend_name: str, now: datetime.datetime | None = None, dry_run: bool = False
) -> int:
    """Delete finished jobs past their keeping time, and the heartbeats of long-gone workers."""
    now = now or timezone.now()
    finished = DBTaskResult.objects.filter(backend_name=backend_name).filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lte=now - KEEP_SUCCESSFUL)
        | Q(status=TaskResultStatus.FAILED, finished_at__lte=now - KEEP_FAILED)
    )
    if dry_run:
        return finished.count()
    deleted, _ = finished.delete()
    WorkerHeartbeat.objects.filter(
        Q(stopped_at__lte=now - KEEP_HEARTBEATS) | Q(expires_at__lte=now - KEEP_HEARTBEATS)
    ).delete()
    if deleted:
        logger.info("Pruned %d finished job(s).", deleted)
    return deleted


@dataclass
class Chore:
    """Something a worker does every so often beside running jobs."""

    name: str
    every: float  # seconds
    run: Callable[[], object]
    last: float | None = None

    def due(self, clock: float) -> bool:
        return self.last is None or clock - self.last >= self.every


class Housekeeping(threading.Thread):
    """The worker's second thread: its heartbeat and its chores, while the first runs jobs.

    `tick()` once in the main thread before the first job is claimed: jobs left by a dead
    worker are back in the queue before this one looks for work.
    """

    def __init__(
        self,
        *,
        worker_id: str,
        queues: str,
        heartbeat_every: float = HEARTBEAT_EVERY,
        dead_after: float = DEAD_AFTER,
        chores: Sequence[Chore] = (),
    ) -> None:
        super().__init__(name=f"housekeeping {worker_id}", daemon=True)
        self.worker_id = worker_id
        self.queues = queues
        self.heartbeat_every = heartbeat_every
        self.dead_after = dead_after
        self.chores = list(chores)
        self._stopping = threading.Event()

    def tick(self, clock: float | None = None) -> None:
        """Beat, then do each chore that is due. A failure is logged; the worker carries on."""
        clock = time.monotonic() if clock is None else clock
        try:
            beat(self.worker_id, queues=self.queues, dead_after=self.dead_after)
        except Exception:
            # The database may be away or locked for a moment: the next beat tries again.
            logger.exception("Worker %s could not renew its heartbeat.", self.worker_id)
        for chore in self.chores:
            if not chore.due(clock):
                continue
            chore.last = clock
            try:
                chore.run()
            except Exception:
                logger.exception("Worker %s: %s failed.", self.worker_id, chore.name)

    def run(self) -> None:
        try:
            while not self._stopping.wait(self.heartbeat_every):
                # As Django does around a request: a connection the database dropped is renewed.
                close_old_connections()
                self.tick()
        finally:
            connections.close_all()

    def stop(self) -> None:
        """Stop beating and say so: whatever this worker left running is free to run again."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=self.heartbeat_every + 5)
        try:
            mark_stopped(self.worker_id)
        except Exception:
            logger.exception("Worker %s could not record that it stopped.", self.worker_id)


class Worker(DatabaseWorker):
    """django-tasks-db's worker, telling the jobs it runs who runs them (see `current_run`)."""

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        with running(self.worker_id, str(db_task_result.id)):
            super().run_task(db_task_result)
