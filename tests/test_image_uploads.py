"""Issue 10: images uploaded to the admin (logos, letterhead) are decoded and written afresh, within
limits of size and pixels; SVG is refused, under any name."""

import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from PIL import ImageFile, PngImagePlugin
from wagtail.images import get_image_model
from wagtail.models import Collection, UploadedFile

pytestmark = pytest.mark.django_db

SECRET = "Jane Roe, 12 Hidden Lane"  # what a photo's metadata gives away
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>'
)


def png_with_metadata() -> bytes:
    image = PILImage.new("RGB", (40, 30), (200, 30, 30))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    info.add_itxt("Comment", SECRET)
    exif = PILImage.Exif()
    exif[0x013B] = SECRET  # Artist
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    # Bytes after the image's end: a polyglot that some browsers would read as a page.
    return out.getvalue() + b"<html><script>alert(1)</script></html>"


def jpeg_with_metadata() -> bytes:
    image = PILImage.new("RGB", (40, 30), (30, 30, 200))
    exif = PILImage.Exif()
    exif[0x013B] = SECRET  # Artist
    exif[0x0112] = 6  # Orientation: shown turned a quarter
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=SECRET.encode())
    return out.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: its size on disk is its size in pixels."""
    image = PILImage.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def pixel_bomb(side: int) -> bytes:
    """Tens of kilobytes on disk, hundreds of megabytes once decoded."""
    out = io.BytesIO()
    PILImage.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


def upload(client, name: str, content: bytes):
    """The admin's "Add an image" form, as an editor sends it."""
    return client.post(
        reverse("wagtailimages:add"),
        {
            "title": "Logo",
            "file": SimpleUploadedFile(name, content),
            "collection": Collection.get_first_root_node().pk,
        },
    )


def upload_many(client, name: str, content: bytes) -> dict:
    """The admin's drag-and-drop uploader (one file of several)."""
    return client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": SimpleUploadedFile(name, content)},
        headers={"x-requested-with": "XMLHttpRequest"},
    ).json()


def upload_in_chooser(client, name: str, content: bytes):
    """The image chooser's Upload tab, inside the page editor."""
    return client.post(
        reverse("wagtailimages_chooser:create"),
        {
            "image-chooser-upload-title": "Logo",
            "image-chooser-upload-file": SimpleUploadedFile(name, content),
            "image-chooser-upload-collection": Collection.get_first_root_node().pk,
        },
    )


def stored() -> tuple[bytes, PILImage.Image]:
    image = get_image_model().objects.get()
    with image.open_file() as f:
        data = f.read()
    return data, PILImage.open(io.BytesIO(data))


@pytest.mark.parametrize("door", [upload, upload_many, upload_in_chooser])
def test_it_writes_a_png_afresh_without_its_metadata(staff_client, door):
    response = door(staff_client, "logo.png", png_with_metadata())
    assert getattr(response, "status_code", 200) in {200, 302}

    data, image = stored()
    assert SECRET.encode() not in data
    assert b"<script>" not in data
    assert image.format == "PNG"
    assert image.size == (40, 30)
    assert image.getpixel((0, 0)) == (200, 30, 30)
    assert not image.info.get("Author") and "exif" not in image.info
    assert not image.getexif()


def test_it_writes_afresh_an_upload_the_multiple_uploader_sets_aside(staff_client):
    """A field other than the file fails (a title too long): the file waits, then becomes an
    image from the bytes that waited."""
    response = staff_client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": SimpleUploadedFile("logo.png", png_with_metadata()), "title": "x" * 300},
        headers={"x-requested-with": "XMLHttpRequest"},
    ).json()
    upload = UploadedFile.objects.get(pk=response["uploaded_file_id"])
    prefix = f"uploaded-image-{upload.pk}"
    staff_client.post(
        reverse("wagtailimages:create_multiple_from_uploaded_image", args=[upload.pk]),
        {f"{prefix}-title": "Logo", f"{prefix}-collection": Collection.get_first_root_node().pk},
        headers={"x-requested-with": "XMLHttpRequest"},
    )

    data, image = stored()
    assert SECRET.encode() not in data
    assert b"<script>" not in data
    assert image.size == (40, 30)


def test_it_writes_a_jpeg_afresh_upright_and_without_its_metadata(staff_client):
    assert upload(staff_client, "photo.jpg", jpeg_with_metadata()).status_code == 302

    data, image = stored()
    assert SECRET.encode() not in data
    assert image.format == "JPEG"
    assert not image.getexif()
    assert image.size == (30, 40)  # turned as the orientation said, before it was dropped
    record = get_image_model().objects.get()
    assert (record.width, record.height) == (30, 40)
    assert record.file_size == len(data)


def test_it_keeps_a_transparent_logo_transparent(staff_client):
    logo = PILImage.new("RGBA", (20, 20), (0, 0, 0, 0))
    logo.putpixel((5, 5), (10, 20, 30, 255))
    out = io.BytesIO()
    logo.save(out, "PNG")
    assert upload(staff_client, "logo.png", out.getvalue()).status_code == 302

    _, image = stored()
    assert image.convert("RGBA").getpixel((0, 0))[3] == 0
    assert image.convert("RGBA").getpixel((5, 5)) == (10, 20, 30, 255)


def test_it_refuses_a_file_over_the_size_limit(staff_client):
    limit = settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
    side = int((limit / 3) ** 0.5) + 20
    content = noise_png(side, side)
    assert limit < len(content) < 10 * 1024 * 1024  # under Wagtail's own default

    response = upload(staff_client, "huge.png", content)

    assert response.status_code == 200
    assert "This file is too big" in response.content.decode()
    assert not get_image_model().objects.exists()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 20_000])
def test_it_refuses_a_pixel_bomb_without_decoding_it(staff_client, monkeypatch, side):
    """10,000² is under Wagtail's default and Pillow's error; 20,000² is over both."""
    content = pixel_bomb(side)
    assert len(content) < 200_000
    decoded = []
    load = ImageFile.ImageFile.load

    def record(image):
        decoded.append(image.width * image.height)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", record)

    response = upload(staff_client, "bomb.png", content)

    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert not get_image_model().objects.exists()
    # Wagtail's own check decodes the image to count its pixels: a 100-megapixel one, here.
    assert not [n for n in decoded if n > settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_a_pixel_bomb_in_the_multiple_uploader(staff_client):
    result = upload_many(staff_client, "bomb.png", pixel_bomb(10_000))

    assert result["success"] is False
    assert "too many pixels" in result["error_message"]
    assert not get_image_model().objects.exists()


def test_it_refuses_an_image_cut_short(staff_client, monkeypatch):
    """Its header passes; its pixels end half-way: Wagtail answered with a 500."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)  # Pillow's default
    content = noise_png(200, 200)

    response = upload(staff_client, "cut.png", content[: len(content) // 2])

    assert response.status_code == 200
    assert "could not be read to the end" in response.content.decode()
    assert not get_image_model().objects.exists()


def test_where_weasyprint_lets_pillow_read_a_cut_image_a_complete_one_is_stored(
    staff_client, monkeypatch
):
    """Importing WeasyPrint turns on LOAD_TRUNCATED_IMAGES for the whole process."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    content = noise_png(200, 200)

    assert upload(staff_client, "cut.png", content[: len(content) // 2]).status_code == 302

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    _, image = stored()
    image.load()  # the stored file is whole: renditions can be made from it
    assert image.size == (200, 200)


@pytest.mark.parametrize("name", ["logo.svg", "logo.png", "logo.jpg"])
def test_it_refuses_svg_under_any_name(staff_client, name):
    response = upload(staff_client, name, SVG)

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Not a supported image format" in page
        or "Not a valid" in page
        or "Upload a valid image" in page
    )
    assert not get_image_model().objects.exists()


def test_it_says_what_it_accepts(staff_client):
    page = staff_client.get(reverse("wagtailimages:add")).content.decode()

    assert "Supported formats: GIF, JPG, JPEG, PNG, WEBP" in page
    assert "SVG" not in page.split("Supported formats")[1][:200]
