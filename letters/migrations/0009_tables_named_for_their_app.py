"""Tables named for the app that owns them: the machinery's and the letters' were named for the
sign-on app, which made them first. PostgreSQL and SQLite rename them in place; rows and indexes
stay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0012_bidi_controls_refused_in_names"),
        ("letters", "0008_publication_hold"),
    ]

    operations = [
        migrations.AlterField(
            model_name="publication",
            name="organizations",
            field=models.ManyToManyField(
                blank=True, related_name="publications", to="coalition.organization"
            ),
        ),
        migrations.AlterModelTable(
            name="publication",
            table=None,
        ),
    ]
