"""A permission of its own to publish letters and their corrections, and the "Publishers" group.

Reviewing signatures stays with the sign-on's own permission; publishing (a sign-on's letter, or a
dated correction of a published one) needs `letters.publish_letter`. Publishers also get the
Wagtail admin, and Wagtail's "publish" page permission from the root, which Wagtail checks for whoever a
revision goes live for (the publication service publishes as the acting user). Wagtail's own
doors still publish no letter the publication gate holds back. Superusers hold every permission
already. The sign-on app adds what reaches its trackers (signatories 0011).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Publishers"
PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("letters", "publish_letter"),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs them now.
    for label in ("wagtailcore", "letters"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    publishers, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        publishers.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    publish_page = Permission.objects.get(
        content_type__app_label="wagtailcore", codename="publish_page"
    )
    for root in Page.objects.filter(depth=1):
        GroupPagePermission.objects.get_or_create(
            group=publishers, page=root, permission=publish_page
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0003_word_import_job"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0098_apitoken"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="letterpage",
            options={
                "permissions": [("publish_letter", "Can publish letters and their corrections")],
                "verbose_name": "letter",
            },
        ),
        migrations.RunPython(create_group, remove_group),
    ]
