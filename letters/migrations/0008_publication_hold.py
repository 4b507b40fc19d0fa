"""A letter held back from Wagtail's own doors says why, and where it is published instead."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0007_publication_without_sign_on"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicationHold",
            fields=[
                (
                    "letter",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="publication_hold",
                        serialize=False,
                        to="letters.letterpage",
                    ),
                ),
                ("message", models.TextField()),
                ("url_name", models.CharField(blank=True, max_length=100)),
                ("url_args", models.JSONField(blank=True, default=list)),
                ("label", models.CharField(blank=True, max_length=100)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
