"""Serve the site and run the task worker beside it, so that queued and deferred jobs run."""

import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from coalition.core import supervision

BACKEND = "background"
STOP_TIMEOUT = 10.0


class Command(BaseCommand):
    help = (
        "Development server: runs `worker` for the background task queue and `runserver`; "
        "starts the worker again if it dies, and stops both when runserver exits or on Ctrl-C."
    )
    # The children check the project themselves; checking here too only doubles the start-up.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="Passed on to runserver."
        )

    def handle(self, *args: str, addrport: str, **options: object) -> None:
        if not isinstance(task_backends[BACKEND], DatabaseBackend):
            raise CommandError(
                f"The {BACKEND!r} task backend runs jobs inline, so there is nothing for a worker "
                "to do and deferred jobs (deadlines, reminders) cannot be queued. "
                "Run with TASKS_IMMEDIATE=0."
            )
        supervision.interrupt_on_signals()
        supervisor = supervision.Supervisor(log=self.stderr.write)
        try:
            # Both children keep their own autoreloader (on under DEBUG); this process is never
            # re-executed by one, so the worker starts exactly once, and again only if it dies.
            supervisor.start(
                # db_worker with a heartbeat: a job it was killed in the middle of runs again.
                "worker",
                lambda: _manage("worker", "--backend", BACKEND, "--queue-name", "*"),
                restart=True,
            )
            supervisor.start("runserver", lambda: _manage("runserver", addrport))
            supervisor.watch()
        except supervision.ChildExited as exited:
            raise CommandError(str(exited)) from None
        except KeyboardInterrupt:
            pass
        finally:
            supervisor.stop(timeout=STOP_TIMEOUT)


def _manage(*args: str) -> subprocess.Popen[bytes]:
    # Our process group: a Ctrl-C in the terminal reaches the children too, and a breakpoint()
    # in a view can still read from the terminal.
    return subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), *args])  # noqa: S603
