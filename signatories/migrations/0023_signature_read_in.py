from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0022_recipients"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="read_in",
            field=models.CharField(blank=True, max_length=12),
        ),
    ]
