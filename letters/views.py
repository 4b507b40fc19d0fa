"""Staff views in the Wagtail admin: starting a letter from Word, the archival PDF/A."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from . import translations
from .forms import WordBoundaryForm, WordImportForm
from .models import LetterIndexPage, LetterPage, WordImportJob
from .pdf import stored_letter_pdf
from .services import (
    WordImport,
    check_word_import,
    confirm_word_import,
    create_letter_from_word,
    held_word_import,
    start_word_import,
    word_import_ending,
)
from .word import WordImportError, allowed_boundaries

# Longer letters are read in the background, with a page that shows how far it has come; a
# letter of this many paragraphs reads in well under a second.
SYNC_PARAGRAPHS = 300
REFRESH_SECONDS = 2


@require_http_methods(["GET", "POST"])
def import_word(request: HttpRequest) -> HttpResponse:
    """Upload a .docx; a draft letter, or a finished one with its signatories, is made from it
    (in the background if long), then its editor opens."""
    index = LetterIndexPage.objects.first()
    if index is None:
        messages.error(request, "Create the letter archive page before importing letters.")
        return redirect("wagtailadmin_explore_root")
    if not index.permissions_for_user(request.user).can_add_subpage():
        raise PermissionDenied
    form = (
        WordImportForm(request.POST, request.FILES)
        if request.method == "POST"
        else WordImportForm()
    )
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["document"]
        user = request.user if isinstance(request.user, User) else None
        if form.cleaned_data.get("check_end"):
            try:
                job = check_word_import(
                    upload=upload,
                    name=upload.name,
                    user=user,
                    index=index,
                    paragraphs=form.paragraphs,
                    finished=form.finished,
                    background=form.paragraphs > SYNC_PARAGRAPHS,
                )
            except WordImportError as error:
                form.add_error("document", str(error))
            else:
                return redirect("letters_admin:word_import", job.pk)
        elif form.paragraphs > SYNC_PARAGRAPHS:
            job = start_word_import(
                upload=upload,
                name=upload.name,
                user=user,
                index=index,
                paragraphs=form.paragraphs,
                finished=form.finished,
            )
            return redirect("letters_admin:word_import", job.pk)
        else:
            try:
                result = create_letter_from_word(
                    upload=upload, name=upload.name, user=user, index=index, finished=form.finished
                )
            except WordImportError as error:
                form.add_error("document", str(error))
            else:
                return _created(request, result, name=upload.name, finished=form.finished)
    return TemplateResponse(
        request,
        "wagtailadmin/generic/form.html",
        {
            "form": form,
            "action_url": reverse("letters_admin:import_word"),
            "page_title": "Import a letter from Word",
            "header_title": "Import a letter from Word",
            "header_icon": "doc-full-inverse",
            "submit_button_label": "Import",
            "submit_button_active_label": "Importing…",
            "form_is_multipart": True,
        },
    )


def _created(
    request: HttpRequest, result: WordImport, *, name: str, finished: bool
) -> HttpResponse:
    what = "Letter with its signatories" if finished else "Draft letter"
    messages.success(request, f"{what} “{result.letter.title}” created from {name}.")
    _tell(request, [*result.notes, {"invite_url": result.invite_url}])
    return redirect("wagtailadmin_pages:edit", result.letter.pk)


@require_http_methods(["GET", "POST"])
def word_import(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """How far a Word import running in the background has come; where its signatory list
    begins, for staff to check; its letter once done."""
    job = get_object_or_404(WordImportJob, pk=job_id, created_by_id=request.user.pk)
    if job.status == WordImportJob.Status.DONE and job.letter_id is not None:
        messages.success(request, f"Letter created from {job.name}.")
        _tell(request, job.notes)
        return redirect("wagtailadmin_pages:edit", job.letter_id)
    if job.status == WordImportJob.Status.CHECKING or request.method == "POST":
        return _check_boundary(request, job)
    return TemplateResponse(
        request,
        "letters/admin/word_import.html",
        {
            "job": job,
            "done": f"{job.done:,}",
            "total": f"{job.total:,}",
            "statuses": WordImportJob.Status,
            "import_url": reverse("letters_admin:import_word"),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


MOVES = {"up": -1, "down": 1}


def _check_boundary(request: HttpRequest, job: WordImportJob) -> HttpResponse:
    """The end of a held letter with where its list begins; moved a line up or down, or chosen,
    on each post; imported with it once confirmed."""
    try:
        held_word_import(job)
    except WordImportError as error:
        messages.error(request, str(error))
        return redirect("letters_admin:import_word")
    first, last = allowed_boundaries(job.reading)
    form = WordBoundaryForm(request.POST or None, first=first + 1, no_list=last + 1)
    boundary = None
    if form.is_bound and form.is_valid():
        move = MOVES.get(request.POST.get("move", ""), 0)
        boundary = min(max(form.cleaned_data["line"] - 1 + move, first), last)
        if "confirm" in request.POST and not move:
            try:
                result = confirm_word_import(
                    job=job, boundary=boundary, background=job.total > SYNC_PARAGRAPHS
                )
            except WordImportError as error:
                form.add_error(None, str(error))
            else:
                if result is None:
                    return redirect("letters_admin:word_import", job.pk)
                return _created(request, result, name=job.name, finished=job.with_signatories)
    ending = word_import_ending(job, boundary)
    if not form.errors:
        form = WordBoundaryForm(
            initial={"line": ending.boundary + 1}, first=first + 1, no_list=last + 1
        )
    form.show(ending)
    return TemplateResponse(
        request,
        "letters/admin/word_boundary.html",
        {
            "job": job,
            "form": form,
            "ending": ending,
            "members": len(ending.members),
            "action_url": reverse("letters_admin:word_import", args=[job.pk]),
        },
        status=400 if form.errors else 200,
    )


def _tell(request: HttpRequest, notes: list[Any]) -> None:
    """An import's notes as messages; the link that invites the recognized members as a button."""
    for note in notes:
        if isinstance(note, dict):
            if note.get("invite_url"):
                messages.info(
                    request,
                    format_html(
                        '<a class="button button-small" href="{}">Invite the member '
                        "organizations among the signatories</a> once the letter is approved "
                        "for circulation.",
                        note["invite_url"],
                    ),
                )
        else:
            messages.warning(request, note)


@require_http_methods(["GET"])
def archive_pdf(request: HttpRequest, page_id: int) -> HttpResponse:
    """The letter as PDF/A-3b for archiving: the published text if live, else the latest draft."""
    page = get_object_or_404(LetterPage, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    letter = page if page.live else page.get_latest_revision_as_object()
    pdf = stored_letter_pdf(letter, letter.signatory_lines(), variant="pdf/a-3b")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{page.slug}-pdfa.pdf"'
    return response


@require_http_methods(["GET", "POST"])
def translation(request: HttpRequest, page_id: int) -> HttpResponse:
    """A translation against the letter it translates: what changed in the letter since, and,
    once the translator has carried it over, the confirmation that it now translates the
    letter's current text."""
    page = get_object_or_404(LetterPage, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    source = page.translation_source
    if source is None:
        messages.error(request, f"“{page.title}” is not a translation of another letter.")
        return redirect("wagtailadmin_pages:edit", page.pk)
    changes = translations.changes_since(page, source)
    current = translations.source_revision(source)
    if request.method == "POST":
        if current is not None and request.POST.get("revision") != str(current.pk):
            # The letter changed again while this page was open: show what changed now.
            messages.warning(request, "The letter changed again meanwhile: check these changes.")
            return redirect("letters_admin:translation", page.pk)
        translations.pin(page, source)
        messages.success(
            request, f"“{page.title}” now translates the current text of “{source.title}”."
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
    return TemplateResponse(
        request,
        "letters/admin/translation.html",
        {
            "page": page,
            "source": source,
            "pinned": page.translates_revision,
            "current": current,
            "changes": changes,
            "language": translations.language_name(page.language_code),
        },
    )
