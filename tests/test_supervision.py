"""The supervisor behind `make run` and `make serve`: a task worker that dies is started again
after a pause that grows, the web server's end ends everything, and stopping leaves nothing.

The rules run here on stand-in processes and a clock the test moves; `tests/test_rundev.py` and
`tests/test_serve.py` kill a real worker under the real commands.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from coalition.core import supervision
from coalition.core.supervision import ChildExited, Supervisor
from tests.production import ROOT, alive

PIDS = count(4_000_000)


class Process:
    """Stands in for a Popen: it ends when the test says, or when asked to stop."""

    def __init__(self) -> None:
        self.pid = next(PIDS)
        self.returncode: int | None = None
        self.terminated = 0

    def poll(self) -> int | None:
        return self.returncode

    def terminate(self) -> None:
        self.terminated += 1
        self.returncode = -signal.SIGTERM

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signals() -> Iterator[None]:
    """The supervisor installs its own signal handlers: this test process gets its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def supervisor(clock: Clock, log: list[str]) -> Supervisor:
    # Stand-ins have no orphans, and this test process's real children are none of its business.
    return Supervisor(log=log.append, clock=clock, adopt_orphans=False)


def started(processes: list[Process]):
    def start() -> Process:
        processes.append(Process())
        return processes[-1]

    return start


def test_a_dead_worker_is_started_again_after_a_pause_that_doubles_up_to_30_s(
    supervisor, clock, log
):
    web, workers = [], []
    supervisor.start("gunicorn", started(web))
    supervisor.start("task worker 1", started(workers), restart=True)

    pauses = []
    for _ in range(7):
        workers[-1].returncode = -signal.SIGKILL
        supervisor.check()
        pause = float(log[-1].rsplit(" in ", 1)[1].removesuffix(" s"))
        pauses.append(pause)
        clock.now += pause - 0.1
        supervisor.check()
        assert workers[-1].returncode is not None, "started again before its pause was over"
        clock.now += 0.1
        supervisor.check()
        assert workers[-1].returncode is None
        clock.now += 5  # dies again soon after starting

    assert pauses == [1, 2, 4, 8, 16, 30, 30]
    assert len(workers) == 8
    assert log[0] == "task worker 1 exited with status -9 (SIGKILL); restarting in 1 s"
    assert log[1] == f"task worker 1 started again (pid {workers[1].pid})"
    assert len(web) == 1 and web[0].returncode is None and web[0].terminated == 0


def test_a_worker_that_ran_a_minute_before_it_died_waits_one_second_again(supervisor, clock, log):
    workers = []
    supervisor.start("worker", started(workers), restart=True)
    for _ in range(3):
        workers[-1].returncode = 1
        supervisor.check()
        clock.now += 30
        supervisor.check()
    assert log[-2].endswith("restarting in 4 s")

    clock.now += 60
    workers[-1].returncode = 1
    supervisor.check()

    assert log[-1] == "worker exited with status 1; restarting in 1 s"


def test_the_web_server_ending_ends_the_supervisor(supervisor, signals):
    web, workers = [], []
    supervisor.start("gunicorn", started(web))
    supervisor.start("task worker 1", started(workers), restart=True)
    web[0].returncode = 3

    with pytest.raises(ChildExited) as exited:
        supervisor.check()
    supervisor.stop(timeout=1)

    assert str(exited.value) == "gunicorn exited with status 3."
    assert workers[0].terminated == 1
    assert len(workers) == 1


def test_stopping_asks_each_running_child_once_and_starts_none_again(supervisor, clock, signals):
    web, workers = [], []
    supervisor.start("runserver", started(web))
    supervisor.start("worker", started(workers), restart=True)
    workers[0].returncode = -signal.SIGKILL
    supervisor.check()  # a restart is due in a second
    clock.now += 1
    supervisor.check()

    supervisor.stop(timeout=1)
    clock.now += 60
    supervisor.check()

    assert [p.terminated for p in web + workers] == [1, 0, 1]
    assert len(workers) == 2


def test_a_signal_while_a_child_starts_stops_the_supervisor_once_the_child_is_known(
    supervisor, signals
):
    supervision.interrupt_on_signals()
    workers = []

    def start_and_be_interrupted() -> Process:
        process = started(workers)()
        os.kill(os.getpid(), signal.SIGTERM)  # between the fork and the supervisor noting it
        return process

    with pytest.raises(KeyboardInterrupt):
        supervisor.start("worker", start_and_be_interrupted, restart=True)

    assert supervisor.processes() == workers
    supervisor.stop(timeout=1)
    assert workers[0].terminated == 1


# A worker whose own child does the work, as Django's autoreloader runs it under `make run`.
SUPERVISE = """
import subprocess, sys
from coalition.core import supervision
worker = "sleep 60 </dev/null >/dev/null 2>&1 & echo $! >> {pids}; exec sleep 60"
supervision.interrupt_on_signals()
supervisor = supervision.Supervisor(log=lambda line: print(line, flush=True))
try:
    supervisor.start("worker", lambda: subprocess.Popen(["sh", "-c", worker]), restart=True)
    supervisor.watch()
except KeyboardInterrupt:
    pass
finally:
    supervisor.stop(timeout=5)
"""


def _workers(supervisor: int) -> list[int]:
    """The supervised worker, once it has written its child's pid and become `sleep`."""
    found = subprocess.run(
        ["pgrep", "-P", str(supervisor), "-x", "sleep"], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_children_a_killed_child_orphans_are_stopped_and_none_outlives_the_supervisor(
    tmp_path: Path,
):
    pids = tmp_path / "pids"
    supervising = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE.format(pids=pids)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until(lambda: _workers(supervising.pid), 30, "the worker did not start")
        first_orphan = int(pids.read_text().split()[0])
        [worker] = _workers(supervising.pid)

        os.kill(worker, signal.SIGKILL)

        _wait_until(lambda: not alive({first_orphan}), 10, "the orphan outlived its parent")
        _wait_until(lambda: len(pids.read_text().split()) == 2, 10, "no worker started again")
        second_orphan = int(pids.read_text().split()[1])
        supervising.send_signal(signal.SIGTERM)
        output, _ = supervising.communicate(timeout=15)
        assert supervising.returncode == 0
        assert "worker exited with status -9 (SIGKILL); restarting in 1 s" in output
        assert alive({second_orphan}) == set()
    finally:
        if supervising.poll() is None:
            supervising.kill()
            supervising.wait()
