"""Tables named for the app that owns them: the machinery's and the letters' were named for the
sign-on app, which made them first. PostgreSQL and SQLite rename them in place; rows and indexes
stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_remove_emaildelivery_sign_on_id"),
    ]

    operations = [
        migrations.AlterModelTable(
            name="emaildelivery",
            table=None,
        ),
        migrations.AlterModelTable(
            name="workerheartbeat",
            table=None,
        ),
    ]
