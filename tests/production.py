"""Running the project as production does, from a test: processes against the test database.

The servers and workers are real processes (gunicorn, `manage.py serve`, `db_worker`) with DEBUG
off, sharing the pytest-django test database on PostgreSQL and Redis database 1 with the test.
"""

import contextlib
import hashlib
import http.client
import http.cookies
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
SECRET_KEY = "production-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
# Collected once and kept between runs: `manage.py serve` collects again only when a source changed.
STATIC_ROOT = (
    Path(tempfile.gettempdir())
    / f"coalition-test-static-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
)


def require_postgresql_and_redis() -> None:
    """Skip, saying what is missing, unless the test database is PostgreSQL and Redis answers."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: run the suite with DATABASE_URL=postgres://USER@HOST:5432/NAME"
        )
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        pytest.skip(f"needs Redis at {REDIS_URL} ({error}); set TEST_REDIS_URL to another")


def require_gunicorn() -> None:
    found = subprocess.run(
        [sys.executable, "-c", "import gunicorn"], capture_output=True, check=False
    )
    if found.returncode != 0:
        pytest.skip("needs gunicorn in the virtualenv: pip install -e '.[dev]'")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def require_production_stack() -> None:
    """Skip unless PostgreSQL, Redis and gunicorn are here; then start from an empty Redis."""
    require_postgresql_and_redis()
    require_gunicorn()
    flush_redis()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The test database, as a URL the processes can read."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production process on this machine, without TLS."""
    from django.conf import settings

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_POOL", "CONN_MAX_AGE"}
    }
    env.update(
        DEBUG="0",
        TASKS_IMMEDIATE="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(),
        CACHE_URL=REDIS_URL,
        # Plain http on this machine: no redirect to https.
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=str(STATIC_ROOT),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    env.update(overrides)
    return env


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """Until the server answers (anything but a connection error), or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            requests.get(url, timeout=10, allow_redirects=False)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still booting
            time.sleep(0.2)
    pytest.fail(f"nothing answered at {url} in {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def start_gunicorn(
    env: dict[str, str], log: Path, *, workers: int = 2
) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn as `make serve` runs it, with `env`; returns it and its address once it answers.

    Its output goes to `log` (a benchmark's table stays clean of its warnings).
    """
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "coalition.project.wsgi"),
            *("--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/letters/", server, log)
    return server, base


def static_url(path: str) -> str:
    """A collected static file's hashed address, as the templates print it."""
    import json

    manifest = json.loads((STATIC_ROOT / "staticfiles.json").read_text())["paths"]
    return f"/static/{manifest[path]}"


def descendants(pid: int) -> set[int]:
    """Every process started under pid, however deep (gunicorn's workers under its master)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        children = subprocess.run(
            ["pgrep", "-P", str(todo.pop())], capture_output=True, text=True, check=False
        ).stdout.split()
        for child in map(int, children):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # A zombie has exited; its parent (gone too) could not reap it yet.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and re.search(r"\) Z ", stat.read_text()):
            continue
        living.add(pid)
    return living


def kill_all(pids: set[int]) -> None:
    for pid in alive(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def csrf_token(session: requests.Session, url: str) -> str:
    """The CSRF token of a form page, with its cookie kept for the POST.

    With DEBUG off the CSRF cookie is Secure, which requests keeps to itself over plain http:
    the cookie is sent by hand (TECH-NOTES §6).
    """
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code, page.text[:500])
    cookie = next(c for c in session.cookies if c.name == "csrftoken")
    session.headers["Cookie"] = f"csrftoken={cookie.value}"
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:2000]
    return match.group(1)


def start_make_serve(log: Path, **overrides: str) -> tuple[subprocess.Popen[bytes], str]:
    """The command `make serve` runs (gunicorn, 2 workers, and the task worker beside it) on the
    test database, in a session of its own; returns it and its address once it answers.

    Stop it with `stop_make_serve`.
    """
    port = free_port()
    env = production_env(PORT=str(port), SITE_URL=f"http://127.0.0.1:{port}", **overrides)
    server = subprocess.Popen(
        [sys.executable, "-m", "coalition.project.management.commands.serve"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", server, log, timeout=180)
    return server, base


def stop_make_serve(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a service manager stops it; then nothing it started is left running."""
    started = descendants(server.pid)
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    finally:
        kill_all(started)


def collected_and_served(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Static files collected into env's STATIC_ROOT, then gunicorn as `make serve` runs it."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return start_gunicorn(env, log)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User and system time these processes of this machine have used so far (one that has
    ended, or runs elsewhere, counts none)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_backends() -> set[int]:
    """The PostgreSQL processes serving the test database, other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def gunicorn_processes(server: subprocess.Popen[bytes]) -> set[int]:
    """gunicorn's master and workers among what `server` started."""
    return {
        pid
        for pid in descendants(server.pid)
        if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


def http_request(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> tuple[int, str, http.cookies.SimpleCookie]:
    """One request over a connection of its own (gunicorn closes each), redirects not followed:
    its status, its text and the cookies it set.

    For the benchmarks' clients: http.client rather than requests, whose own work would take a
    share of the cores the server is measured on (the clients stand for people elsewhere).
    """
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    sent = dict(headers or {})
    body = None
    if data is not None:
        body = urlencode(data)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    cookies: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return response.status, text, cookies
