"""`make serve`: the production configuration on this machine, in one command.

The command `make serve` runs is started for real against the test database on PostgreSQL and
Redis database 1: it migrates and collects static files, gunicorn answers with a letter page, a
static file and a PDF, the task worker runs a queued job, and Ctrl-C or SIGTERM stops every
process it started. On an empty database of its own, it is the coalition's site from the start:
the archive, the home page, the health check and the first staff account.
"""

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection
from django.tasks import task

from coalition.core.models import WorkerHeartbeat
from coalition.project.management.commands.serve import WORKER_NICENESS, environment_problems
from coalition.project.settings import TASK_QUEUES
from signatories.interchange import import_letter
from tests.production import (
    ROOT,
    alive,
    database_url,
    descendants,
    free_port,
    kill_all,
    production_env,
    require_production_stack,
    static_url,
    wait_for,
)
from tests.support.database import ensure_wagtail_site

SERVE = [sys.executable, "-m", "coalition.project.management.commands.serve"]


@task(backend="background")
def echo(value: str) -> str:
    """Run by the worker of the server under test, which imports it from this module."""
    return value


def test_the_makefile_serves_with_this_command():
    recipe = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m coalition.project.management.commands.serve" in recipe


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///var/db.sqlite3"}, "DATABASE_URL"),
        ({"CACHE_URL": ""}, "CACHE_URL"),
        ({"CACHE_URL": "locmem://"}, "CACHE_URL"),
        ({"PAGE_CACHE_URL": "memcached://127.0.0.1:11211"}, "PAGE_CACHE_URL"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "1"}, "DEBUG"),
    ],
)
def test_it_names_what_to_set(env, named):
    complete = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/coalition",
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "letters.example.org",
    }
    assert environment_problems(complete) == []

    problems = environment_problems({**complete, **env} if env else {})

    assert any(problem.startswith(f"{named} must") for problem in problems), problems


def test_it_refuses_sqlite_before_django_starts():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL"}}
    result = subprocess.run(
        SERVE, cwd=ROOT, env={**env, "CACHE_URL": ""}, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert "DATABASE_URL must point at PostgreSQL (it is not set): set DATABASE_URL=" in (
        result.stderr
    )
    assert "CACHE_URL must be a Redis URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def published(transactional_db, seed_document):
    require_production_stack()
    ensure_wagtail_site()
    # Rendered here (the test runs jobs inline): the server then serves the stored PDF.
    return import_letter(document=seed_document, publish=True).letter


def start_serve(tmp_path: Path, port: int, *, ignore_sigint: bool) -> subprocess.Popen[bytes]:
    log = (tmp_path / "serve.log").open("wb")

    def as_a_background_shell_does() -> None:
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(  # its own session: the test presses "Ctrl-C" on it as a terminal
        SERVE,
        cwd=ROOT,
        env=production_env(PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=as_a_background_shell_does,
    )


def enqueue_for_the_worker(value: str) -> object:
    """Queue a job in the database queue that the server's worker reads.

    Written as the database backend writes it: this process runs its own jobs inline, so its
    "background" backend (and the class of the tasks it makes) is not the worker's.
    """
    from django_tasks_db.models import DBTaskResult

    assert "default" in TASK_QUEUES
    return DBTaskResult.objects.create(
        args_kwargs={"args": [value], "kwargs": {}},
        priority=0,
        task_path=f"{__name__}.echo",
        queue_name="default",
        backend_name="background",
    )


def wait_for_job(result_id: object, timeout: float = 60) -> tuple[str, object]:
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while True:
        row = DBTaskResult.objects.get(id=result_id)
        if row.status not in {"READY", "RUNNING"} or time.monotonic() > deadline:
            return row.status, row.return_value
        time.sleep(0.2)


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def stop_and_check_everything_stopped(
    server: subprocess.Popen[bytes], how: signal.Signals, log: Path
) -> None:
    started = descendants(server.pid)
    # gunicorn's master and workers, and the task worker.
    assert len(started) >= 4, (started, log.read_text()[-3000:])
    if how == signal.SIGINT:
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    else:
        server.send_signal(signal.SIGTERM)  # what a service manager does
    try:
        assert server.wait(timeout=30) == 0, log.read_text()[-3000:]
        deadline = time.monotonic() + 10
        while alive(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(started) == set(), log.read_text()[-3000:]
    finally:
        kill_all(started | {server.pid})


def test_make_serve_serves_runs_jobs_and_stops_everything_on_ctrl_c(published, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    # Started as a shell starts a job in the background: with Ctrl-C (SIGINT) ignored.
    server = start_serve(tmp_path, port, ignore_sigint=True)
    log = tmp_path / "serve.log"
    try:
        wait_for(f"{base}/static/", server, log)
        ready = time.monotonic() - started

        page = requests.get(f"{base}{published.url}", timeout=30)
        assert page.status_code == 200, log.read_text()[-3000:]
        assert published.title in page.text
        assert "Strict-Transport-Security" not in page.headers  # plain http: browsers ignore it
        stylesheet = requests.get(base + static_url("letters/site.css"), timeout=30)
        assert stylesheet.status_code == 200
        assert stylesheet.headers["Cache-Control"] == "max-age=315360000, public, immutable"
        publication = published.publications.get()
        pdf = requests.get(f"{base}{published.url}pdf/v1/", timeout=30)
        assert pdf.status_code == 200
        assert hashlib.sha256(pdf.content).hexdigest() == publication.pdf_sha256

        job = enqueue_for_the_worker("ran by the worker")
        assert wait_for_job(job.id) == ("SUCCESSFUL", "ran by the worker")
        # The worker yields the cores to the web workers (a rush of signatures is not slowed by
        # its emails); gunicorn runs at the usual priority.
        assert niceness(task_worker(server.pid)) == WORKER_NICENESS == 19
        web = [pid for pid in descendants(server.pid) if b"gunicorn" in command_line(pid)]
        assert web and {niceness(pid) for pid in web} == {0}

        assert re.search(r"Serving http://127\.0\.0\.1:\d+/ with gunicorn", log.read_text())
        stop_and_check_everything_stopped(server, signal.SIGINT, log)
        print(f"\nmake serve answered {ready:.1f} s after it started")
    finally:
        if server.poll() is None:
            kill_all(descendants(server.pid) | {server.pid})
        server.wait(timeout=10)


def test_a_killed_task_worker_is_restarted_while_the_site_answers_and_sigterm_stops_all(
    published, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_serve(tmp_path, port, ignore_sigint=False)
    log = tmp_path / "serve.log"
    try:
        wait_for(f"{base}/static/", server, log)
        response = requests.get(f"{base}{published.url}", timeout=30)
        assert response.status_code == 200
        worker = task_worker(server.pid)
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.filter(pid=worker).exists():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        killed = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))

        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.exclude(worker_id__in=killed).exists():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            assert requests.get(f"{base}{published.url}", timeout=10).status_code == 200
            time.sleep(0.2)

        assert "task worker 1 exited with status -9 (SIGKILL); restarting in 1 s" in (
            log.read_text()
        )
        assert task_worker(server.pid) != worker
        assert server.poll() is None
        stop_and_check_everything_stopped(server, signal.SIGTERM, log)
    finally:
        if server.poll() is None:
            kill_all(descendants(server.pid) | {server.pid})
        server.wait(timeout=10)


def task_worker(server_pid: int) -> int:
    """The process id of the one task worker `make serve` runs."""
    found = subprocess.run(
        ["pgrep", "-P", str(server_pid), "-f", "manage.py worker"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert len(found) == 1, found
    return int(found[0])


@pytest.fixture
def empty_database(db) -> object:
    """A database beside the test database, created empty; dropped afterwards."""
    require_production_stack()
    name = f"{connection.settings_dict['NAME']}_first_day"
    server_url = database_url().rsplit("/", 1)[0]
    server = psycopg.connect(f"{server_url}/postgres", autocommit=True)
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


def test_make_serve_on_an_empty_database_is_the_coalitions_site(empty_database, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # As behind a TLS proxy: pages over plain http are sent to https, the health check is not.
    env = production_env(
        PORT=str(port), DATABASE_URL=empty_database, SECURE_SSL_REDIRECT="1", BEHIND_TLS_PROXY="1"
    )
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        SERVE, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    via_proxy = {"X-Forwarded-Proto": "https"}
    try:
        wait_for(f"{base}/healthz", server, log, timeout=300)  # migrating from nothing

        health = requests.get(f"{base}/healthz", timeout=30, allow_redirects=False)
        assert health.status_code == 200, log.read_text()[-3000:]
        assert health.json() == {"status": "ok", "database": "ok", "cache": "ok"}
        home = requests.get(f"{base}/", headers=via_proxy, timeout=30, allow_redirects=False)
        assert (home.status_code, home.headers["Location"]) == (302, "/letters/")
        archive = requests.get(f"{base}/letters/", headers=via_proxy, timeout=30)
        assert archive.status_code == 200
        assert "No letters have been published yet." in archive.text
        assert "Welcome to your new Wagtail site" not in archive.text
        assert requests.get(f"{base}/letters/", timeout=30, allow_redirects=False).is_redirect

        made = subprocess.run(
            [sys.executable, "manage.py", "createstaff", "first@example.org"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        assert "/accounts/login/code/" in made.stdout
        stop_and_check_everything_stopped(server, signal.SIGTERM, log)
    finally:
        if server.poll() is None:
            kill_all(descendants(server.pid) | {server.pid})
        server.wait(timeout=10)
