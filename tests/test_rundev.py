"""`manage.py rundev` (what `make run` serves with): the web server and the task worker together."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.tasks import task

from tests.production import alive
from tests.shared_database import SharedDatabase

ROOT = Path(__file__).resolve().parent.parent

# Run in the worker of the server under test, which imports it from this module by its path.
ENQUEUE_AND_WAIT = """
import time
from django.tasks import TaskResultStatus
from tests.test_rundev import echo
result = echo.enqueue("ran by the worker")
deadline = time.monotonic() + 90
while result.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
    if time.monotonic() > deadline:
        break
    time.sleep(0.2)
    result.refresh()
print(result.status, result.return_value if result.status == TaskResultStatus.SUCCESSFUL else "")
"""


@task(backend="background")
def echo(value: str) -> str:
    return value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_members(pgid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-a", "-g", str(pgid)], capture_output=True, text=True)
    return found.stdout.splitlines()


def _worker_pids(server_pid: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(server_pid), "-f", "manage.py worker"], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def _heartbeats(shared: SharedDatabase) -> dict[str, int]:
    """The workers that have run on the shared database: worker id and process id."""
    if not shared.is_sqlite:  # the test's own database, which the workers write to
        from coalition.core.models import WorkerHeartbeat

        return dict(WorkerHeartbeat.objects.values_list("worker_id", "pid"))
    with sqlite3.connect(shared.file, timeout=20) as connection:
        rows = connection.execute("SELECT worker_id, pid FROM core_workerheartbeat")
        return dict(rows.fetchall())


def _ping(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/media/ping.txt", timeout=10) as response:
        return response.read()


# The worker keeps its heartbeat and email records in our tables: the test database, shared.
@pytest.mark.django_db(transaction=True)
def test_rundev_serves_runs_queued_tasks_restarts_a_killed_worker_and_stops_all_on_ctrl_c(
    tmp_path: Path,
) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "ping.txt").write_text("pong")
    shared = SharedDatabase(tmp_path)
    env = {
        **os.environ,
        "DEBUG": "1",
        "TASKS_IMMEDIATE": "0",
        "SECRET_KEY": "test-only-secret-key",
        "DATABASE_URL": shared.url(),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    manage = [sys.executable, "manage.py"]

    port = _free_port()
    log = (tmp_path / "rundev.log").open("w")
    # Its own session, so that the test can press "Ctrl-C" on the whole group as a terminal does.
    server = subprocess.Popen(
        [*manage, "rundev", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    enqueued = None
    try:
        # Enqueued while the server starts: it waits in the database queue for the worker.
        enqueued = subprocess.Popen(
            [*manage, "shell", "--no-imports", "-c", ENQUEUE_AND_WAIT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

        # Generous: two Django processes start at once, on a machine that may be busy.
        body, deadline = None, time.monotonic() + 90
        while body is None and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "rundev.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/media/ping.txt") as response:
                    body = response.read()
            except OSError:
                time.sleep(0.2)
        assert body == b"pong", (tmp_path / "rundev.log").read_text()

        workers = _worker_pids(server.pid)
        assert len(workers) == 1, _group_members(server.pid)

        output, _ = enqueued.communicate(timeout=120)
        assert output.splitlines()[-1] == "SUCCESSFUL ran by the worker", output

        # The worker killed: another takes its place, and the site answers throughout.
        killed = _heartbeats(shared)
        assert len(killed) == 1, killed
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _heartbeats(shared).keys() == killed.keys():
            assert time.monotonic() < deadline, (tmp_path / "rundev.log").read_text()
            try:
                assert _ping(port) == b"pong"
            except OSError:
                # The one pause allowed: runserver reloading for a file edited in the checkout
                # (someone at work beside the suite), which is no doing of the worker's.
                assert "changed, reloading" in (tmp_path / "rundev.log").read_text()
            time.sleep(0.2)
        assert (
            "worker exited with status -9 (SIGKILL); restarting in 1 s"
            in (tmp_path / "rundev.log").read_text()
        )
        # Django's autoreloader ran the killed worker in a child of its own, which the killing
        # orphaned: rundev stopped it rather than leave two workers.
        deadline = time.monotonic() + 10
        while alive(set(killed.values())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(set(killed.values())) == set(), _group_members(server.pid)
        assert len(_worker_pids(server.pid)) == 1, _group_members(server.pid)

        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=10) == 0
        deadline = time.monotonic() + 5
        while _group_members(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group_members(server.pid) == []
    finally:
        log.close()
        if enqueued is not None and enqueued.poll() is None:
            enqueued.kill()
            enqueued.wait()
        if _group_members(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
