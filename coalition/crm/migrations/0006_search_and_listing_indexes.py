"""Indexes that keep the CRM's listings and searches fast at 10,000 organizations.

The admin's searches are "contains" lookups (`icontains`), which PostgreSQL runs as
`UPPER(column::text) LIKE UPPER('%…%')`: no B-tree can serve them, a trigram (pg_trgm) GIN index
on that same expression can. Those exist on PostgreSQL only: SQLite has neither pg_trgm nor GIN
(a GinIndex in a model's Meta would fail there), and its databases stay small enough to scan.

None of these indexes is part of the models' migration state, so that `makemigrations` does not
see them as missing from Meta and offer to drop them.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper


class DatabaseOnly(migrations.operations.base.Operation):
    """The database side of `operations`, on the given vendors only; the model state is untouched."""

    reversible = True

    def __init__(self, operations, vendors=("postgresql", "sqlite")):
        self.operations = operations
        self.vendors = vendors

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor in self.vendors:
            for operation in self.operations:
                operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor in self.vendors:
            for operation in reversed(self.operations):
                operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        done = "; ".join(operation.describe() for operation in self.operations)
        return f"{done} (database only: {', '.join(self.vendors)})"


def trigram(model_name, column, name):
    return migrations.AddIndex(
        model_name=model_name,
        index=GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=name),
    )


class Migration(migrations.Migration):
    dependencies = [("coalition", "0005_organization_public_page")]

    operations = [
        # The contacts listing is ordered by name (Contact.Meta.ordering).
        DatabaseOnly(
            [
                migrations.AddIndex(
                    model_name="contact", index=models.Index(fields=["name"], name="contact_name")
                )
            ]
        ),
        # A no-op elsewhere than on PostgreSQL.
        TrigramExtension(),
        DatabaseOnly(
            [
                trigram("organization", "name", "org_name_trgm"),
                trigram("organization", "acronym", "org_acronym_trgm"),
                trigram("contact", "name", "contact_name_trgm"),
                trigram("contact", "email", "contact_email_trgm"),
                trigram("contact", "title", "contact_title_trgm"),
            ],
            vendors=("postgresql",),
        ),
    ]
