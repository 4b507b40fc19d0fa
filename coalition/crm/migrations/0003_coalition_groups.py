from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["organization", "contact", "coalition", "membership", "interaction"]
MANAGER_EXTRA = ["import_organizations", "merge_organizations", "export_contacts"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("coalition")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    access_admin = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    coalition_perms = Permission.objects.filter(content_type__app_label="coalition")

    viewers, _ = Group.objects.get_or_create(name="Coalition viewers")
    viewers.permissions.add(
        access_admin, *coalition_perms.filter(codename__in=[f"view_{m}" for m in MODELS])
    )

    managers, _ = Group.objects.get_or_create(name="Coalition managers")
    wanted = [f"{action}_{m}" for m in MODELS for action in ("add", "change", "delete", "view")]
    managers.permissions.add(
        access_admin, *coalition_perms.filter(codename__in=wanted + MANAGER_EXTRA)
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Coalition viewers", "Coalition managers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0002_crm_admin"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
