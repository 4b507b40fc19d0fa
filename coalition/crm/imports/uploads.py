"""Members files kept between their dry run and their import, and the clean-up of abandoned ones."""

import datetime
import logging

from django.contrib.auth.models import AnonymousUser, User
from django.core.files.storage import default_storage
from django.utils import timezone

from coalition.crm.models import ImportUpload

# Where uploads waited before they moved to the database: in media, served to anyone with the
# name in development. Whatever is left there goes with the clean-up.
LEGACY_DIR = "coalition-imports"
KEEP_UPLOADS = datetime.timedelta(days=1)

logger = logging.getLogger(__name__)


def keep_upload(*, data: bytes, name: str, user: User | AnonymousUser) -> ImportUpload:
    """Keep a checked file until its uploader confirms the import (or a day passes)."""
    return ImportUpload.objects.create(
        name=name[:255], data=data, uploaded_by=user if isinstance(user, User) else None
    )


def take_upload(*, upload_id: str, user: User | AnonymousUser) -> ImportUpload | None:
    """The kept file, removed from keeping: an import reads it once, whatever comes of it."""
    upload = ImportUpload.objects.filter(pk=upload_id, uploaded_by_id=user.pk).first()
    if upload is not None:
        ImportUpload.objects.filter(pk=upload.pk).delete()
    return upload


def delete_stale_uploads(*, older_than: datetime.timedelta = KEEP_UPLOADS) -> int:
    """Delete the members files nobody imported within `older_than`; how many there were."""
    cutoff = timezone.now() - older_than
    deleted, _ = ImportUpload.objects.filter(created_at__lt=cutoff).delete()
    return deleted + _delete_legacy_files(cutoff)


def _delete_legacy_files(cutoff: datetime.datetime) -> int:
    try:
        _, names = default_storage.listdir(LEGACY_DIR)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{LEGACY_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
        except (FileNotFoundError, NotImplementedError):
            logger.warning("Could not delete the abandoned import upload %s", path)
    return deleted
