"""Publishers (letters 0004) reach the sign-ons' trackers, where a sign-on's letter is published."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def let_publishers_see_sign_ons(apps, schema_editor):
    app_config = apps.get_app_config("signatories")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    publishers = Group.objects.filter(name="Publishers").first()
    if publishers is not None:
        publishers.permissions.add(
            Permission.objects.get(content_type__app_label="signatories", codename="view_signon")
        )


def forget(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    publishers = Group.objects.filter(name="Publishers").first()
    if publishers is not None:
        publishers.permissions.remove(
            *Permission.objects.filter(content_type__app_label="signatories", codename="view_signon")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0010_open_link_requests_apart"),
        ("letters", "0004_publish_permission_and_publishers"),
    ]

    operations = [migrations.RunPython(let_publishers_see_sign_ons, forget)]
