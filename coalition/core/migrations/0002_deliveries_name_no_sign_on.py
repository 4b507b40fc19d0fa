"""A delivery says what it was sent for in words of its sender's (`topic`), filled for earlier
ones by signatories 0013; the column naming the sign-on app's row goes in 0003."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="emaildelivery",
            name="topic",
            field=models.CharField(
                blank=True,
                help_text="What it was sent for, in words: a letter's title.",
                max_length=300,
            ),
        ),
    ]
