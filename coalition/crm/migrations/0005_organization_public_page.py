"""Each organization gets a public page's address (a slug, in its own script) and a say in it."""

from django.db import migrations, models
from django.utils.text import slugify


def slugs(apps, schema_editor):
    Organization = apps.get_model("coalition", "Organization")
    used = set()
    for organization in Organization.objects.order_by("pk"):
        base = slugify(organization.acronym or organization.name, allow_unicode=True)[:240]
        base = base or "organization"
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        Organization.objects.filter(pk=organization.pk).update(slug=slug)


class Migration(migrations.Migration):
    dependencies = [("coalition", "0004_organization_pending_and_merged")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="public_page",
            field=models.BooleanField(
                default=True,
                help_text="Listed with a page of the letters it signed, linked from signatory lists.",
                verbose_name="public page",
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="slug",
            field=models.SlugField(
                allow_unicode=True, db_index=False, editable=False, max_length=255, null=True
            ),
        ),
        migrations.RunPython(slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="organization",
            name="slug",
            field=models.SlugField(
                allow_unicode=True,
                editable=False,
                help_text="Its public page's address, /organizations/<slug>/.",
                max_length=255,
                unique=True,
            ),
        ),
    ]
