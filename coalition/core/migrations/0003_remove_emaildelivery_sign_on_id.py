"""The outbox names no app's rows: the column of the sign-on a delivery was for goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_deliveries_name_no_sign_on")]

    operations = [migrations.RemoveField(model_name="emaildelivery", name="sign_on_id")]
