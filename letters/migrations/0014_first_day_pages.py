"""The first day of a new installation: the coalition's home and its letter archive.

Wagtail's own first migration leaves a page titled "Welcome to your new Wagtail site!" as the
site's root, and nothing at /letters/. As Wagtail's project template does in its
`home/migrations/0002_create_homepage.py`, this data migration makes the site the project's on a
database that has nothing else: the welcome page takes the site's name, and the letter archive
(live, with the "Internal review" workflow, as letters.services.ensure_letter_archive makes it)
is created under it at /letters/.

It changes nothing where anyone has built pages: only a tree that is exactly the root and the one
page Wagtail made, with no letter archive anywhere, is touched. A migration runs once per
database, in order, before anything serves; a post_migrate handler would run after every
`migrate` and every test flush, and would recreate an archive that staff had deleted.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

WELCOME_TITLE = "Welcome to your new Wagtail site!"
WORKFLOW = "Internal review"


def first_day_pages(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    LetterIndexPage = apps.get_model("letters.LetterIndexPage")

    if LetterIndexPage.objects.exists() or Page.objects.filter(depth__gt=2).exists():
        return
    homes = list(Page.objects.filter(depth=2)[:2])
    if len(homes) != 1 or Page.objects.filter(depth=1).count() != 1:
        return
    home = homes[0]
    plain_page = ContentType.objects.filter(app_label="wagtailcore", model="page").first()
    if plain_page is None or home.content_type_id != plain_page.pk:
        return  # a page of a model of someone's: theirs
    site = Site.objects.filter(is_default_site=True).first()
    if site is None or site.root_page_id != home.pk:
        return

    if home.title == WELCOME_TITLE:
        home.title = home.draft_title = settings.WAGTAIL_SITE_NAME
        home.save(update_fields=["title", "draft_title"])

    content_type, _ = ContentType.objects.get_or_create(
        app_label="letters", model="letterindexpage"
    )
    now = timezone.now()
    index = LetterIndexPage.objects.create(
        title="Letters",
        draft_title="Letters",
        slug="letters",
        content_type=content_type,
        live=True,
        has_unpublished_changes=False,
        first_published_at=now,
        last_published_at=now,
        locale_id=home.locale_id,
        path=f"{home.path}0001",
        depth=home.depth + 1,
        numchild=0,
        url_path=f"{home.url_path}letters/",
    )
    Page.objects.filter(pk=home.pk).update(numchild=1)
    workflow = Workflow.objects.filter(name=WORKFLOW).first()
    if workflow is not None:
        WorkflowPage.objects.update_or_create(page_id=index.pk, defaults={"workflow": workflow})


class Migration(migrations.Migration):

    dependencies = [
        ("letters", "0013_letter_translations"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Not undone: staff may have written letters under the archive by then (as Wagtail leaves
    # its own first pages in place when its migrations are reversed).
    operations = [migrations.RunPython(first_day_pages, migrations.RunPython.noop)]
