"""`manage.py worker`: the task worker to run, in development (`make run`) and in production."""

import logging
import os
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.module_loading import import_string
from django_tasks_db.management.commands import db_worker

from coalition.core import deliveries, worker

BACKEND = "background"


def seconds(value: str) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ArgumentTypeError("Give a number of seconds greater than zero.")
    return number


def chores(*, backend_name: str, recover_every: float, prune_every: float) -> list[worker.Chore]:
    """What a worker does beside the jobs, and how often (in seconds)."""
    return [
        worker.Chore(
            "recovering jobs left by dead workers",
            recover_every,
            lambda: worker.recover_stale_jobs(backend_name=backend_name),
        ),
        worker.Chore(
            "flagging emails whose sender died", recover_every, deliveries.settle_abandoned
        ),
        worker.Chore(
            "pruning finished jobs",
            prune_every,
            lambda: worker.prune_finished_jobs(backend_name=backend_name),
        ),
        worker.Chore("pruning email records", prune_every, deliveries.prune_deliveries),
        # The apps' own chores (WORKER_CHORES in the settings): the machinery names no app.
        *(
            worker.Chore(label, min(prune_every, every), import_string(path))
            for label, every, path in settings.WORKER_CHORES
        ),
    ]


class Command(db_worker.Command):
    help = (
        "Run the background jobs (django-tasks-db's db_worker, every queue by default) with a "
        "heartbeat: jobs left running by a worker that died are run again, finished jobs and "
        "old email records are pruned daily, emails whose sender died mid-send are flagged."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--heartbeat",
            type=seconds,
            default=worker.HEARTBEAT_EVERY,
            help="Seconds between heartbeats (default: %(default)s).",
        )
        parser.add_argument(
            "--dead-after",
            type=seconds,
            default=worker.DEAD_AFTER,
            help="Seconds without a heartbeat after which others take this worker's running "
            "jobs back (default: %(default)s).",
        )
        parser.add_argument(
            "--recover-every",
            type=seconds,
            default=worker.RECOVER_EVERY,
            help="Seconds between looks for jobs left by dead workers (default: %(default)s).",
        )
        parser.add_argument(
            "--prune-every",
            type=seconds,
            default=worker.PRUNE_EVERY,
            help="Seconds between prunings of finished jobs and old email records "
            "(default: a day).",
        )
        # This project queues every job on one database backend: run them all by default.
        parser.set_defaults(backend_name=BACKEND, queue_name="*", worker_id=worker.new_worker_id())

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_worker(**options)

    # Keyword-only, and more of them than db_worker's own handle() takes: its options and ours.
    def run_worker(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        heartbeat: float,
        dead_after: float,
        recover_every: float,
        prune_every: float,
        **options: Any,
    ) -> None:
        if dead_after < 2 * heartbeat:
            raise CommandError(
                "--dead-after must be at least twice --heartbeat: one late beat is no death."
            )
        self.configure_logging(verbosity)
        for module in (worker, deliveries):
            # What it recovers, retries and prunes, beside the jobs db_worker reports.
            logging.getLogger(module.__name__).setLevel(
                logging.INFO if verbosity >= 1 else logging.WARNING
            )
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        if reload and batch:
            reload = False  # a batch ends by itself; reloading would start it again
        runner = worker.Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        housekeeping = worker.Housekeeping(
            worker_id=worker_id,
            queues=queue_name,
            heartbeat_every=heartbeat,
            dead_after=dead_after,
            chores=chores(
                backend_name=backend_name, recover_every=recover_every, prune_every=prune_every
            ),
        )

        def run() -> None:
            # Jobs a dead worker left are back in the queue before this one looks for work.
            housekeeping.tick()
            housekeeping.start()
            try:
                runner.run()
            finally:
                housekeeping.stop()

        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                runner.configure_signals()
            run_with_reloader(run)
        else:
            runner.configure_signals()
            run()
