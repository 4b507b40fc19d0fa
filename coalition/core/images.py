"""Images uploaded to the admin (logos, letterhead): kept only as a fresh file of our own making.

Wagtail's field refuses an extension not in WAGTAILIMAGES_EXTENSIONS (SVG is not), a format that
does not match its extension, more bytes than WAGTAILIMAGES_MAX_UPLOAD_SIZE and more pixels than
WAGTAILIMAGES_MAX_IMAGE_PIXELS (all frames counted). But it counts the pixels by decoding the
whole image first (Willow loads it), so a small file of a hundred million pixels costs hundreds
of megabytes before it is refused: the pixels are counted here from the header, before Wagtail
looks. And what Wagtail would store is the file as sent: its metadata (a photo's EXIF: who,
where, which camera) and whatever bytes ride along after the image. Here the image is decoded
and written afresh, so only its pixels are kept.
"""

import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db.models.signals import pre_save
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps
from wagtail.images import get_image_model
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm
from wagtail.models import UploadedFile as WagtailUploadedFile

# What each accepted format is written as: a GIF becomes a PNG (its first frame: logos and
# letterheads do not move), the others stay what they were.
WRITTEN_AS = {"PNG": "PNG", "GIF": "PNG", "JPEG": "JPEG", "WEBP": "WEBP"}
EXTENSION = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
OPTIONS: dict[str, dict[str, object]] = {
    "PNG": {},
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 90},
}


def check_pixels(upload: UploadedFile[bytes]) -> None:
    """Refuse an image with more pixels than the limit, reading only its header."""
    limit = settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # counted below
            with Image.open(upload) as header:
                pixels = header.width * header.height * getattr(header, "n_frames", 1)
    except Image.DecompressionBombError:
        pixels = limit + 1  # Pillow's own ceiling, far above ours
    except (OSError, SyntaxError, ValueError):
        return  # not an image Pillow knows: Wagtail's field says so
    finally:
        upload.seek(0)
    if pixels > limit:
        raise ValidationError(
            f"This file has too many pixels ({pixels}). Maximum pixels {limit}.",
            code="file_too_many_pixels",
        )


class UploadedImageField(WagtailImageField):
    def to_python(self, data: object) -> object:
        if isinstance(data, UploadedFile):
            check_pixels(data)
        try:
            return super().to_python(data)
        except OSError as error:  # Willow decoding a damaged file, past the header that opened
            raise damaged() from error


def damaged() -> ValidationError:
    # Only where Pillow refuses a cut image: importing WeasyPrint turns LOAD_TRUNCATED_IMAGES on
    # for the whole process, and then the missing part is filled in and the fresh file is whole.
    return ValidationError(
        "This image could not be read to the end (it may be damaged or cut short). "
        "Open it in an image editor, save it again and upload the new file.",
        code="invalid_image",
    )


def reencode(upload: UploadedFile[bytes]) -> SimpleUploadedFile:
    """The uploaded image's pixels in a new file, turned upright, with no metadata."""
    upload.seek(0)
    try:
        with Image.open(upload) as source:
            written_as = WRITTEN_AS.get(source.format or "")
            if written_as is None:
                raise ValidationError(
                    "Not a supported image format. Upload a PNG, JPEG, GIF or WebP image.",
                    code="invalid_image",
                )
            # Counted from the header before (check_pixels); again here, so that this never
            # decodes more than the limit, whoever calls it.
            limit = settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS
            if source.width * source.height > limit:
                raise ValidationError(
                    f"This file has too many pixels. Maximum pixels {limit}.",
                    code="file_too_many_pixels",
                )
            # The orientation is metadata too: applied to the pixels before it is dropped.
            image = ImageOps.exif_transpose(source)
    except (OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise damaged() from error
    # Only what the pixels need: the transparent colour of a palette image.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    if written_as == "JPEG" and image.mode not in {"L", "RGB", "CMYK"}:
        image = image.convert("RGB")
    out = BytesIO()
    image.save(out, written_as, **OPTIONS[written_as])
    name = f"{Path(upload.name or 'image').stem}.{EXTENSION[written_as]}"
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{written_as.lower()}")


# A logo prints about 16 points high beside a name: a larger file or image only costs bytes in
# every PDF. Wider than tall (a wordmark) is why the limit is on the longer side.
LOGO_MAX_UPLOAD_SIZE = 2 * 1024 * 1024
LOGO_MAX_SIDE = 1200
SVG_MARKERS = (b"<svg", b"<?xml", b"<!doctype svg")


def clean_logo(upload: UploadedFile[bytes], *, label: str = "Logo") -> SimpleUploadedFile:
    """An organization's logo as uploaded by a member: a raster image within the logo limits,
    written afresh and scaled down to LOGO_MAX_SIDE pixels; every refusal names the field."""
    name = (upload.name or "").lower()
    upload.seek(0)
    head = upload.read(1024).lstrip().lower()
    upload.seek(0)
    if name.endswith((".svg", ".svgz")) or head.startswith(SVG_MARKERS):
        raise ValidationError(
            f"{label}: SVG files are not accepted, because an SVG can carry scripts. "
            "Upload a PNG, JPEG, GIF or WebP image.",
            code="svg",
        )
    if upload.size is not None and upload.size > LOGO_MAX_UPLOAD_SIZE:
        raise ValidationError(
            f"{label}: this file is {filesizeformat(upload.size)}; a logo may be at most "
            f"{filesizeformat(LOGO_MAX_UPLOAD_SIZE)}. Save it smaller and upload it again.",
            code="file_too_large",
        )
    try:
        with Image.open(upload) as header:
            known = header.format in WRITTEN_AS
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        known = False
    finally:
        upload.seek(0)
    if not known:
        raise ValidationError(
            f"{label}: this file is not an image we can read. Upload a PNG, JPEG, GIF or WebP image.",
            code="invalid_image",
        )
    try:
        check_pixels(upload)
        fresh = reencode(upload)
    except ValidationError as error:
        raise ValidationError(f"{label}: {error.messages[0]}", code=error.code) from error
    return _within(fresh, LOGO_MAX_SIDE)


def _within(upload: SimpleUploadedFile, side: int) -> SimpleUploadedFile:
    """The image scaled down so that neither side exceeds `side` pixels; unchanged if it fits."""
    with Image.open(upload) as image:
        if max(image.size) <= side:
            upload.seek(0)
            return upload
        written_as = image.format or "PNG"
        image.load()
        smaller = image.copy()
    smaller.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = BytesIO()
    smaller.save(out, written_as, **OPTIONS.get(written_as, {}))
    return SimpleUploadedFile(
        upload.name or "image",
        out.getvalue(),
        content_type=upload.content_type or f"image/{written_as.lower()}",
    )


class ImageForm(BaseImageForm):
    """Wagtail's image form, whichever admin view uses it (add, multiple upload, chooser, edit).

    Named by WAGTAILIMAGES_IMAGE_FORM_BASE.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wagtails = self.fields.get("file")
        if wagtails is not None:  # the multiple uploader's second form has none
            self.fields["file"] = UploadedImageField(
                label=wagtails.label,
                required=wagtails.required,
                widget=wagtails.widget,
            )

    def clean_file(self) -> object:
        file = self.cleaned_data.get("file")
        if isinstance(file, UploadedFile):  # a new upload, not the file already stored
            return reencode(file)
        return file


def reencode_set_aside_upload(
    sender: type, instance: Any, raw: bool = False, **kwargs: Any
) -> None:
    """An upload the multiple uploader sets aside, to become an image once its form is complete.

    It does so when a field other than the file fails (a title over 255 characters, a collection
    the editor may not add to): the file passed every check, but Wagtail keeps the bytes as sent
    and later makes the image from them, past this module's form. Written afresh here instead.
    """
    if raw or instance.pk is not None or not instance.file or instance.file._committed:
        return
    if instance.for_content_type != ContentType.objects.get_for_model(get_image_model()):
        return
    instance.file = reencode(instance.file.file)


def connect() -> None:
    pre_save.connect(
        reencode_set_aside_upload, sender=WagtailUploadedFile, dispatch_uid="coalition-images"
    )
