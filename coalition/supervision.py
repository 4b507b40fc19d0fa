"""Child processes supervised by one command (`manage.py rundev`, `manage.py serve`): Ctrl-C or
SIGTERM stops every child once, and none is left behind.

No Django here: `make serve` uses it before Django has read its settings.
"""

import os
import signal
import subprocess
import time
from types import FrameType


def interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the supervisor.

    Explicitly also for SIGINT: a shell that starts a command in the background ignores it.
    """
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop(children: list[subprocess.Popen[bytes]], *, timeout: float) -> None:
    """Ask every child to stop, wait up to `timeout` seconds in all, then kill what is left."""
    # A second Ctrl-C must not cut the clean-up short and leave a child behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(child)
            child.wait()


def _kill(child: subprocess.Popen[bytes]) -> None:
    """A child that leads a process group of its own (gunicorn and its workers) dies whole."""
    try:
        if os.getpgid(child.pid) == child.pid:
            os.killpg(child.pid, signal.SIGKILL)
        else:
            child.kill()
    except ProcessLookupError:
        pass  # it ended meanwhile
