"""Each published version keeps when its letter was circulated and its sign-on closed, copied from
the sign-on it came from, before the letters app lets go of that column (letters 0007)."""

from django.db import migrations


def copy_dates(apps, schema_editor):
    Publication = apps.get_model("letters", "Publication")
    SignOn = apps.get_model("signatories", "SignOn")
    dates = {
        row["pk"]: row
        for row in SignOn.objects.filter(
            pk__in=Publication.objects.exclude(sign_on_id=None).values("sign_on_id")
        ).values("pk", "opened_at", "closed_at")
    }
    for publication in Publication.objects.exclude(sign_on_id=None).only("pk", "sign_on_id"):
        sign_on = dates.get(publication.sign_on_id)
        if sign_on is not None:
            Publication.objects.filter(pk=publication.pk).update(
                circulated_at=sign_on["opened_at"], closed_at=sign_on["closed_at"]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0014_publication_moves_to_letters"),
        ("letters", "0006_publication_dates"),
    ]
    run_before = [("letters", "0007_publication_without_sign_on")]

    operations = [migrations.RunPython(copy_dates, migrations.RunPython.noop)]
