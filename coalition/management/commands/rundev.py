"""Serve the site and run the task worker beside it, so that queued and deferred jobs run."""

import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from coalition import supervision

BACKEND = "background"
STOP_TIMEOUT = 10.0


class Command(BaseCommand):
    help = (
        "Development server: runs `worker` for the background task queue and `runserver`, "
        "and stops both when either exits or on Ctrl-C."
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
        # Both children keep their own autoreloader (on under DEBUG); this process is never
        # re-executed by one, so the worker starts exactly once.
        children = {
            # db_worker with a heartbeat: a job it was killed in the middle of runs again.
            "worker": _manage("worker", "--backend", BACKEND, "--queue-name", "*"),
            "runserver": _manage("runserver", addrport),
        }
        supervision.interrupt_on_signals()
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"{name} exited with status {child.returncode}.")
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            supervision.stop(list(children.values()), timeout=STOP_TIMEOUT)


def _manage(*args: str) -> subprocess.Popen[bytes]:
    # Our process group: a Ctrl-C in the terminal reaches the children too, and a breakpoint()
    # in a view can still read from the terminal.
    return subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), *args])  # noqa: S603
