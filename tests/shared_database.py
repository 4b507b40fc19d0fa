"""The test database, shared with a process the test starts (a worker, a server).

On PostgreSQL the process connects to the test database itself: the test must be transactional
(`django_db(transaction=True)`) so that what it wrote is committed. SQLite's test database lives
in this process's memory, so the process gets a copy in a file (`VACUUM INTO`), and `pull()`
brings what the process did back into the test's database, for the ORM to read.
"""

import sqlite3
from pathlib import Path
from urllib.parse import quote

from django.db import connection


class SharedDatabase:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / "shared.sqlite3"

    @property
    def is_sqlite(self) -> bool:
        return connection.vendor == "sqlite"

    def url(self) -> str:
        """DATABASE_URL for the process; on SQLite, a copy of the test database as it is now."""
        if self.is_sqlite:
            self.file.unlink(missing_ok=True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(self.file)])
            return f"sqlite:///{self.file}"
        if connection.vendor != "postgresql":
            raise NotImplementedError(f"No way to share a {connection.vendor} test database.")
        db = connection.settings_dict
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += f":{quote(db['PASSWORD'], safe='')}"
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return f"postgres://{auth}@{host}/{db['NAME']}"

    def pull(self) -> None:
        """Make what the process wrote visible to this test's queries (a no-op on PostgreSQL)."""
        if not self.is_sqlite:
            return
        connection.ensure_connection()
        source = sqlite3.connect(self.file, timeout=20)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
