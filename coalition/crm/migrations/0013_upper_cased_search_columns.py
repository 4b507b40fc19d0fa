"""Upper-cased copies of the searched columns, kept by PostgreSQL, for searches too short for the
trigram indexes.

A search is `UPPER(column) LIKE UPPER('%term%')` (migration 0006). A term of one or two letters
has no trigram, so PostgreSQL reads every row, and upper-casing every name, email and title of
50,000 contacts cost 35 ms of such a search; comparing a copy upper-cased when the row was written
costs less than half of that. The copies are generated columns (`UPPER(name)`, the same
function), so they hold exactly what the search compared before.

PostgreSQL only, and outside the models' state: SQLite searches without them, and Django neither
writes nor reads them (coalition.crm.selectors compares them by name). PostgreSQL refuses to
change the type of a column a generated one is made from: a later migration that changes one of
these columns (a longer max_length) drops its copy first and adds it again after.
"""

from django.db import migrations

COLUMNS = {
    "coalition_organization": ["name", "acronym"],
    "coalition_contact": ["name", "email", "title"],
}


def add_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in COLUMNS.items():
        added = ", ".join(
            f'ADD COLUMN "{column}_upper" text GENERATED ALWAYS AS (UPPER("{column}"::text)) STORED'
            for column in columns
        )
        schema_editor.execute(f'ALTER TABLE "{table}" {added}')


def drop_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in COLUMNS.items():
        dropped = ", ".join(f'DROP COLUMN "{column}_upper"' for column in columns)
        schema_editor.execute(f'ALTER TABLE "{table}" {dropped}')


class Migration(migrations.Migration):
    dependencies = [("coalition", "0012_bidi_controls_refused_in_names")]

    operations = [migrations.RunPython(add_columns, drop_columns, elidable=False)]
