"""The system packages `make run`, `make serve`, `make test` and `make bench` need, installed when
this machine lets us (root with apt-get), otherwise named with the command that installs them.

Run as `python -m coalition.project.system_packages run|serve|test|bench`. No Django here: it runs before
the project is set up, and must not import WeasyPrint in its own process (a failed import of
Pango cannot be retried once it has half-loaded).
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    what: str  # what it is for, said to the reader
    debian: tuple[str, ...]  # the Debian and Ubuntu packages that provide it
    present: Callable[[], bool]
    elsewhere: str  # how to get it on other systems
    required: bool = True  # a missing optional one is named, and the command carries on


def _python_imports(module: str) -> Callable[[], bool]:
    def check() -> bool:
        found = subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"import {module}"], capture_output=True, check=False
        )
        return found.returncode == 0

    return check


def _font(family: str) -> Callable[[], bool]:
    def check() -> bool:
        if shutil.which("fc-list") is None:
            return False
        return subprocess.run(["fc-list", "-q", family], check=False).returncode == 0  # noqa: S603,S607

    return check


def _command(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


PANGO = Requirement(
    "Pango, which WeasyPrint draws the letters' PDFs with",
    ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"),
    _python_imports("weasyprint"),
    "macOS: brew install pango; others: "
    "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html",
)
CJK_FONTS = Requirement(
    "the Noto Serif CJK fonts, for Chinese, Japanese and Korean names in PDFs",
    ("fontconfig", "fonts-noto-cjk"),
    _font("Noto Serif CJK JP"),
    "install Noto Serif CJK (https://github.com/notofonts/noto-cjk) where fontconfig finds it",
)
POPPLER = Requirement(
    "Poppler's pdftotext, which the tests read PDFs with",
    ("poppler-utils",),
    _command("pdftotext"),
    "macOS: brew install poppler",
)
CHROMIUM = Requirement(
    "Chromium, which the browser tests drive (without it they skip, saying so)",
    ("chromium",),
    lambda: shutil.which("chromium") is not None or shutil.which("chromium-browser") is not None,
    "install Chromium or Chrome as `chromium` on PATH",
    required=False,
)
WRK = Requirement(
    "wrk, which loads the server in the gunicorn benchmarks (without it they skip)",
    ("wrk",),
    _command("wrk"),
    "macOS: brew install wrk",
    required=False,
)

NEEDS: dict[str, tuple[Requirement, ...]] = {
    "run": (PANGO, CJK_FONTS),
    "serve": (PANGO, CJK_FONTS),
    "test": (PANGO, CJK_FONTS, POPPLER, CHROMIUM),
    "bench": (PANGO, CJK_FONTS, POPPLER, WRK),
}


def can_install() -> bool:
    """apt-get is here and we may run it without asking for a password."""
    return (
        os.environ.get("SYSTEM_PACKAGES_INSTALL", "1") != "0"
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("apt-get") is not None
    )


def install(packages: list[str]) -> bool:
    """Install Debian packages, quietly; True when apt-get succeeded."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ]
    for step in steps:
        done = subprocess.run(step, env=env, stdout=subprocess.DEVNULL, check=False)  # noqa: S603
        if done.returncode != 0:
            print(f"`{' '.join(step)}` failed with status {done.returncode}.", file=sys.stderr)
            return False
    return True


def ensure(target: str) -> int:
    """Check what `target` needs, install what is missing if we can; the exit status."""
    missing = [need for need in NEEDS[target] if not need.present()]
    if not missing:
        return 0
    packages = [package for need in missing for package in need.debian]
    if can_install():
        print(f"Installing {' '.join(packages)} with apt-get, for:")
        for need in missing:
            print(f"  - {need.what}")
        if install(packages):
            missing = [need for need in missing if not need.present()]
    if not missing:
        return 0
    required = [need for need in missing if need.required]
    packages = [package for need in missing for package in need.debian]
    for need in missing:
        print(f"Missing: {need.what}.", file=sys.stderr)
    print(
        f"On Debian or Ubuntu: sudo apt-get install {' '.join(packages)}",
        file=sys.stderr,
    )
    for need in missing:
        print(f"Elsewhere, for {need.debian[-1]}: {need.elsewhere}.", file=sys.stderr)
    if required:
        print("Install it, then run make again.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in NEEDS:
        print(
            f"usage: python -m coalition.project.system_packages {'|'.join(NEEDS)}", file=sys.stderr
        )
        sys.exit(2)
    sys.exit(ensure(sys.argv[1]))
