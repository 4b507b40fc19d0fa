"""The database around transactional tests, which flush it, migration data included."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.models import Locale, Page, Site


def is_transactional(item: pytest.Item) -> bool:
    """Whether the test runs outside a transaction, so that the database is flushed after it."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def restores_its_snapshot(item: pytest.Item) -> bool:
    """Whether the test loads the database's snapshot before it runs (serialized rollback)."""
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("serialized_rollback"))


def run_order(item: pytest.Item) -> int:
    """Tests in a transaction first; then those that load the migrated database's snapshot, while
    its rows still have the ids it was taken with (a flush after any other transactional test
    lets post_migrate make the content types anew, under new ids, and the snapshot's would then
    clash with them); the other transactional tests last."""
    if not is_transactional(item):
        return 0
    return 1 if restores_its_snapshot(item) else 2


def ensure_wagtail_site() -> None:
    """The root page, home page and default site that Wagtail's migrations create.

    A transactional test before this one flushes the database, migration data included.
    """
    if Site.objects.filter(is_default_site=True).exists():
        return
    ContentType.objects.clear_cache()  # the cached ids went with the flush
    Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=Page(title="Home", slug="home"))
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


def migrate_to_latest() -> None:
    """Every app at its latest migration, as after `migrate`."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
