"""Organizations' logos: uploaded by a member as a raster image, written afresh within the logo
limits (SVG and oversized files refused, the message naming the field), and printed, with the
organization's name as alternative text, on the letter's page and in its PDF when the letter
asks for logos."""

import io

import pytest
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from PIL import PngImagePlugin
from pypdf import PdfReader
from wagtail.images import get_image_model

from coalition.core.images import LOGO_MAX_SIDE, LOGO_MAX_UPLOAD_SIZE
from coalition.crm.models import ProfileProposal
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.support.pdf import body
from tests.support.portal import log_in, png
from tests.support.signing import make_members

pytestmark = pytest.mark.django_db

SECRET = "Jane Roe, 12 Hidden Lane"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


@pytest.fixture
def contact_client(client):
    contact = make_members(1).contacts[0]
    log_in(client, contact)
    client.organization = contact.organization
    return client


def upload(client, name: str, data: bytes, content_type: str = "image/png"):
    organization = client.organization
    return client.post(
        reverse("portal:profile", args=[organization.slug]),
        {
            "name": organization.name,
            "acronym": organization.acronym,
            "logo": SimpleUploadedFile(name, data, content_type=content_type),
        },
    )


# -- Uploads ------------------------------------------------------------------------------------


def test_a_raster_logo_is_written_afresh_without_its_metadata(contact_client):
    image = PILImage.new("RGB", (80, 40), "crimson")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)

    response = upload(contact_client, "logo.png", out.getvalue() + b"<html>trailing</html>")

    assert response.status_code == 302
    stored = ProfileProposal.objects.get().logo.read()
    assert SECRET.encode() not in stored and b"<html>" not in stored
    with PILImage.open(io.BytesIO(stored)) as fresh:
        assert (fresh.format, fresh.size) == ("PNG", (80, 40))


def test_a_large_logo_is_scaled_down_to_the_logo_size(contact_client):
    out = io.BytesIO()
    PILImage.new("RGB", (3000, 1000), "navy").save(out, "JPEG")

    assert upload(contact_client, "wide.jpg", out.getvalue(), "image/jpeg").status_code == 302

    with PILImage.open(ProfileProposal.objects.get().logo) as stored:
        assert (stored.format, stored.size) == ("JPEG", (LOGO_MAX_SIDE, LOGO_MAX_SIDE // 3))


@pytest.mark.parametrize("name", ["logo.svg", "logo.png", "logo.SVGZ"])
def test_svg_is_refused_under_any_name_with_a_message_naming_the_field(contact_client, name):
    response = upload(contact_client, name, SVG, "image/svg+xml")

    assert response.status_code == 400
    assert (
        "Logo: SVG files are not accepted, because an SVG can carry scripts. "
        "Upload a PNG, JPEG, GIF or WebP image."
    ) in response.content.decode()
    assert not ProfileProposal.objects.exists()


def test_a_file_over_the_logo_size_limit_is_refused(contact_client):
    data = png() + b"\0" * LOGO_MAX_UPLOAD_SIZE

    response = upload(contact_client, "huge.png", data)

    assert response.status_code == 400
    assert "Logo: this file is 2.0\xa0MB; a logo may be at most 2.0\xa0MB." in (
        response.content.decode()
    )
    assert not ProfileProposal.objects.exists()


def test_a_file_that_is_no_image_is_refused(contact_client):
    response = upload(contact_client, "logo.png", b"%PDF-1.7 not an image")

    assert response.status_code == 400
    assert "Logo: this file is not an image we can read." in response.content.decode()


def test_too_many_pixels_are_refused_naming_the_field(contact_client, settings):
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 100 * 100
    response = upload(contact_client, "big.png", png(size=(200, 200)))

    assert response.status_code == 400
    assert "Logo: This file has too many pixels (40000)." in response.content.decode()


# -- Printing -----------------------------------------------------------------------------------


def logo_image(colour: str = "navy"):
    return get_image_model().objects.create(
        title="Widget Makers logo", file=ImageFile(io.BytesIO(png(colour)), name="widgets.png")
    )


def published_letter(*, show_logos: bool, slug: str = "with-logos"):
    letter = make_letter(live=False, slug=slug, show_logos=show_logos)
    organization = OrganizationFactory(name="Widget Makers", acronym="WM", logo=logo_image())
    SignatureFactory(letter=letter, organization=organization, logo=organization.logo)
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="No Logo Guild"))
    return publish(letter), organization


def test_the_page_prints_logos_with_the_organizations_name_as_alternative_text(client):
    letter, organization = published_letter(show_logos=True)

    page = client.get(letter.url).content.decode()

    assert (
        f'<img class="sig-logo" src="{organization.logo.file.url}" alt="Widget Makers (WM)">'
        in page
    )
    assert page.count('class="sig-logo"') == 1  # none for the organization without a logo


def test_a_letter_that_asks_for_no_logos_prints_none(client):
    letter, _ = published_letter(show_logos=False)

    assert 'class="sig-logo"' not in client.get(letter.url).content.decode()


def figures(reader: PdfReader) -> list[str]:
    """The alternative text of every figure in the PDF's structure tree."""
    found: list[str] = []
    todo = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        element = todo.pop().get_object()
        if not hasattr(element, "get"):
            continue
        if element.get("/S") == "/Figure":
            found.append(str(element.get("/Alt", "")))
        kids = element.get("/K")
        if kids is not None:
            todo.extend(kids if isinstance(kids, list) else [kids])
    return found


@pytest.mark.parametrize("show_logos", [True, False])
def test_the_pdf_prints_the_logo_as_a_figure_named_after_the_organization(
    client, django_capture_on_commit_callbacks, show_logos
):
    with django_capture_on_commit_callbacks(execute=True):
        letter, _ = published_letter(show_logos=show_logos)

    publication = letter.publications.get()
    pdf = body(client.get(f"{letter.url}pdf/v1/"))
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    images = [image for page in reader.pages for image in page.images]
    assert publication.pdf_sha256
    # Every version prints a QR code of its verification page, drawn as vectors: no image.
    qr_code = "QR code of the address where this copy is verified"
    if show_logos:
        assert len(images) == 1
        assert sorted(figures(reader)) == [qr_code, "Widget Makers (WM)"]
    else:
        assert images == []
        assert figures(reader) == [qr_code]
