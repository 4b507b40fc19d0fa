from dataclasses import dataclass
from typing import IO

from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.text import slugify
from wagtail.log_actions import log
from wagtail.models import (
    GroupApprovalTask,
    Page,
    Revision,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from .models import CirculationApproval, LetterIndexPage, LetterPage
from .word import read_word_letter

REVIEW_WORKFLOW_NAME = "Internal review"


class LetterError(Exception):
    """A change to a letter that cannot be made; the message says why."""


@transaction.atomic
def approve_for_circulation(*, revision: Revision, user: User | None) -> CirculationApproval:
    """Mark a letter revision as approved for circulation, without publishing anything."""
    letter = revision.content_object
    if isinstance(letter, Page) and not isinstance(letter, LetterPage):
        letter = letter.specific
    if not isinstance(letter, LetterPage):
        raise LetterError("Only letter revisions can be approved for circulation.")
    approval, created = CirculationApproval.objects.get_or_create(
        revision=revision, defaults={"letter": letter, "approved_by": user}
    )
    if created:
        log(
            instance=letter,
            action="letters.approve_for_circulation",
            user=user,
            revision=revision,
            data={"revision_id": revision.pk},
        )
    return approval


def review_workflow() -> Workflow:
    """The "Internal review" workflow (made by migration 0002; recreated here if staff deleted it)."""
    workflow = Workflow.objects.filter(name=REVIEW_WORKFLOW_NAME).first()
    if workflow is not None:
        return workflow
    task = GroupApprovalTask.objects.filter(name=REVIEW_WORKFLOW_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(
            name=REVIEW_WORKFLOW_NAME,
            content_type=ContentType.objects.get_for_model(GroupApprovalTask),
        )
        task.groups.set(Group.objects.filter(name="Moderators"))
    workflow = Workflow.objects.create(name=REVIEW_WORKFLOW_NAME, active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


@transaction.atomic
def assign_review_workflow(*, index: LetterIndexPage) -> Workflow:
    """Send every letter under this archive through internal review before circulation."""
    workflow = review_workflow()
    WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    return workflow


@transaction.atomic
def ensure_letter_archive() -> LetterIndexPage:
    """The letter archive, created under the default site's home page (with internal review)."""
    index = LetterIndexPage.objects.first()
    if index is not None:
        return index
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    parent = site.root_page if site else Page.get_first_root_node()
    index = parent.add_child(instance=LetterIndexPage(title="Letters", slug="letters"))
    index.save_revision().publish()
    assign_review_workflow(index=index)
    return index


@dataclass
class WordImport:
    letter: LetterPage
    notes: list[str]


def unique_slug(parent: Page, title: str) -> str:
    """A slug for a new child of `parent`, numbered when the plain one is taken."""
    base = slugify(title)[:70].strip("-") or "letter"
    taken = set(parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_letter_from_word(
    *, upload: IO[bytes], name: str, user: User | None, index: LetterIndexPage
) -> WordImport:
    """Start a draft letter under the archive from a Word (.docx) file; raises WordImportError."""
    parsed = read_word_letter(upload, name=name)
    letter = LetterPage(
        title=parsed.title,
        slug=unique_slug(index, parsed.title),
        letter_date=parsed.letter_date,
        dateline=parsed.dateline,
        recipients="\n".join(parsed.recipients),
        salutation=parsed.salutation[:255],
        body=parsed.body,
        closing=parsed.closing[:255],
        cc="\n".join(parsed.cc),
        owner=user,
        live=False,
    )
    index.add_child(instance=letter)
    letter.save_revision(user=user, log_action=True)
    return WordImport(letter=letter, notes=parsed.notes)
