"""Each request through the open link keeps what it said of its organization on its own row, and
the database holds one *confirmed* answer per organization (and per person signing personally):
requests nobody confirmed may wait side by side, so that a stranger's cannot cancel the real one.
"""

from django.db import migrations, models

CONFIRMED_ACTIVE = models.Q(status__in=["pending_review", "approved"]) | (
    models.Q(status="needs_reconfirmation") & ~models.Q(status_before_reconfirmation="unconfirmed")
)


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0009_email_deliveries_and_worker_heartbeats"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="organization_name",
            field=models.CharField(
                blank=True, max_length=255, verbose_name="organization name as asked"
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="acronym",
            field=models.CharField(blank=True, max_length=50, verbose_name="acronym as asked"),
        ),
        migrations.RemoveConstraint(
            model_name="signature", name="one_active_signature_per_organization"
        ),
        migrations.RemoveConstraint(
            model_name="signature", name="one_active_signature_per_individual_mailbox"
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                condition=models.Q(organization__isnull=False) & CONFIRMED_ACTIVE,
                fields=("letter", "organization"),
                name="one_confirmed_signature_per_organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                "letter",
                "signer_email_key",
                condition=models.Q(organization__isnull=True)
                & CONFIRMED_ACTIVE
                & ~models.Q(signer_email_key=""),
                name="one_confirmed_signature_per_individual_mailbox",
            ),
        ),
    ]
