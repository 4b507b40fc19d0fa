"""Earlier email deliveries say in words which sign-on they were sent for, before the outbox
(coalition.core) drops the column that pointed at it."""

from django.db import migrations


def describe(apps, schema_editor):
    EmailDelivery = apps.get_model("core", "EmailDelivery")
    SignOn = apps.get_model("signatories", "SignOn")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, sign_on_id FROM signatories_emaildelivery WHERE sign_on_id IS NOT NULL"
        )
        pairs = cursor.fetchall()
    titles = dict(
        SignOn.objects.filter(pk__in={sign_on for _, sign_on in pairs}).values_list(
            "pk", "letter__title"
        )
    )
    for delivery, sign_on in pairs:
        EmailDelivery.objects.filter(pk=delivery).update(
            topic=f"“{titles.get(sign_on, '')}” (sign-on {sign_on})"[:300]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0012_machinery_moves_to_core"),
        ("core", "0002_deliveries_name_no_sign_on"),
    ]
    run_before = [("core", "0003_remove_emaildelivery_sign_on_id")]

    operations = [migrations.RunPython(describe, migrations.RunPython.noop)]
