"""The preview panel: the letter as a web page and as the PDF, from the content being edited."""

from django.urls import reverse

from letters.models import LetterPage
from tests.support.letters import edit_form_data
from tests.support.pdf import pdftotext, read_pdf


def preview(client, letter: LetterPage, data: dict, mode: str):
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk])
    posted = client.post(url, data)
    assert posted.status_code == 200
    assert posted.json()["is_valid"] is True, posted.json()
    return client.get(url, {"mode": mode})


def test_it_offers_the_web_page_and_the_pdf() -> None:
    assert LetterPage.preview_modes == [("", "Web page"), ("pdf", "PDF")]
    assert LetterPage().default_preview_mode == ""


def test_it_previews_the_unsaved_edit_as_a_web_page_with_placeholder_signatories(
    staff_client, letter
) -> None:
    data = edit_form_data(letter, salutation="Dear Secretary Roe:")
    response = preview(staff_client, letter, data, "")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dear Secretary Roe:" in html
    assert "Dear Secretary Doe:" not in html
    assert "Placeholder signatories" in html
    assert "Association of Example Manufacturers (AEM)" in html
    assert "Download the PDF" not in html


def test_it_previews_the_unsaved_edit_as_the_pdf(staff_client, letter, tmp_path) -> None:
    data = edit_form_data(letter, salutation="Dear Secretary Roe:", signatory_style="signers")
    response = preview(staff_client, letter, data, "pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdftotext(response.content, tmp_path)
    assert "Dear Secretary Roe:" in text
    assert "➤ Our asks" in text
    assert "Association of Example Manufacturers (AEM)" in text
    assert "Jane Placeholder, President and CEO" in text
    assert read_pdf(response.content).metadata["/Title"] == letter.title


def test_it_previews_real_signatories_once_there_are_some(staff_client) -> None:
    from tests.factories import SignatureFactory, make_letter

    letter = make_letter(live=False, slug="draft-with-signatories")
    SignatureFactory(letter=letter, display_name="Real Signers Association")
    response = preview(staff_client, letter, edit_form_data(letter), "")
    html = response.content.decode()
    assert "Real Signers Association" in html
    assert "Placeholder signatories" not in html


def test_it_previews_a_new_letter_before_its_first_save(staff_client, letter) -> None:
    index = letter.get_parent()
    url = reverse("wagtailadmin_pages:preview_on_add", args=["letters", "letterpage", index.pk])
    data = edit_form_data(letter, title="A brand new letter", slug="brand-new")
    assert staff_client.post(url, data).json()["is_valid"] is True
    response = staff_client.get(url, {"mode": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    assert read_pdf(response.content).metadata["/Title"] == "A brand new letter"


def test_the_public_never_sees_a_preview(client, letter) -> None:
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk])
    response = client.get(url, {"mode": "pdf"})
    assert response.status_code == 302
    assert "/login" in response["Location"]
