"""A letter's published versions, taken over from the sign-on app.

Their table (and their organizations') were made by signatories 0003 and 0008 and keep their names:
this migration only records them as this app's (signatories 0014, which runs before it, lets them
go). The sign-on each version came from stays as a plain column until signatories 0015 has copied
its dates into the version (0006 adds them); 0007 drops it.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0012_bidi_controls_refused_in_names"),
        ("letters", "0004_publish_permission_and_publishers"),
        ("wagtailcore", "0098_apitoken"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Publication",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("is_current", models.BooleanField(default=True)),
                        (
                            "note",
                            models.TextField(
                                blank=True, help_text="What a correction corrects, as it prints."
                            ),
                        ),
                        ("changes", models.JSONField(blank=True, default=dict)),
                        (
                            "signatories",
                            models.JSONField(
                                default=list,
                                help_text="The printed signatory lines, frozen at publication.",
                            ),
                        ),
                        ("pdf", models.FileField(blank=True, upload_to="letters/published/")),
                        (
                            "pdf_sha256",
                            models.CharField(blank=True, max_length=64, verbose_name="PDF SHA-256"),
                        ),
                        (
                            "pdf_size",
                            models.PositiveIntegerField(
                                default=0, verbose_name="PDF size in bytes"
                            ),
                        ),
                        ("chain_head", models.CharField(blank=True, max_length=64)),
                        ("chain_length", models.PositiveIntegerField(default=0)),
                        ("sign_on_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ("published_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "letter",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="publications",
                                to="letters.letterpage",
                            ),
                        ),
                        (
                            "organizations",
                            models.ManyToManyField(
                                blank=True,
                                db_table="signatories_publication_organizations",
                                related_name="publications",
                                to="coalition.organization",
                            ),
                        ),
                        (
                            "published_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "revision",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="wagtailcore.revision",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "signatories_publication",
                        "ordering": ["-version"],
                        "get_latest_by": "version",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("letter", "version"), name="one_publication_per_version"
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("is_current", True)),
                                fields=("letter",),
                                name="one_current_publication_per_letter",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
