"""/verify/: a copy of a letter's PDF, or its SHA-256, tells which letter and version it is and
whether a correction superseded it; bad input is refused by name and nothing of it is kept."""

import hashlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from letters.models import Publication
from signatories import verification
from signatories.services import Actor, publish_correction
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@pytest.fixture
def corrected(db):
    """A letter published, then corrected; each version with a PDF and its SHA-256."""
    letter = make_letter(live=False, slug="widgets", title="A joint letter on widgets")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Widget Guild"))
    publish(letter)
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Late Council"))
    publish_correction(letter=letter, note="Late Council joined.", actor=Actor.system("test"))
    pdfs = {}
    for version in Publication.objects.filter(letter=letter):
        pdf = f"%PDF-1.7 version {version.version}".encode()
        Publication.objects.filter(pk=version.pk).update(
            pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_size=len(pdf)
        )
        pdfs[version.version] = pdf
    return letter, pdfs


def upload(client, content: bytes, name: str = "letter.pdf"):
    return client.post("/verify/", {"pdf": SimpleUploadedFile(name, content)})


def test_a_dropped_pdf_of_a_superseded_version_says_which_correction_superseded_it(
    client, corrected
):
    letter, pdfs = corrected
    response = upload(client, pdfs[1])
    sha = hashlib.sha256(pdfs[1]).hexdigest()
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{sha}/"
    html = client.get(response["Location"]).content.decode()
    assert "A superseded version of “A joint letter on widgets”" in html
    assert "by version 2, a correction of" in html and "Late Council joined." in html
    assert f'href="{letter.url}pdf/v1/"' in html


def test_a_pasted_sha256_of_the_current_version_says_so(client, corrected):
    letter, pdfs = corrected
    sha = hashlib.sha256(pdfs[2]).hexdigest()
    # As readers paste it: in capitals, with spaces.
    response = client.post("/verify/", {"sha256": f" {sha[:32].upper()} {sha[32:]} "})
    assert response["Location"] == f"/verify/{sha}/"
    html = client.get(response["Location"]).content.decode()
    assert "The current version of “A joint letter on widgets”" in html
    assert "Superseded" not in html
    # The letter's page links each version's check.
    assert f'href="/verify/{sha}/"' in client.get(letter.url).content.decode()


def test_a_copy_changed_by_one_byte_is_not_recognised(client, corrected):
    _letter, pdfs = corrected
    response = client.get(upload(client, pdfs[2] + b" ")["Location"])
    assert response.status_code == 404
    assert "No letter published here has this PDF" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sha256": "abc"}, "SHA-256 of the PDF: A SHA-256 is 64 characters"),
        ({"sha256": "g" * 64}, "SHA-256 of the PDF: A SHA-256 is 64 characters"),
        ({}, "Choose a PDF, or paste its SHA-256."),
        (
            {"pdf": SimpleUploadedFile("letter.pdf", b"<html><script>alert(1)</script>")},
            "The file is not a PDF",
        ),
        ({"pdf": SimpleUploadedFile("empty.pdf", b"")}, "The file is not a PDF"),
    ],
)
def test_bad_input_is_refused_by_name(client, corrected, data, message):
    response = client.post("/verify/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_huge_file_is_refused_and_never_kept(client, corrected, monkeypatch, tmp_path):
    monkeypatch.setattr(verification, "MAX_PDF_BYTES", 1024 * 1024)
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        response = upload(client, b"%PDF-" + b"0" * (3 * 1024 * 1024))
    assert response.status_code == 400
    assert "The file is larger than 1 MB" in response.content.decode()
    assert list(tmp_path.iterdir()) == []  # hashed as it came: no temporary file


def test_checks_are_rate_limited(client, corrected, settings):
    settings.SIGN_ON_RATE_LIMITS = {"verify": "2/h/ip"}
    sha = "0" * 64
    assert client.post("/verify/", {"sha256": sha}).status_code == 302
    assert client.post("/verify/", {"sha256": sha}).status_code == 302
    refused = client.post("/verify/", {"sha256": sha})
    assert refused.status_code == 429
    assert refused["Retry-After"]


def test_an_impossible_address_answers_not_found(client, corrected):
    assert client.get("/verify/not-a-hash/").status_code == 404
