"""The versions no longer point at the sign-on app's table: what they needed of it (the dates, the
chain's head) is theirs now (signatories 0015 copied the dates before this runs)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("letters", "0006_publication_dates")]

    operations = [migrations.RemoveField(model_name="publication", name="sign_on_id")]
