"""Serve the site and run the task worker beside it, so that queued and deferred jobs run."""

import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

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
        # Explicitly, also for SIGINT: a shell that starts us in the background has it ignored.
        signal.signal(signal.SIGINT, _raise_interrupt)
        signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"{name} exited with status {child.returncode}.")
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            _stop(list(children.values()))


def _manage(*args: str) -> subprocess.Popen[bytes]:
    # Our process group: a Ctrl-C in the terminal reaches the children too, and a breakpoint()
    # in a view can still read from the terminal.
    return subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), *args])  # noqa: S603


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    # A second Ctrl-C must not cut the clean-up short and leave a child behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
