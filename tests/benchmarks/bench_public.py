"""Published letters under the production server, beside a static file in the same run.

`make bench` with DATABASE_URL set to PostgreSQL, Redis at 127.0.0.1:6379 (or REDIS_URL) and
`wrk` installed (Debian: apt-get install wrk). gunicorn serves the project with DEBUG off and the
page cache in Redis; wrk loads each address for a few seconds with 8 connections. Absolute
figures vary between machines and runs; the ratios to the static file are what to compare.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
import requests
from django.db import connection

from letters.models import LetterPage, Publication
from letters.versions import attach_publication_pdf
from signatories.interchange import import_letter
from signatories.models import Signature
from tests.production import ROOT, production_env, start_gunicorn
from tests.support.database import ensure_wagtail_site

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
LONG_LIST = 1821
DURATION = os.environ.get("BENCH_SECONDS", "5")
TARGET = 0.5


def _published_letters(seed: dict) -> tuple[LetterPage, LetterPage]:
    ensure_wagtail_site()
    seed_letter = import_letter(document=seed, publish=True).letter
    many = {**seed, "title": "A letter with many signatories"}
    many["signatories"] = [
        {"name": f"Signatory Association Number {n:04d}", "acronym": f"SAN{n:04d}"}
        for n in range(LONG_LIST)
    ]
    long_letter = import_letter(document=many, publish=True).letter
    # The worker would render these; here they are rendered before the server starts.
    for publication in Publication.objects.all():
        attach_publication_pdf(publication=publication)
    return seed_letter, long_letter


def _wrk(url: str) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{DURATION}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors is not None:
        raise AssertionError(f"wrk on {url} did not succeed:\n{out}")
    return float(match.group(1))


@pytest.mark.bench
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_published_letters_keep_up_with_a_static_file(seed_document, tmp_path, bench_row):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    if shutil.which("wrk") is None:
        pytest.skip("needs wrk: apt-get install wrk")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    except Exception as error:
        pytest.skip(f"needs Redis at {REDIS_URL} ({error})")
    seed_letter, long_letter = _published_letters(seed_document)
    static_root = tmp_path / "static"
    env = production_env(CACHE_URL=REDIS_URL, STATIC_ROOT=str(static_root))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    server, base = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        targets = {
            "static CSS (whitenoise)": f"/static/{manifest['letters/site.css']}",
            f"seed letter page ({seed_letter.signatures.count()} signatories)": seed_letter.url,
            "seed letter PDF": f"{seed_letter.url}pdf/v1/",
            f"letter page ({LONG_LIST} signatories)": long_letter.url,
            f"letter PDF ({LONG_LIST} signatories)": f"{long_letter.url}pdf/v1/",
        }
        sizes, rates = {}, {}
        for name, path in targets.items():
            first = requests.get(base + path, timeout=30)  # renders once; then cached
            assert first.status_code == 200, (name, first.status_code)
            sizes[name] = len(first.content)
            rates[name] = _wrk(base + path)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    static = rates["static CSS (whitenoise)"]
    print(f"\ngunicorn, 2 workers, PostgreSQL, Redis cache, DEBUG off; wrk -c8 -d{DURATION}s:")
    print(f"  {'what':<38} {'size':>10} {'req/s':>9} {'x static':>9}")
    for name in targets:
        print(
            f"  {name:<38} {sizes[name] / 1024:>8.1f} KB {rates[name]:>9.0f} "
            f"{rates[name] / static:>8.2f}x"
        )
    print(f"  target: every letter page and PDF at least {TARGET}x the static file")
    section = f"Public pages through gunicorn (2 workers, PostgreSQL, Redis), wrk -c8 -d{DURATION}s"
    for name in targets:
        bench_row(
            section,
            name,
            f"{rates[name]:.0f} req/s = {rates[name] / static:.2f}x static",
            "" if name == "static CSS (whitenoise)" else f"at least {TARGET}x static",
        )
    assert Signature.objects.filter(letter=long_letter).count() == LONG_LIST
