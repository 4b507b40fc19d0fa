"""Import uploads are deleted after the import or within a day, and never served.

The probe found members files left in media after a dry run nobody confirmed, served in
development to anyone who had the name (coalition/project/urls.py serves MEDIA_ROOT under DEBUG).
"""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Contact, ImportUpload, Organization
from letters.models import WordImportJob
from tests.factories import ContactFactory, StaffFactory

URL = "coalition_import:index"
MEMBERS = (
    b"name,contact_name,contact_email\r\n"
    b"Widget Makers,Ann Lee,ann@widgets.example\r\n"
    b"Gadget Makers,Bob Roe,bob@gadgets.example\r\n"
)


@pytest.fixture(autouse=True)
def _no_legacy_files():
    yield
    for name in ("old.upload", "new.upload"):
        if default_storage.exists(f"coalition-imports/{name}"):
            default_storage.delete(f"coalition-imports/{name}")


def media_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def check(client, data: bytes = MEMBERS) -> str:
    response = client.post(reverse(URL), {"file": SimpleUploadedFile("members.csv", data)})
    assert response.status_code == 200
    return response.context["token"]


def test_a_checked_file_waits_in_the_database_never_in_media(staff_client) -> None:
    before = media_files()
    assert check(staff_client)
    # Before: coalition-imports/<random>.upload under MEDIA_ROOT, served by /media/ in DEBUG.
    assert media_files() == before
    [upload] = ImportUpload.objects.all()
    assert bytes(upload.data) == MEMBERS
    assert upload.name == "members.csv"


def test_the_import_deletes_its_upload(staff_client) -> None:
    token = check(staff_client)
    response = staff_client.post(reverse(URL), {"token": token})
    assert response.status_code == 200
    assert Organization.objects.filter(name__in=["Widget Makers", "Gadget Makers"]).count() == 2
    assert not ImportUpload.objects.exists()
    again = staff_client.post(reverse(URL), {"token": token}, follow=True)
    assert "already been imported or has expired" in again.text


def test_an_import_refused_on_confirmation_deletes_its_upload_and_says_why(staff_client) -> None:
    token = check(staff_client)
    # Meanwhile someone else added Ann at another organization.
    ContactFactory(email="ann@widgets.example")
    response = staff_client.post(reverse(URL), {"token": token})
    assert response.status_code == 200
    assert "ann@widgets.example belongs to" in response.text
    assert not ImportUpload.objects.exists()
    assert not Contact.objects.filter(email="bob@gadgets.example").exists()


def test_nobody_imports_someone_elses_upload(staff_client, client) -> None:
    token = check(staff_client)
    client.force_login(StaffFactory(username="other", email="other@example.org"))
    response = client.post(reverse(URL), {"token": token}, follow=True)
    assert "already been imported or has expired" in response.text
    assert not Organization.objects.filter(name="Widget Makers").exists()
    assert ImportUpload.objects.count() == 1


def test_uploads_nobody_imported_are_deleted_after_a_day(staff) -> None:
    a_day_ago = timezone.now() - datetime.timedelta(days=1, minutes=1)
    ImportUpload.objects.create(name="old.csv", data=b"name", created_at=a_day_ago)
    fresh = ImportUpload.objects.create(name="new.csv", data=b"name")
    WordImportJob.objects.create(name="old.docx", document=b"PK", created_at=a_day_ago)
    fresh_job = WordImportJob.objects.create(name="new.docx", document=b"PK")
    # What the old code left in media.
    old_file = default_storage.save("coalition-imports/old.upload", ContentFile(b"name"))
    new_file = default_storage.save("coalition-imports/new.upload", ContentFile(b"name"))
    os.utime(default_storage.path(old_file), (a_day_ago.timestamp(), a_day_ago.timestamp()))

    out = io.StringIO()
    call_command("delete_stale_imports", stdout=out)

    assert out.getvalue() == "Deleted 3 abandoned import upload(s).\n"
    assert list(ImportUpload.objects.all()) == [fresh]
    assert list(WordImportJob.objects.all()) == [fresh_job]
    assert not default_storage.exists(old_file)
    assert default_storage.exists(new_file)


def test_the_worker_deletes_abandoned_uploads_on_its_rounds(db) -> None:
    from coalition.core import worker
    from coalition.core.management.commands.worker import chores

    a_day_ago = timezone.now() - datetime.timedelta(days=1, minutes=1)
    ImportUpload.objects.create(name="old.csv", data=b"name", created_at=a_day_ago)
    housekeeping = worker.Housekeeping(
        worker_id="w-uploads",
        queues="*",
        chores=chores(backend_name="background", recover_every=30, prune_every=24 * 3600),
    )
    housekeeping.tick(clock=1000.0)
    assert not ImportUpload.objects.exists()
