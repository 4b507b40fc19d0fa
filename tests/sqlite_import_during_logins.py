"""Run by tests/test_sqlite_waits.py in a process of its own, on a SQLite file.

A staff member imports a long Word letter while others log in and read: prints, as JSON, how
long the import held the write lock, how long each login and read took, and what failed.

    python -m tests.sqlite_import_during_logins DB_FILE PARAGRAPHS
"""

import io
import json
import os
import sys
import tempfile
import threading
import time
import traceback


def main(path: str, paragraphs: int) -> None:
    os.environ.update(
        DATABASE_URL=f"sqlite:///{path}",
        DEBUG="1",
        TASKS_IMMEDIATE="1",
        SECRET_KEY="test-only-secret-key",
        MEDIA_ROOT=tempfile.mkdtemp(prefix="coalition-media-"),
        DJANGO_SETTINGS_MODULE="coalition.project.settings",
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, connections
    from django.test import Client

    from letters import services
    from letters.models import LetterPage
    from tests.hostile import docx_with_paragraphs

    index = services.ensure_letter_archive()
    staff = User.objects.create_user("importer", "importer@example.org", is_staff=True)
    members = [User.objects.create_user(f"member{i}", f"m{i}@example.org") for i in range(3)]
    document = docx_with_paragraphs(paragraphs)
    journal_mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
    connection.close()

    report: dict = {"journal_mode": journal_mode, "logins": [], "reads": [], "errors": []}
    importing = threading.Event()
    finished = threading.Event()
    # The write transaction: saving the draft, once the file has been read (before, the import
    # read the file inside it, and the whole import was the transaction).
    step = "create_draft_letter" if hasattr(services, "create_draft_letter") else None
    real_create = getattr(services, step or "create_letter_from_word")

    def timed_create(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real_create(*args, **kwargs)
        finally:
            report["write_transaction"] = time.perf_counter() - started

    setattr(services, step or "create_letter_from_word", timed_create)

    def run_import() -> None:
        importing.set()
        started = time.perf_counter()
        try:
            services.create_letter_from_word(  # as the view calls it for a short letter
                upload=io.BytesIO(document), name="long.docx", user=staff, index=index
            )
        except Exception:
            report["errors"].append("import: " + traceback.format_exc(limit=1))
        finally:
            report["import"] = time.perf_counter() - started
            finished.set()
            connections.close_all()

    def log_in_and_read(user: User) -> None:
        importing.wait()
        try:
            while not finished.is_set():
                started = time.perf_counter()
                try:
                    Client().force_login(user)  # a session row and last_login: two writes
                except Exception as error:
                    report["errors"].append(f"login: {type(error).__name__}: {error}")
                report["logins"].append(time.perf_counter() - started)
                started = time.perf_counter()
                try:
                    LetterPage.objects.count()
                except Exception as error:
                    report["errors"].append(f"read: {type(error).__name__}: {error}")
                report["reads"].append(time.perf_counter() - started)
                time.sleep(0.05)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_import)] + [
        threading.Thread(target=log_in_and_read, args=(user,)) for user in members
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report["letters"] = LetterPage.objects.count()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
