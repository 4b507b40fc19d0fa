from collections.abc import Iterator

import pytest
from django.conf import settings
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from letters.models import LetterPage
from signatories.models import SignOn
from tests.factories import StaffFactory, UserFactory, make_letter
from tests.support import letters
from tests.support.database import (
    ensure_wagtail_site,
    is_transactional,
    migrate_to_latest,
    run_order,
)
from tests.support.signing import (
    Members,
    approved_revision,
    make_members,
    open_new_sign_on,
    with_open_link,
)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test counts its own rate limits and caches its own pages: caches emptied around it
    (the parsed signatory lists too: a rolled-back test's ids come again)."""
    from django.core.cache import cache

    from letters.caching import LOCAL
    from letters.signatory_list import KEPT

    cache.clear()
    LOCAL.forget()
    KEPT.forget()
    yield
    cache.clear()
    LOCAL.forget()
    KEPT.forget()


@pytest.fixture(autouse=True)
def wagtail_site_after_flush(request: pytest.FixtureRequest) -> None:
    """A transactional test finds Wagtail's root page and default site, as a migrated database has.

    An earlier transactional test flushed them with the rest (see pytest_collection_modifyitems).
    """
    if not is_transactional(request.node):
        return
    request.getfixturevalue("_django_db_helper")
    ensure_wagtail_site()


@pytest.fixture
def latest_migrations_after(transactional_db: None) -> Iterator[None]:
    """A test that migrates an app backwards leaves every app at its latest migration: the apps
    that depend on it were taken back with it, and the tests after it need their tables."""
    yield
    migrate_to_latest()


@pytest.fixture
def seed_document() -> dict:
    """The seed letter in the interchange format (a fresh copy per test)."""
    return letters.seed_document()


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


@pytest.fixture
def letter(db) -> LetterPage:
    """A published letter."""
    return make_letter()


@pytest.fixture
def members(db) -> Members:
    """A coalition of three member organizations, each with an authorized primary contact."""
    return make_members()


@pytest.fixture
def open_sign_on(members: Members) -> SignOn:
    """A sign-on whose letter accepts individuals, with requests from outside the audience."""
    return with_open_link(
        open_new_sign_on(members, revision=approved_revision(accepts_individuals=True))
    )


@pytest.fixture
def deferring_backend() -> Iterator[DummyBackend]:
    """The background backend swapped for the DummyBackend, which accepts run_after like the
    database backend of production and keeps what was queued (the tasks are django-tasks ones:
    swap it there)."""
    queues = settings.TASKS["background"]["QUEUES"]
    backend = DummyBackend(alias="background", params={"QUEUES": queues})
    task_backends["background"] = backend
    yield backend
    del task_backends["background"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Transactional tests flush the database, data migrations' rows included (Wagtail's site and
    # root page, our groups and workflow). pytest-django runs them last, but pytest's grouping of
    # session-scoped parameters (Playwright's browser) can move them; put them back at the end,
    # those that load the database's snapshot first (see run_order).
    items.sort(key=run_order)
