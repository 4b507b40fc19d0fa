"""SQLite waits instead of failing: a login during a long import is slower, never a 500.

The probe found a Word import holding SQLite's write lock for 55 s while a login failed with
"database is locked" and public pages failed. The file is now read before the transaction, and
SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout for writers.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from letters.word import MAX_PARAGRAPHS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """The migrated test database, copied to a file that another process can open."""
    if connection.vendor != "sqlite":
        pytest.skip(
            "SQLite's locking is what this checks: it runs in the suite's SQLite run "
            f"(this run's database is {connection.vendor})."
        )
    path = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    import sqlite3

    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return path


def test_sqlite_is_configured_to_wait_and_let_readers_through() -> None:
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("The SQLite options apply only when the database is SQLite.")
    assert options["timeout"] >= 20
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_logins_during_a_long_word_import_wait_instead_of_failing(sqlite_file: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.sqlite_import_during_logins",
            str(sqlite_file),
            str(MAX_PARAGRAPHS - 3),  # the longest letter a Word import takes
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"import {report['import']:.1f} s, write transaction {report['write_transaction']:.1f} s, "
        f"{len(report['logins'])} logins (slowest {max(report['logins']):.2f} s), "
        f"{len(report['reads'])} reads (slowest {max(report['reads']):.2f} s)"
    )
    assert report["errors"] == []
    assert report["letters"] == 1
    assert report["journal_mode"] == "wal"
    assert report["logins"] and report["reads"]
    # A login waits for the write transaction at most; the file is read outside it.
    assert max(report["logins"]) < report["write_transaction"] + 5
    assert report["write_transaction"] < report["import"]
