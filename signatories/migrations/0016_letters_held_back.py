"""Letters out for sign-on, and published letters, are held back from Wagtail's own doors by a
row of the letters app (letters 0008) rather than by a function this app registered there: each
such letter gets the hold that signatories.services.holds writes from now on."""

from django.db import migrations

PUBLISHED = (
    "“{title}” is published: a change to it (a typo, a late signature, a withdrawal) is "
    "published as a dated correction, beside the earlier versions."
)
OUT_FOR_SIGN_ON = (
    "“{title}” is out for sign-on ({status}): it is published from the sign-on's tracker once "
    "the sign-on has closed, with the signatories who agreed to the circulated text."
)


def hold_letters(apps, schema_editor):
    LetterPage = apps.get_model("letters", "LetterPage")
    PublicationHold = apps.get_model("letters", "PublicationHold")
    Publication = apps.get_model("letters", "Publication")
    SignOn = apps.get_model("signatories", "SignOn")
    published = set(Publication.objects.values_list("letter_id", flat=True))
    live = {
        sign_on.letter_id: sign_on
        for sign_on in SignOn.objects.exclude(status="cancelled").only("pk", "letter_id", "status")
    }
    titles = dict(
        LetterPage.objects.filter(pk__in=published | set(live)).values_list("pk", "title")
    )
    for letter_id, title in titles.items():
        if letter_id in published:
            hold = {
                "message": PUBLISHED.format(title=title),
                "url_name": "signatories_admin:corrections",
                "url_args": [letter_id],
                "label": "Publish a correction",
            }
        else:
            sign_on = live[letter_id]
            hold = {
                "message": OUT_FOR_SIGN_ON.format(
                    title=title, status=sign_on.get_status_display().lower()
                ),
                "url_name": "signatories_admin:tracker",
                "url_args": [sign_on.pk],
                "label": "Go to the sign-on's tracker",
            }
        PublicationHold.objects.update_or_create(letter_id=letter_id, defaults=hold)


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0015_publications_keep_their_dates"),
        ("letters", "0008_publication_hold"),
    ]

    operations = [migrations.RunPython(hold_letters, migrations.RunPython.noop)]
