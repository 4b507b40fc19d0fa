"""The production configuration on one machine: gunicorn and the task worker, supervised.

`make serve` runs this module as a script first (`python -m coalition.project.management.commands.serve`):
it checks the environment before Django reads its settings, so that a missing variable is one
clear line instead of a traceback, and then hands over to `manage.py serve`.
"""

import contextlib
import ctypes
import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coalition.core import supervision

ROOT = Path(__file__).resolve().parents[4]
BACKEND = "background"
STOP_TIMEOUT = 15.0
# The task worker yields the cores to the web workers when both have work: under a rush of
# signatures the emails queue up and go out a moment later, instead of slowing every signer's
# request (on a quiet machine the worker takes all the CPU it needs). The lowest priority: at 10
# it still took a tenth of a busy machine.
WORKER_NICENESS = 19
# Any number: app servers starting together take turns to migrate under this PostgreSQL lock.
MIGRATION_LOCK = 731_042_118


def environment_problems(env: Mapping[str, str]) -> list[str]:
    """What the environment lacks for production, each naming the variable to set."""
    problems = []
    database_url = env.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        found = f"it is {database_url.split(':', 1)[0]}" if database_url else "it is not set"
        problems.append(
            f"DATABASE_URL must point at PostgreSQL ({found}): set "
            "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME. SQLite is for `make run` only: "
            "it serialises every write, and several servers cannot share it."
        )
    if not env.get("CACHE_URL", "").startswith(("redis://", "rediss://", "unix://")):
        problems.append(
            "CACHE_URL must be a Redis URL, e.g. CACHE_URL=redis://127.0.0.1:6379/0: the page "
            "cache, the rate limits and the login limits are shared there by every process."
        )
    page_cache_url = env.get("PAGE_CACHE_URL", "")
    if page_cache_url and not page_cache_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append(
            "PAGE_CACHE_URL must be a Redis URL when set, e.g. "
            "PAGE_CACHE_URL=redis://127.0.0.1:6380/0: a Redis of the page cache's own, which "
            "may evict pages (see the README)."
        )
    if not env.get("SECRET_KEY"):
        problems.append(
            "SECRET_KEY must be set: a long random string kept secret, e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    if not env.get("ALLOWED_HOSTS"):
        problems.append(
            "ALLOWED_HOSTS must be set: the host names the site answers to, comma-separated "
            "(e.g. ALLOWED_HOSTS=letters.example.org, or 127.0.0.1,localhost on this machine)."
        )
    if env.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}:
        problems.append("DEBUG must be off: `make serve` is production (`make run` develops).")
    return problems


class Command(BaseCommand):
    help = (
        "Production on this machine: migrates, collects static files, then runs gunicorn "
        "(WEB_CONCURRENCY workers, default 2, on PORT, default 8000) and the task worker, "
        "which is started again if it dies, and stops them all on Ctrl-C or SIGTERM."
    )
    requires_system_checks = []  # run below, with the deployment checks, once

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY") or 2)
        )
        parser.add_argument(
            "--task-workers",
            type=int,
            default=int(os.environ.get("TASK_WORKERS") or 1),
            help="Task worker processes beside the web server (0 on app servers whose tasks run "
            "on machines of their own).",
        )

    def handle(
        self, *args: str, host: str, port: int, workers: int, task_workers: int, **options: object
    ) -> None:
        problems = environment_problems(os.environ)
        if problems:
            raise CommandError("\n".join(problems))
        supervision.interrupt_on_signals()
        try:
            self._prepare()
        except KeyboardInterrupt:
            self.stdout.write("Stopped before serving.")
            return
        # psycopg's pool in each child unless asked otherwise: no connection set up per request.
        child_env = {**os.environ, "DATABASE_POOL": os.environ.get("DATABASE_POOL", "1")}
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "coalition.project.wsgi",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--graceful-timeout",
            str(int(STOP_TIMEOUT) - 5),
            *_without_control_socket(),
        ]
        # db_worker with a heartbeat: a job whose worker died runs again.
        worker = [
            *(sys.executable, str(ROOT / "manage.py"), "worker"),
            *("--backend", BACKEND, "--queue-name", "*"),
        ]
        supervisor = supervision.Supervisor(log=self.stderr.write)
        try:
            supervisor.start("gunicorn", partial(_start, gunicorn, child_env))
            for number in range(1, task_workers + 1):
                # A worker that dies is started again while the site stays up.
                supervisor.start(
                    f"task worker {number}",
                    partial(_start, worker, child_env, nice=WORKER_NICENESS),
                    restart=True,
                )
            shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host  # noqa: S104
            self.stdout.write(
                f"Serving http://{shown}:{port}/ with gunicorn ({workers} workers) and "
                f"{task_workers} task worker(s). Ctrl-C stops them all."
            )
            supervisor.watch()
        except supervision.ChildExited as exited:
            raise CommandError(str(exited)) from None
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            supervisor.stop(timeout=STOP_TIMEOUT)

    def _prepare(self) -> None:
        """Check what the settings made of the environment, migrate and collect static files."""
        from django.conf import settings
        from django.core.cache import caches
        from django.core.management import call_command
        from django.db import connection

        if connection.vendor != "postgresql":
            raise CommandError("DATABASE_URL must point at PostgreSQL: `make run` is for SQLite.")
        try:
            connection.ensure_connection()
        except Exception as error:
            raise CommandError(f"Cannot reach PostgreSQL at DATABASE_URL: {error}") from error
        for alias, variable in (("default", "CACHE_URL"), ("pages", "PAGE_CACHE_URL")):
            try:
                caches[alias].set("serve:ping", 1, timeout=5)
            except Exception as error:
                raise CommandError(f"Cannot reach Redis at {variable}: {error}") from error
        call_command("check", deploy=True, fail_level="ERROR")
        if settings.SECURE_SSL_REDIRECT and not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
            self.stderr.write(
                "Note: plain http requests are redirected to https (SECURE_SSL_REDIRECT). Behind "
                "a proxy that terminates TLS set BEHIND_TLS_PROXY=1; to try the site over plain "
                "http on this machine set SECURE_SSL_REDIRECT=0."
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            call_command("migrate", interactive=False, verbosity=1)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
        self._collect_static()
        # This process only watches from now on: it keeps no connection open.
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()

    def _collect_static(self) -> None:
        """collectstatic, unless the files collected last time are still those of the sources.

        WhiteNoise compresses every file again on each run (half a minute of CPU), so a restart
        that changed nothing skips it. A lock keeps servers sharing STATIC_ROOT from colliding.
        """
        from django.conf import settings
        from django.core.management import call_command

        root = Path(settings.STATIC_ROOT).resolve()
        root.mkdir(parents=True, exist_ok=True)
        # Beside, not in, STATIC_ROOT: WhiteNoise serves every file there.
        beside = Path(tempfile.gettempdir()) / (
            "coalition-static-" + hashlib.sha256(str(root).encode()).hexdigest()[:16]
        )
        stamp = beside.with_suffix(".collected-from")
        with beside.with_suffix(".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fingerprint = _static_sources_fingerprint()
            collected = (root / "staticfiles.json").exists() and stamp.exists()
            if collected and stamp.read_text() == fingerprint:
                return
            call_command("collectstatic", interactive=False, verbosity=0)
            stamp.write_text(fingerprint)


def _static_sources_fingerprint() -> str:
    """A hash of every file collectstatic would collect (name, size, time), and of how."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles.apps import StaticFilesConfig
    from django.contrib.staticfiles.finders import get_finders

    config = apps.get_app_config("staticfiles")
    ignore = config.ignore_patterns if isinstance(config, StaticFilesConfig) else []
    digest = hashlib.sha256(repr(settings.STORAGES["staticfiles"]).encode())
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _without_control_socket() -> list[str]:
    # gunicorn 25.1 and later open a control socket at one path per user ($HOME/.gunicorn), which
    # a second server on the machine takes over; this command is the supervisor instead.
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (25, 1) else []


def _die_with_parent() -> None:
    """In the child, before it runs: Linux sends it SIGTERM if this supervisor is killed."""
    # Elsewhere than Linux there is no such call: Ctrl-C and SIGTERM still stop them (Supervisor.stop).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start(command: list[str], env: dict[str, str], nice: int = 0) -> subprocess.Popen[bytes]:
    # Its own process group: a Ctrl-C in the terminal reaches only this supervisor, which then
    # stops each child once. Twice (the terminal's and ours) would make the task worker abandon
    # the job it is running instead of finishing it.
    def before_it_runs() -> None:
        _die_with_parent()
        if nice:
            os.nice(nice)

    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, process_group=0, preexec_fn=before_it_runs
    )


def main() -> None:
    """`make serve`: the environment checked before Django starts, then `manage.py serve`."""
    problems = environment_problems(os.environ)
    if problems:
        print("make serve needs a production environment:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(2)
    manage = str(ROOT / "manage.py")
    os.execv(sys.executable, [sys.executable, manage, "serve", *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    main()
