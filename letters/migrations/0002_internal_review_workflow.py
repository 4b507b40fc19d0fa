"""The "Internal review" workflow for letters, assigned to every letter archive that exists.

Its final approval marks the reviewed revision as approved for circulation and publishes
nothing (see letters.workflows.finish_workflow). Archives created later get the workflow from
letters.services.assign_review_workflow.
"""

from django.db import migrations

NAME = "Internal review"


def create_workflow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Group = apps.get_model("auth.Group")
    GroupApprovalTask = apps.get_model("wagtailcore.GroupApprovalTask")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    LetterIndexPage = apps.get_model("letters.LetterIndexPage")

    content_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
    task = GroupApprovalTask.objects.filter(name=NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=NAME, content_type=content_type, active=True)
        task.groups.set(Group.objects.filter(name="Moderators"))
    workflow, _ = Workflow.objects.get_or_create(name=NAME, defaults={"active": True})
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for index in LetterIndexPage.objects.all():
        WorkflowPage.objects.update_or_create(page_id=index.pk, defaults={"workflow": workflow})


def remove_workflow(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore.Workflow")
    Task = apps.get_model("wagtailcore.Task")
    Workflow.objects.filter(name=NAME).delete()
    Task.objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("letters", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_workflow, remove_workflow)]
