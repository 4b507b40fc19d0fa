"""Files staff upload after publication (a recipient's answer, the scan of a delivery by hand):
bounded, and kept only as what their bytes show them to be — a PDF, a raster image (written
afresh, as logos are) or a Word .docx — under a media type of our choosing, never the browser's.
They are served as downloads (`Content-Disposition: attachment`, `nosniff`), never as a page."""

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image

from coalition.core.images import WRITTEN_AS, check_pixels, reencode
from letters.word import WordImportError, open_document

MAX_BYTES = 10 * 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,application/pdf,image/*," + DOCX


@dataclass(frozen=True)
class CheckedFile:
    content: ContentFile[bytes]
    name: str
    media_type: str
    size: int


def check_upload(upload: UploadedFile[bytes], *, label: str = "") -> CheckedFile:
    """The upload as we keep it, or a ValidationError; its message begins with `label`, the
    field's name, where one is given (a form prints the field's label before it itself)."""
    prefix = f"{label}: " if label else ""
    name = Path(upload.name or "file").name[:200]
    size = upload.size or 0
    if size > MAX_BYTES:
        raise ValidationError(
            f"{prefix}this file is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(MAX_BYTES)}.",
            code="file_too_large",
        )
    if size == 0:
        raise ValidationError(f"{prefix}this file is empty.", code="empty")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        data = upload.read()
        return CheckedFile(ContentFile(data), _named(name, ".pdf"), "application/pdf", len(data))
    if head.startswith(b"PK\x03\x04"):
        return _docx(upload, name=name, prefix=prefix)
    return _image(upload, name=name, prefix=prefix)


def _named(name: str, suffix: str) -> str:
    stem = Path(name).stem or "file"
    return f"{stem}{suffix}"


def _docx(upload: UploadedFile[bytes], *, name: str, prefix: str) -> CheckedFile:
    try:
        open_document(upload, name=_named(name, ".docx"))
    except WordImportError as error:
        raise ValidationError(f"{prefix}{error}", code="invalid_docx") from None
    upload.seek(0)
    data = upload.read()
    return CheckedFile(ContentFile(data), _named(name, ".docx"), DOCX, len(data))


def _image(upload: UploadedFile[bytes], *, name: str, prefix: str) -> CheckedFile:
    refused = ValidationError(
        f"{prefix}this file is not a PDF, an image or a Word .docx document. Upload the "
        "answer as a PDF, a PNG, JPEG, GIF or WebP image, or a .docx file.",
        code="invalid_file",
    )
    try:
        with Image.open(upload) as header:
            known = header.format in WRITTEN_AS
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        known = False
    finally:
        upload.seek(0)
    if not known:
        raise refused
    try:
        check_pixels(upload)
        fresh = reencode(upload)
    except ValidationError as error:
        raise ValidationError(f"{prefix}{error.messages[0]}", code=error.code) from error
    data = fresh.read()
    suffix = Path(fresh.name or "image.png").suffix
    media_type = fresh.content_type or "application/octet-stream"
    return CheckedFile(ContentFile(data), _named(name, suffix), media_type, len(data))
