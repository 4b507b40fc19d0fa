import json
import shutil
from pathlib import Path

import pytest

from tests.factories import StaffFactory, UserFactory

SHARED_SEED = Path(__file__).resolve().parent.parent / "signatories" / "demo" / "seed-letter.json"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test counts its own rate limits and caches its own pages: caches emptied around it."""
    from django.core.cache import cache

    from letters.caching import LOCAL

    cache.clear()
    LOCAL.forget()
    yield
    cache.clear()
    LOCAL.forget()


@pytest.fixture(autouse=True)
def wagtail_site_after_flush(request: pytest.FixtureRequest) -> None:
    """A transactional test finds Wagtail's root page and default site, as a migrated database has.

    An earlier transactional test flushed them with the rest (see pytest_collection_modifyitems).
    """
    if not _is_transactional(request.node):
        return
    request.getfixturevalue("_django_db_helper")
    from tests.e2e.conftest import ensure_wagtail_site

    ensure_wagtail_site()


@pytest.fixture
def seed_document() -> dict:
    """The seed letter in the interchange format (a fresh copy per test)."""
    return json.loads(SHARED_SEED.read_text())


@pytest.fixture
def staff(db):
    return StaffFactory(username="staff", email="staff@example.org")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def member_user(db):
    return UserFactory(username="member", email="member@example.org")


def body(response) -> bytes:
    """A response's bytes, whether it streams (a stored PDF) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def pdftotext(pdf: bytes, tmp_path: Path, *, layout: bool = False, raw: bool = True) -> str:
    """The text of a PDF as poppler extracts it (pypdf garbles WeasyPrint's CID fonts).

    By default in content-stream order (`-raw`), so that columns read one after the other.
    """
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install poppler-utils (apt-get install poppler-utils)")
    import subprocess

    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    args = (
        ["pdftotext", "-enc", "UTF-8"]
        + (["-layout"] if layout else ["-raw"] if raw else [])
        + [str(source), "-"]
    )
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Transactional tests flush the database, data migrations' rows included (Wagtail's site and
    # root page, our groups and workflow). pytest-django runs them last, but pytest's grouping of
    # session-scoped parameters (Playwright's browser) can move them; put them back at the end.
    items.sort(key=_is_transactional)
