"""The search index, trigram indexes and planner statistics after rows written in bulk, which
sends no signals.

Wagtail indexes a row saved one at a time from its post_save signal; rows written by
bulk_create or bulk_update are indexed here, in the worker once committed, because indexing
takes longer than the writing itself. The admin's listings search the tables directly; only the
choosers read this index.
"""

from functools import partial

from django.apps import apps
from django.db import ProgrammingError, connection, models, transaction
from django.tasks import task
from wagtail.search.backends import get_search_backend

#: Records a search-index job covers: the index is written row by row in Python, about a
#: millisecond each, so 10,000 rows are several jobs of seconds rather than one of minutes.
INDEX_BATCH = 2000


def index_later(model: type[models.Model], pks: list[int]) -> None:
    """Queue the search-index jobs for these rows, to run once the transaction commits."""
    for start in range(0, len(pks), INDEX_BATCH):
        transaction.on_commit(
            partial(index_members.enqueue, model._meta.label, pks[start : start + INDEX_BATCH])
        )


@task(backend="background")
def index_members(model_label: str, pks: list[int]) -> int:
    """Add organizations or contacts written in bulk to the search index (safe to run again)."""
    model = apps.get_model(model_label)
    found = list(model._default_manager.filter(pk__in=pks))
    if found:
        get_search_backend().add_bulk(model, found)
    return len(found)


def merge_pending_index_entries(tables: list[type[models.Model]]) -> None:
    """Merge what rows just written left in the pending lists of these tables' GIN indexes."""
    # PostgreSQL files a GIN index's new entries (the trigram indexes that serve the admin's
    # searches) in a list that every search reads through until VACUUM merges it: after
    # thousands of rows, a search took 800 ms instead of 20 until autovacuum came by.
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE a.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])",
                [[table._meta.db_table for table in tables]],
            )
    except ProgrammingError:
        pass  # not the indexes' owner: searches are slower until autovacuum merges the lists


def settle_bulk_writes(tables: list[type[models.Model]]) -> None:
    """After thousands of rows written at once: the trigram indexes' pending entries merged and
    the planner's statistics of these tables gathered again, as autovacuum would in a while."""
    merge_pending_index_entries(tables)
    if connection.vendor != "postgresql":
        return
    # Until then the planner takes the tables for as small as they were: just after 50,000
    # contacts were generated, a search joined every match to every contact (10 s for "smith").
    # ANALYZE samples a table (about 0.1 s for 50,000 contacts); in the writing transaction it
    # counts the rows just written, and its figures take effect with them at the commit. A role
    # that does not own a table is only warned and skipped.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table._meta.db_table)}")
