"""Child processes supervised by one command (`manage.py rundev`, `manage.py serve`).

A child that may be restarted (the task worker) is started again when it dies, after a pause
that doubles from 1 s to 30 s while it keeps dying and starts over once it has run a minute; the
site stays up meanwhile, and each restart is logged. Any other child (the web server) ending ends
the supervisor too: that is for the service manager to restart. Ctrl-C or SIGTERM stops every
child once, and none is left behind, not even one that a dead child left orphaned.

No Django here: `make serve` uses it before Django has read its settings.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# A child that ran this long before it died was working: its next pause starts over.
STEADY_AFTER = 60.0
POLL_EVERY = 0.2
PR_SET_CHILD_SUBREAPER = 36

type Start = Callable[[], subprocess.Popen[bytes]]


class ChildExited(Exception):
    """A child that is not restarted has ended: the supervisor stops the others and exits."""

    def __init__(self, name: str, status: int) -> None:
        super().__init__(f"{name} exited with {describe(status)}.")
        self.name, self.status = name, status


def describe(status: int) -> str:
    """How an exit reads: "status 1", or "status -9 (SIGKILL)" for a child a signal ended."""
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"status {status} ({signal.Signals(-status).name})"
    return f"status {status}"


class _Interrupts:
    """SIGINT and SIGTERM raise KeyboardInterrupt, except inside `held()`, which raises it after.

    Held while a child starts: interrupted between its fork and our noting it, the child would
    be left behind.
    """

    held = False
    arrived = False

    @classmethod
    def handle(cls, signum: int, frame: FrameType | None) -> None:
        if cls.held:
            cls.arrived = True
            return
        raise KeyboardInterrupt

    @classmethod
    @contextlib.contextmanager
    def holding(cls) -> Iterator[None]:
        cls.held = True
        try:
            yield
        finally:
            cls.held = False
            if cls.arrived:
                cls.arrived = False
                raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the supervisor.

    Explicitly also for SIGINT: a shell that starts a command in the background ignores it.
    """
    signal.signal(signal.SIGINT, _Interrupts.handle)
    signal.signal(signal.SIGTERM, _Interrupts.handle)


@dataclass
class _Child:
    name: str
    start: Start
    restart: bool
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None


class Supervisor:
    """Starts the children, restarts those that may be restarted, and stops them all."""

    def __init__(
        self,
        *,
        log: Callable[[str], object],
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        steady_after: float = STEADY_AFTER,
        adopt_orphans: bool = True,
    ) -> None:
        self.log, self.clock = log, clock
        self.first_delay, self.max_delay, self.steady_after = first_delay, max_delay, steady_after
        self.children: list[_Child] = []
        # Descendants a dead child left behind, which Linux hands to us (see _adopt_orphans).
        self.adopts_orphans = adopt_orphans
        self.orphans: set[int] = set()
        if adopt_orphans:
            _become_subreaper()

    def start(self, name: str, start: Start, *, restart: bool = False) -> None:
        """Start a child now; with `restart`, again each time it dies until `stop()`."""
        child = _Child(name=name, start=start, restart=restart, delay=self.first_delay)
        self.children.append(child)
        self._launch(child)

    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The children started and not yet seen to end."""
        return [child.process for child in self.children if child.process is not None]

    def watch(self) -> NoReturn:
        """Check on the children until one that is not restarted ends (ChildExited)."""
        while True:
            self.check()
            time.sleep(POLL_EVERY)

    def check(self) -> None:
        """Note the children that ended, and start again those whose pause is over."""
        now = self.clock()
        for child in self.children:
            process = child.process
            if process is not None and process.poll() is not None:
                child.process = None
                self._adopt_orphans()
                if not child.restart:
                    raise ChildExited(child.name, process.returncode)
                if now - child.started_at >= self.steady_after:
                    child.delay = self.first_delay
                child.restart_at = now + child.delay
                self.log(
                    f"{child.name} exited with {describe(process.returncode)}; "
                    f"restarting in {child.delay:g} s"
                )
                child.delay = min(child.delay * 2, self.max_delay)
            elif process is None and child.restart_at is not None and now >= child.restart_at:
                self.log(f"{child.name} started again (pid {self._launch(child).pid})")
        self._reap_orphans()

    def stop(self, *, timeout: float) -> None:
        """Ask every child to stop, wait up to `timeout` seconds in all, then kill what is left."""
        # A second Ctrl-C must not cut the clean-up short and leave a child behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes = self.processes()
        for child in self.children:  # none is started again
            child.process, child.restart_at = None, None
        for process in processes:
            if process.poll() is None:
                process.terminate()
        self._adopt_orphans(also=processes)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(process)
                process.wait()
        # Orphans of the children that just stopped come to us too.
        self._adopt_orphans()
        while self._reap_orphans() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self._reap_orphans() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _launch(self, child: _Child) -> subprocess.Popen[bytes]:
        with _Interrupts.holding():
            process = child.process = child.start()
            child.started_at = self.clock()
            child.restart_at = None
        return process

    def _adopt_orphans(self, also: list[subprocess.Popen[bytes]] | None = None) -> None:
        """Ask the processes a dead child left behind (under Django's autoreloader, the real
        worker) to stop, once."""
        if not self.adopts_orphans:
            return
        ours = {process.pid for process in self.processes() + (also or [])}
        for pid in _children_of(os.getpid()) - ours - self.orphans:
            self.orphans.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _reap_orphans(self) -> set[int]:
        """Reap the orphans that ended; those still running."""
        for pid in list(self.orphans):
            try:
                ended, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                ended = pid  # not ours after all, or already reaped
            if ended:
                self.orphans.discard(pid)
        return self.orphans


def _become_subreaper() -> None:
    """Linux hands this process, rather than init, any descendant whose parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def _children_of(parent: int) -> set[int]:
    """The processes whose parent is `parent`, from /proc (none where there is no /proc)."""
    found = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            # The name in parentheses may hold anything: the state and the parent follow the last ")".
            fields = stat.rpartition(")")[2].split()
            if len(fields) > 1 and fields[1] == str(parent):
                found.add(int(entry.name))
    return found


def _kill(child: subprocess.Popen[bytes]) -> None:
    """A child that leads a process group of its own (gunicorn and its workers) dies whole."""
    try:
        if os.getpgid(child.pid) == child.pid:
            os.killpg(child.pid, signal.SIGKILL)
        else:
            child.kill()
    except ProcessLookupError:
        pass  # it ended meanwhile
