"""Processes agree: two app servers and a task worker on one PostgreSQL and one Redis.

Deployed as the README says: two `manage.py serve` app servers (gunicorn, DEBUG off), the first
with the task worker beside it and the second without, on the test database, Redis database 1
for the rate limits and the pages' generation and Redis database 2 for the pages
(PAGE_CACHE_URL). A signature made through one server shows through the other; the PDF that the
worker renders is served by both; a publication makes both servers' cached pages stale.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from wagtail.models import Site

from letters.caching import GENERATION_KEY, GENERATION_TTL
from letters.models import Letterhead, Publication
from signatories.models import Signature
from tests.factories import OrganizationFactory, SignatureFactory, make_letter
from tests.production import (
    REDIS_URL,
    ROOT,
    alive,
    csrf_token,
    descendants,
    free_port,
    kill_all,
    production_env,
    require_production_stack,
    wait_for,
)
from tests.support.database import ensure_wagtail_site
from tests.support.signing import make_members, open_new_sign_on, sign_data, token_for

PAGES_REDIS_URL = os.environ.get("TEST_PAGE_REDIS_URL", "redis://127.0.0.1:6379/2")

# Run by a production process: the publication's PDF job goes to the database queue.
PUBLISH = """
from letters.models import LetterPage
from signatories.services import Actor, publish_letter
letter = LetterPage.objects.get(slug="worker-rendered")
print(publish_letter(letter=letter, actor=Actor.system("test")).pk)
"""


@pytest.fixture(scope="module")
def running(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two app servers, the first with the task worker; stopped, every process, afterwards."""
    require_production_stack()
    redis.Redis.from_url(PAGES_REDIS_URL).flushdb()
    logs = tmp_path_factory.mktemp("servers")
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    bases = []
    for number, task_workers in ((1, "1"), (2, "0")):
        port = free_port()
        log = logs / f"server{number}.log"
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--workers", "1"],
            cwd=ROOT,
            env=production_env(
                PORT=str(port), TASK_WORKERS=task_workers, PAGE_CACHE_URL=PAGES_REDIS_URL
            ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for (process, log), base in zip(started, bases, strict=True):
            wait_for(f"{base}/static/", process, log)
        yield bases
    finally:
        everything = set()
        for process, _ in started:
            everything |= descendants(process.pid) | {process.pid}
            process.send_signal(signal.SIGTERM)
        for process, _ in started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        leftover = alive(everything)
        kill_all(everything)
        assert leftover == set(), "processes outlived their server"


@pytest.fixture
def servers(running, transactional_db):
    ensure_wagtail_site()  # an earlier transactional test flushed it
    # Made here: a server that makes it on its first page saves it, which makes every cached
    # page stale at once (and this test's page with it).
    Letterhead.for_site(Site.objects.get(is_default_site=True))
    return running


def test_a_signature_made_through_one_server_is_seen_through_the_other(servers):
    first, second = servers
    members = make_members(2)
    sign_on = open_new_sign_on(members)
    invitation = sign_on.invitations.select_related("organization").order_by("pk")[0]
    organization = invitation.organization
    path = f"/sign/{token_for(invitation)}/"
    before = requests.get(second + path, timeout=30)
    assert before.status_code == 200
    assert f"{organization.name} has signed" not in before.text

    session = requests.Session()
    token = csrf_token(session, first + path)
    posted = session.post(
        first + path,
        data={**sign_data(sign_on, organization), "csrfmiddlewaretoken": token},
        headers={"Referer": first + path},
        allow_redirects=False,
        timeout=30,
    )

    assert posted.status_code == 302, posted.text[:2000]
    assert Signature.objects.filter(organization=organization, sign_on=sign_on).count() == 1
    after = requests.get(second + path, timeout=30)
    assert after.status_code == 200
    assert f"{organization.name} has signed" in after.text


def test_the_worker_renders_the_pdf_both_servers_serve_and_both_caches_go_stale(servers):
    letter = make_letter(live=False, slug="worker-rendered", title="A letter the worker renders")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Widget Makers"))
    # Each server caches the archive as it is now, without the letter.
    cached = {}
    for base in servers:
        archive = requests.get(f"{base}/letters/", timeout=30)
        assert archive.status_code == 200
        assert "A letter the worker renders" not in archive.text
        cached[base] = archive.headers["Last-Modified"]
    time.sleep(GENERATION_TTL + 0.1)
    for base in servers:  # served from the cache: stored when first asked
        assert requests.get(f"{base}/letters/", timeout=30).headers["Last-Modified"] == cached[base]
    # The pages in a Redis of their own, which may evict them; the generation with the limits.
    pages = redis.Redis.from_url(PAGES_REDIS_URL).keys("*public-pages:*")
    limits = redis.Redis.from_url(REDIS_URL).keys("*public-pages:*")
    assert pages and all(GENERATION_KEY.encode() not in key for key in pages)
    assert [key for key in limits if GENERATION_KEY.encode() not in key] == []

    published = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PUBLISH],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr[-3000:]
    publication = Publication.objects.get(pk=int(published.stdout.split()[-1]))

    # Each process reads the shared generation at most once a second.
    time.sleep(GENERATION_TTL + 0.1)
    for base in servers:
        archive = requests.get(f"{base}/letters/", timeout=30)
        assert "A letter the worker renders" in archive.text, base

    deadline = time.monotonic() + 90
    while not publication.pdf_sha256 and time.monotonic() < deadline:
        time.sleep(0.3)
        publication.refresh_from_db()
    assert publication.pdf_sha256, "the worker did not render the PDF"
    for base in servers:
        pdf = requests.get(f"{base}/letters/worker-rendered/pdf/v1/", timeout=30)
        assert pdf.status_code == 200, (base, pdf.status_code)
        assert hashlib.sha256(pdf.content).hexdigest() == publication.pdf_sha256
        page = requests.get(f"{base}/letters/worker-rendered/", timeout=30)
        assert publication.pdf_sha256 in page.text, base  # the page went stale with the PDF
