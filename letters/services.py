import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string
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

from coalition.crm.imports.uploads import KEEP_UPLOADS, delete_stale_uploads

from .models import (
    CirculationApproval,
    LetterIndexPage,
    LetterPage,
    RecognizedMembers,
    WordImportJob,
)
from .word import (
    Ending,
    Progress,
    WordImportError,
    WordLetter,
    ending,
    interchange_document,
    read_word_letter,
    reading_of,
    with_word_lines,
)

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
    # Where staff invite the member organizations among the recognized signatories, if any.
    invite_url: str = ""


# Importing a letter with its signatories --------------------------------------------------------
#
# A finished letter is created with its signatures, which live in the sign-on app; this app
# never imports that one. The project's LETTER_IMPORTER setting names the importer (the sign-on
# app's, which imports an interchange document and matches signatories to organizations), and the
# Word import calls it through here.


@dataclass
class ImportedLetter:
    letter: LetterPage
    organizations_created: int
    signatures_created: int


@dataclass
class SignatoryMatch:
    """An organization of the members list that a recognized signatory line names."""

    organization_id: int
    name: str
    invitable: bool


class LetterDocumentRefused(WordImportError):
    """An interchange document the importer refused; `problems` name JSON paths."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LetterImporter:
    # import_document(document, publish=...): all or nothing; raises LetterDocumentRefused.
    import_document: Callable[..., ImportedLetter]
    match_signatories: Callable[[list[dict[str, str]]], list[SignatoryMatch | None]]
    invite_url: Callable[[list[int]], str]


def letter_importer() -> LetterImporter:
    path = getattr(settings, "LETTER_IMPORTER", "")
    if not path:
        raise WordImportError(
            "Letters with their signatories cannot be imported: no importer is configured "
            "(the LETTER_IMPORTER setting)."
        )
    importer: LetterImporter = import_string(path)
    return importer


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
    finished: bool = False,
) -> WordImport:
    """Start a draft letter under the archive from a Word (.docx) file, or import it finished
    with its signatories; raises WordImportError.

    The file is read before the write transaction opens: on SQLite the transaction holds the
    one write lock, which logins and signatures wait for.
    """
    parsed = read_word_letter(upload, name=name, progress=progress)
    if finished:
        return import_finished_letter(parsed, name=name, user=user)
    return start_draft_letter(parsed, user=user, index=index)


def start_draft_letter(
    parsed: WordLetter, *, user: User | None, index: LetterIndexPage
) -> WordImport:
    """A draft of the letter's text; its recognized signatories are listed in the notes."""
    notes = list(parsed.notes)
    invite_url = ""
    invitable: list[int] = []
    if parsed.signatories:
        importer = letter_importer()
        matches = importer.match_signatories(parsed.signatories)
        notes.insert(0, _recognized_note(parsed, matches))
        invitable = sorted({m.organization_id for m in matches if m is not None and m.invitable})
        if invitable:
            invite_url = importer.invite_url(invitable)
    result = create_draft_letter(parsed, user=user, index=index)
    if invitable:
        # Kept with the draft: whenever staff open its sign-on, these are ticked in advance.
        RecognizedMembers.objects.update_or_create(
            letter=result.letter, defaults={"organization_ids": invitable}
        )
    return WordImport(letter=result.letter, notes=notes, invite_url=invite_url)


def _recognized_note(parsed: WordLetter, matches: list[SignatoryMatch | None]) -> str:
    where = "after the closing" if parsed.closing else "at the end of the letter"
    members = [m.name for m in matches if m is not None and m.invitable]
    individuals = [
        line
        for line, item in zip(parsed.signatory_lines, parsed.signatories, strict=True)
        if "person" in item
    ]
    others = [
        line
        for line, item, match in zip(
            parsed.signatory_lines, parsed.signatories, matches, strict=True
        )
        if "person" not in item and (match is None or not match.invitable)
    ]
    parts = [
        f"{len(members)} match member organizations ({_listed(members)})"
        if members
        else "none matches a member organization"
    ]
    if others:
        parts.append(f"{len(others)} are not members ({_listed(others)})")
    if individuals:
        parts.append(f"{len(individuals)} are individuals ({_listed(individuals)})")
    return (
        f"{len(parsed.signatories)} line(s) {where} were left out of the body as signatories: "
        + "; ".join(parts)
        + "."
    )


def _listed(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (", …" if len(names) > shown else "")


def import_finished_letter(parsed: WordLetter, *, name: str, user: User | None) -> WordImport:
    """The letter with its signatories, created as the JSON import creates them (all or
    nothing), ready to publish through the publication service."""
    if not parsed.signatories:
        raise WordImportError(
            f"No signatories were found at the end of “{name}”. Put a closing line such as "
            "“Sincerely,” or a heading such as “Signatories” before the list, or start a draft "
            "instead."
        )
    try:
        imported = letter_importer().import_document(
            interchange_document(parsed), publish=False, owner=user
        )
    except LetterDocumentRefused as refused:
        problems = with_word_lines(refused.problems, parsed)
        raise WordImportError(
            f"“{name}”: {len(problems):,} problem(s); nothing was imported: " + "; ".join(problems)
        ) from None
    notes = [
        f"{imported.signatures_created} signatories imported "
        f"({imported.organizations_created} new organizations): publish the letter to print "
        "them with its PDF.",
        *parsed.notes,
    ]
    return WordImport(letter=imported.letter, notes=notes)


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
        footnotes="\n".join(parsed.footnotes),
        owner=user,
        live=False,
    )
    index.add_child(instance=letter)
    letter.save_revision(user=user, log_action=True)
    return WordImport(letter=letter, notes=parsed.notes)


def start_word_import(
    *,
    upload: IO[bytes],
    name: str,
    user: User | None,
    index: LetterIndexPage,
    paragraphs: int,
    finished: bool = False,
) -> WordImportJob:
    """Queue a long Word file for the background; its job row says how far it has come."""
    upload.seek(0)
    job = WordImportJob.objects.create(
        name=name[:255],
        document=upload.read(),
        index=index,
        created_by=user,
        total=paragraphs,
        with_signatories=finished,
    )
    # Which way in travels with the task, so that a run taking over a stale job goes the same.
    task = import_finished_word_letter if finished else import_word_letter
    transaction.on_commit(partial(task.enqueue, str(job.pk)))
    return job


# Checking where the signatory list begins ------------------------------------------------------
#
# Staff who ask to see it first get the end of the letter with the boundary the reader proposes,
# move it, then confirm. The upload is held in its job row between the steps (deleted with it
# after a day), with what was read of it, so that moving the boundary reads the file no more.


def check_word_import(
    *,
    upload: IO[bytes],
    name: str,
    user: User | None,
    index: LetterIndexPage,
    paragraphs: int,
    finished: bool = False,
    background: bool = False,
) -> WordImportJob:
    """Hold a Word file while staff check where its signatory list begins: read now (raises
    WordImportError), or in the background if long."""
    upload.seek(0)
    document = upload.read()
    held = {
        "name": name[:255],
        "document": document,
        "index": index,
        "created_by": user,
        "total": paragraphs,
        "with_signatories": finished,
    }
    if background:
        job = WordImportJob.objects.create(**held)
        transaction.on_commit(partial(check_word_letter.enqueue, str(job.pk)))
        return job
    parsed = read_word_letter(io.BytesIO(document), name=name)
    return WordImportJob.objects.create(
        **held, status=WordImportJob.Status.CHECKING, done=paragraphs, reading=reading_of(parsed)
    )


def held_word_import(job: WordImportJob) -> WordImportJob:
    """The job, if its file is still held for staff to check; else WordImportError saying why."""
    if job.status != WordImportJob.Status.CHECKING or not job.reading:
        raise _no_longer_held(job)
    if job.created_at < timezone.now() - KEEP_UPLOADS:
        raise WordImportError(
            f"“{job.name}” was uploaded more than a day ago and is no longer kept: upload it again."
        )
    return job


def _no_longer_held(job: WordImportJob) -> WordImportError:
    status = WordImportJob.objects.filter(pk=job.pk).first() or job
    return WordImportError(
        f"The import of “{job.name}” is not waiting for you to check where its signatories "
        f"begin: {status.get_status_display().lower()}."
    )


def word_import_ending(job: WordImportJob, boundary: int | None = None) -> Ending:
    """The end of a held Word file with its list beginning at paragraph `boundary` (where the
    reader proposes if None), the signatories who are members marked; ValueError outside it."""
    plain = ending(job.reading, boundary)
    if not plain.block.signatories:
        return plain
    matches = letter_importer().match_signatories(plain.block.signatories)
    members = frozenset(n for n, m in enumerate(matches) if m is not None and m.invitable)
    return ending(job.reading, boundary, members=members) if members else plain


def confirm_word_import(
    *, job: WordImportJob, boundary: int, background: bool = False
) -> WordImport | None:
    """Import a held Word file with its signatory list beginning at paragraph `boundary`: now
    (all or nothing: refused, the file stays held to try another boundary), or in the background
    (None). Raises WordImportError."""
    held_word_import(job)
    held = WordImportJob.objects.filter(pk=job.pk, status=WordImportJob.Status.CHECKING)
    if background:
        if not held.update(
            status=WordImportJob.Status.WAITING,
            boundary=boundary,
            reading={},
            done=0,
            updated_at=timezone.now(),
        ):
            raise _no_longer_held(job)
        task = import_finished_word_letter if job.with_signatories else import_word_letter
        transaction.on_commit(partial(task.enqueue, str(job.pk)))
        return None
    parsed = read_word_letter(io.BytesIO(job.document), name=job.name, boundary=boundary)
    with transaction.atomic():
        # The claim takes the write lock first: a second confirmation finds the job taken.
        if not held.update(status=WordImportJob.Status.WRITING, updated_at=timezone.now()):
            raise _no_longer_held(job)
        result = _import_read_letter(parsed, job=job, finished=job.with_signatories)
        _finish(
            job,
            WordImportJob.Status.DONE,
            letter=result.letter,
            notes=_job_notes(result),
            boundary=boundary,
            reading={},
        )
    return result


@task(backend="background")
def check_word_letter(job_id: str) -> str:
    """The background half of check_word_import: the file read and held for staff to check."""
    job = _claim(job_id)
    if job is None:
        return _status(job_id)
    try:
        parsed = read_word_letter(
            io.BytesIO(job.document), name=job.name, progress=_progress(job_id)
        )
    except WordImportError as error:
        _finish(job, WordImportJob.Status.FAILED, message=str(error))
    except Exception:
        _finish(job, WordImportJob.Status.FAILED, message=UNEXPECTED)
        raise
    else:
        job.status = WordImportJob.Status.CHECKING
        job.reading = reading_of(parsed)
        job.done = job.total
        job.updated_at = timezone.now()
        job.save(update_fields=["status", "reading", "done", "updated_at"])
    return job.status


# In the background -------------------------------------------------------------------------------


@task(backend="background")
def import_word_letter(job_id: str) -> str:
    """The background half of start_word_import: a draft letter."""
    return run_word_import(job_id=job_id)


@task(backend="background")
def import_finished_word_letter(job_id: str) -> str:
    """The background half of start_word_import: a finished letter with its signatories."""
    return run_word_import(job_id=job_id, finished=True)


UNEXPECTED = "The import failed unexpectedly; the error is in the task worker's log."


def _claim(job_id: str) -> WordImportJob | None:
    """The job, claimed for this run: waiting, or stale (its worker died); None if not ours."""
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
    return WordImportJob.objects.filter(pk=job_id).first() if claimed else None


def _status(job_id: str) -> str:
    status = WordImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status or "gone"


def _progress(job_id: str) -> Progress:
    def progress(done: int, total: int) -> None:
        WordImportJob.objects.filter(pk=job_id).update(
            done=done, total=total, updated_at=timezone.now()
        )

    return progress


def run_word_import(*, job_id: str, finished: bool = False) -> str:
    """Read the job's Word file and save its letter, noting progress on the job.

    Safe to run twice: a finished job is left alone, and one whose worker died (no progress
    for STALE_AFTER) is taken over. The letter and the job's "done" are saved together.
    """
    job = _claim(job_id)
    if job is None:
        return _status(job_id)
    try:
        parsed = read_word_letter(
            io.BytesIO(job.document),
            name=job.name,
            progress=_progress(job_id),
            boundary=job.boundary,
        )
        WordImportJob.objects.filter(pk=job_id).update(
            status=WordImportJob.Status.WRITING, updated_at=timezone.now()
        )
        with transaction.atomic():
            result = _import_read_letter(parsed, job=job, finished=finished)
            _finish(job, WordImportJob.Status.DONE, letter=result.letter, notes=_job_notes(result))
    except WordImportError as error:
        _finish(job, WordImportJob.Status.FAILED, message=str(error))
    except Exception:
        _finish(job, WordImportJob.Status.FAILED, message=UNEXPECTED)
        raise
    return job.status


def _import_read_letter(parsed: WordLetter, *, job: WordImportJob, finished: bool) -> WordImport:
    if finished:
        return import_finished_letter(parsed, name=job.name, user=job.created_by)
    index = job.index or ensure_letter_archive()
    return start_draft_letter(parsed, user=job.created_by, index=index)


def _job_notes(result: WordImport) -> list[Any]:
    """An import's notes as the job keeps them, the link inviting the members among them."""
    notes: list[Any] = list(result.notes)
    if result.invite_url:
        notes.append({"invite_url": result.invite_url})
    return notes


def _finish(job: WordImportJob, status: str, **changes: Any) -> None:
    job.status = status
    job.document = b""
    job.reading = {}
    job.updated_at = timezone.now()
    for name, value in changes.items():
        setattr(job, name, value)
    job.save()


def delete_stale_imports(*, older_than: datetime.timedelta = KEEP_UPLOADS) -> int:
    """Delete the uploads of imports started more than a day ago: Word import jobs (with the
    file they hold) and members files checked but never imported. How many there were."""
    deleted, _ = WordImportJob.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted + delete_stale_uploads(older_than=older_than)
