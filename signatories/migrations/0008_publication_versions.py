"""Publications become versions: the first publication, then dated corrections beside it."""

import django.db.models.deletion
from django.db import migrations, models


def number_versions(apps, schema_editor):
    """Number each letter's publications in order, and note who each one printed."""
    Publication = apps.get_model("signatories", "Publication")
    Signature = apps.get_model("signatories", "Signature")
    counts = {}
    for publication in Publication.objects.order_by("letter_id", "published_at", "pk"):
        counts[publication.letter_id] = counts.get(publication.letter_id, 0) + 1
        size = 0
        if publication.pdf:
            try:
                size = publication.pdf.size
            except OSError:
                size = 0
        # Numbered oldest first, each one current until the next: the last one stays current.
        Publication.objects.filter(letter_id=publication.letter_id).exclude(
            pk=publication.pk
        ).update(is_current=False)
        Publication.objects.filter(pk=publication.pk).update(
            version=counts[publication.letter_id], pdf_size=size, is_current=True
        )
        printed = Signature.objects.filter(
            letter_id=publication.letter_id,
            status="approved",
            response="signed",
            organization__isnull=False,
        ).values_list("organization_id", flat=True)
        publication.organizations.set(printed)


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0005_organization_public_page"),
        ("signatories", "0007_per_person_links_and_keyed_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="publication",
            name="sign_on",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="publications",
                to="signatories.signon",
            ),
        ),
        migrations.AddField(
            model_name="publication",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="publication",
            name="is_current",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="publication",
            name="note",
            field=models.TextField(blank=True, help_text="What a correction corrects, as it prints."),
        ),
        migrations.AddField(
            model_name="publication",
            name="changes",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="publication",
            name="pdf_size",
            field=models.PositiveIntegerField(default=0, verbose_name="PDF size in bytes"),
        ),
        migrations.AddField(
            model_name="publication",
            name="organizations",
            field=models.ManyToManyField(
                blank=True, related_name="publications", to="coalition.organization"
            ),
        ),
        migrations.RunPython(number_versions, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="publication",
            options={"get_latest_by": "version", "ordering": ["-version"]},
        ),
        migrations.AddConstraint(
            model_name="publication",
            constraint=models.UniqueConstraint(
                fields=("letter", "version"), name="one_publication_per_version"
            ),
        ),
        migrations.AddConstraint(
            model_name="publication",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True)),
                fields=("letter",),
                name="one_current_publication_per_letter",
            ),
        ),
    ]
