"""What the two commands need from the system: named with the command that installs it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check(target: str, *, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "SYSTEM_PACKAGES_INSTALL": "0"}
    return subprocess.run(
        [sys.executable, "-m", "coalition.project.system_packages", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_passes_quietly_when_everything_is_here() -> None:
    done = _check("test", path=os.environ["PATH"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_it_names_what_is_missing_with_the_command_that_installs_it(tmp_path: Path) -> None:
    # A PATH with neither fontconfig's fc-list, pdftotext nor Chromium on it.
    done = _check("test", path=str(tmp_path))
    assert done.returncode == 1
    assert "Missing: the Noto Serif CJK fonts" in done.stderr
    assert "Missing: Poppler's pdftotext" in done.stderr
    assert "Missing: Chromium" in done.stderr
    assert "sudo apt-get install fontconfig fonts-noto-cjk poppler-utils chromium" in done.stderr
    assert "Install it, then run make again." in done.stderr


def test_a_missing_optional_tool_is_named_but_does_not_stop_the_command(tmp_path: Path) -> None:
    # `make run` needs neither Poppler nor Chromium; `make bench` only names wrk.
    (tmp_path / "fc-list").symlink_to(Path("/usr/bin/fc-list"))
    (tmp_path / "pdftotext").symlink_to(Path("/usr/bin/pdftotext"))
    assert _check("run", path=str(tmp_path)).returncode == 0
    done = _check("bench", path=str(tmp_path))
    assert done.returncode == 0
    assert "Missing: wrk" in done.stderr
    assert "sudo apt-get install wrk" in done.stderr
