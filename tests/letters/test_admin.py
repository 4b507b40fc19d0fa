"""Admin additions: the archival PDF/A download, menu and buttons, new archives under review."""

import io

from django.urls import reverse
from pypdf import PdfReader
from wagtail.models import Page, PageLogEntry, WorkflowPage
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from letters.models import LetterIndexPage
from letters.services import approve_for_circulation


def test_staff_download_the_letter_as_pdf_a(staff_client, letter) -> None:
    response = staff_client.get(reverse("letters_admin:archive_pdf", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="widgets-pdfa.pdf"'
    xmp = PdfReader(io.BytesIO(response.content)).trailer["/Root"]["/Metadata"].get_object()
    assert b'pdfaid:part="3"' in xmp.get_data()


def test_the_public_cannot_download_the_archive_pdf(client, letter) -> None:
    response = client.get(reverse("letters_admin:archive_pdf", args=[letter.pk]))
    assert response.status_code == 302


def test_the_editor_offers_the_archive_pdf_and_the_word_import(staff_client, letter) -> None:
    html = staff_client.get(reverse("wagtailadmin_pages:edit", args=[letter.pk])).content.decode()
    assert reverse("letters_admin:archive_pdf", args=[letter.pk]) in html
    assert reverse("letters_admin:import_word") in html


def test_an_archive_created_in_the_admin_goes_through_internal_review(staff_client, db) -> None:
    home = Page.objects.get(depth=2)
    # One archive per parent: the one a migrated database has makes room.
    LetterIndexPage.objects.all().delete()
    url = reverse("wagtailadmin_pages:add", args=["letters", "letterindexpage", home.pk])
    data = nested_form_data(
        {"title": "Letters", "slug": "letters-2", "intro": "", "comments": inline_formset([])}
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302
    index = LetterIndexPage.objects.get(slug="letters-2")
    assert WorkflowPage.objects.get(page=index).workflow.name == "Internal review"


def test_an_approval_shows_in_the_letter_history(staff, letter) -> None:
    approve_for_circulation(revision=letter.latest_revision, user=staff)
    entry = PageLogEntry.objects.get(action="letters.approve_for_circulation")
    assert entry.page_id == letter.pk
    assert entry.revision_id == letter.latest_revision_id
    assert entry.message == "Approved for circulation"
