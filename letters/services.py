import datetime
import io
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone
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

from coalition.imports.uploads import KEEP_UPLOADS, delete_stale_uploads

from .models import CirculationApproval, LetterIndexPage, LetterPage, WordImportJob
from .word import Progress, WordImportError, WordLetter, read_word_letter

REVIEW_WORKFLOW_NAME = "Internal review"
# A job whose progress has not moved for this long lost its worker (reading stops at
# READ_SECONDS): another run takes it over.
STALE_AFTER = datetime.timedelta(minutes=5)


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


def create_letter_from_word(
    *,
    upload: IO[bytes],
    name: str,
    user: User | None,
    index: LetterIndexPage,
    progress: Progress | None = None,
) -> WordImport:
    """Start a draft letter under the archive from a Word (.docx) file; raises WordImportError.

    The file is read before the write transaction opens: on SQLite the transaction holds the
    one write lock, which logins and signatures wait for.
    """
    parsed = read_word_letter(upload, name=name, progress=progress)
    return create_draft_letter(parsed, user=user, index=index)


@transaction.atomic
def create_draft_letter(
    parsed: WordLetter, *, user: User | None, index: LetterIndexPage
) -> WordImport:
    """Save a letter read from Word as a draft under the archive."""
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


def start_word_import(
    *, upload: IO[bytes], name: str, user: User | None, index: LetterIndexPage, paragraphs: int
) -> WordImportJob:
    """Queue a long Word file for the background; its job row says how far it has come."""
    upload.seek(0)
    job = WordImportJob.objects.create(
        name=name[:255], document=upload.read(), index=index, created_by=user, total=paragraphs
    )
    transaction.on_commit(partial(import_word_letter.enqueue, str(job.pk)))
    return job


@task(backend="background")
def import_word_letter(job_id: str) -> str:
    """The background half of start_word_import."""
    return run_word_import(job_id=job_id)


def run_word_import(*, job_id: str) -> str:
    """Read the job's Word file and save its draft letter, noting progress on the job.

    Safe to run twice: a finished job is left alone, and one whose worker died (no progress
    for STALE_AFTER) is taken over. The letter and the job's "done" are saved together.
    """
    now = timezone.now()
    claimed = (
        WordImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=WordImportJob.Status.WAITING)
            | Q(
                status__in=[WordImportJob.Status.READING, WordImportJob.Status.WRITING],
                updated_at__lt=now - STALE_AFTER,
            )
        )
        .update(status=WordImportJob.Status.READING, done=0, updated_at=now)
    )
    job = WordImportJob.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        return job.status if job is not None else "gone"

    def progress(done: int, total: int) -> None:
        WordImportJob.objects.filter(pk=job_id).update(
            done=done, total=total, updated_at=timezone.now()
        )

    try:
        parsed = read_word_letter(io.BytesIO(job.document), name=job.name, progress=progress)
        WordImportJob.objects.filter(pk=job_id).update(
            status=WordImportJob.Status.WRITING, updated_at=timezone.now()
        )
        with transaction.atomic():
            index = job.index or ensure_letter_archive()
            result = create_draft_letter(parsed, user=job.created_by, index=index)
            _finish(job, WordImportJob.Status.DONE, letter=result.letter, notes=result.notes)
    except WordImportError as error:
        _finish(job, WordImportJob.Status.FAILED, message=str(error))
    except Exception:
        _finish(
            job,
            WordImportJob.Status.FAILED,
            message="The import failed unexpectedly; the error is in the task worker's log.",
        )
        raise
    return job.status


def _finish(job: WordImportJob, status: str, **changes: Any) -> None:
    job.status = status
    job.document = b""
    job.updated_at = timezone.now()
    for name, value in changes.items():
        setattr(job, name, value)
    job.save()


def delete_stale_imports(*, older_than: datetime.timedelta = KEEP_UPLOADS) -> int:
    """Delete the uploads of imports started more than a day ago: Word import jobs (with the
    file they hold) and members files checked but never imported. How many there were."""
    deleted, _ = WordImportJob.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted + delete_stale_uploads(older_than=older_than)
