"""A version says when its letter was circulated and its sign-on closed, as the page prints them;
until now the page read them from the sign-on."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("letters", "0005_publication")]

    operations = [
        migrations.AddField(
            model_name="publication",
            name="circulated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="publication",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
