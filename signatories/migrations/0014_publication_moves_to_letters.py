"""A letter's published versions belong to the letters app from now on: the table stays
(`signatories_publication`, with its organizations), only its owner changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("signatories", "0013_deliveries_say_their_sign_on")]
    # The letters app takes the versions over once they are let go here.
    run_before = [("letters", "0005_publication")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Publication")],
        ),
    ]
