"""The email outbox's deliveries and the workers' heartbeats belong to the shared machinery
(coalition.core) from now on: the tables stay, only their owner changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("signatories", "0011_publishers_see_sign_ons")]
    # The machinery takes them over once they are let go here.
    run_before = [("core", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="EmailDelivery"),
                migrations.DeleteModel(name="WorkerHeartbeat"),
            ],
        ),
    ]
