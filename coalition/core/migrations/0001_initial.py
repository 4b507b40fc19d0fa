"""The outbox's deliveries and the workers' heartbeats, taken over from the sign-on app.

Their tables were made by signatories 0009 and keep their names: this migration only records
them as this app's (signatories 0012, which runs before it, lets them go).
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
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
                        ("worker_id", models.CharField(max_length=64, unique=True)),
                        ("hostname", models.CharField(blank=True, max_length=255)),
                        ("pid", models.PositiveIntegerField(default=0)),
                        ("queues", models.CharField(blank=True, max_length=255)),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField()),
                        ("stopped_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "signatories_workerheartbeat",
                        "ordering": ["-seen_at"],
                    },
                ),
                migrations.CreateModel(
                    name="EmailDelivery",
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
                        (
                            "key",
                            models.CharField(
                                help_text="SHA-256 of what makes it one.",
                                max_length=64,
                                unique=True,
                            ),
                        ),
                        (
                            "job",
                            models.CharField(
                                help_text="The job and kind, e.g. invitation:reminder.",
                                max_length=100,
                            ),
                        ),
                        (
                            "regarding",
                            models.CharField(
                                help_text="The row it is about: invitation 12.", max_length=100
                            ),
                        ),
                        (
                            "occasion",
                            models.CharField(
                                blank=True, help_text="The event it follows.", max_length=100
                            ),
                        ),
                        ("recipient", models.EmailField(max_length=254)),
                        ("subject", models.CharField(blank=True, max_length=500)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("sending", "being sent"),
                                    ("retrying", "waiting to retry"),
                                    ("sent", "sent"),
                                    ("failed", "failed, not sent"),
                                    ("uncertain", "uncertain: the sender died while sending"),
                                ],
                                default="sending",
                                max_length=20,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        (
                            "error",
                            models.TextField(blank=True, help_text="The last attempt's error."),
                        ),
                        ("worker_id", models.CharField(blank=True, max_length=64)),
                        ("job_id", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("attempted_at", models.DateTimeField(blank=True, null=True)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        # The sign-on it was sent for, as the sign-on app recorded it: no longer read,
                        # and dropped by 0002 (the machinery names no app's table).
                        ("sign_on_id", models.BigIntegerField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "signatories_emaildelivery",
                        "verbose_name_plural": "email deliveries",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["status", "attempted_at"], name="email_delivery_status_idx"
                            ),
                            models.Index(fields=["created_at"], name="email_delivery_created_idx"),
                        ],
                    },
                ),
            ],
        ),
    ]
