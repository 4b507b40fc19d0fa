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

from .forms import WordImportForm
from .models import LetterIndexPage, LetterPage, WordImportJob
from .pdf import stored_letter_pdf
from .services import create_letter_from_word, start_word_import
from .word import WordImportError

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
        if form.paragraphs > SYNC_PARAGRAPHS:
            job = start_word_import(
                upload=upload,
                name=upload.name,
                user=user,
                index=index,
                paragraphs=form.paragraphs,
                finished=form.finished,
            )
            return redirect("letters_admin:word_import", job.pk)
        try:
            result = create_letter_from_word(
                upload=upload, name=upload.name, user=user, index=index, finished=form.finished
            )
        except WordImportError as error:
            form.add_error("document", str(error))
        else:
            what = "Letter with its signatories" if form.finished else "Draft letter"
            messages.success(request, f"{what} “{result.letter.title}” created from {upload.name}.")
            _tell(request, [*result.notes, {"invite_url": result.invite_url}])
            return redirect("wagtailadmin_pages:edit", result.letter.pk)
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


@require_http_methods(["GET"])
def word_import(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """How far a Word import running in the background has come; its letter once done."""
    job = get_object_or_404(WordImportJob, pk=job_id, created_by_id=request.user.pk)
    if job.status == WordImportJob.Status.DONE and job.letter_id is not None:
        messages.success(request, f"Letter created from {job.name}.")
        _tell(request, job.notes)
        return redirect("wagtailadmin_pages:edit", job.letter_id)
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
