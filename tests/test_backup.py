"""Backup and restore, rehearsed as the README's Deployment section tells it.

`pg_dump --format=custom` of a database with published letters and a copy of the media folder,
restored with `pg_restore` into a fresh database and folder; Django, pointed at the copies, finds
the same letters live, the same publications, and PDFs whose bytes still hash to what the pages
show.
"""

import json
import os
import shutil
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from letters.models import Publication
from signatories.interchange import import_letter
from signatories.services import Actor, add_signatory, publish_correction
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.production import ROOT, database_url
from tests.support.database import ensure_wagtail_site

# Run by Django pointed at the restored database and media folder.
INVENTORY = """
import hashlib, json
from django.core.files.storage import default_storage
from letters.models import LetterPage
found = {}
for letter in LetterPage.objects.live().order_by("slug"):
    versions = []
    for publication in letter.publications.order_by("version"):
        with default_storage.open(publication.pdf.name, "rb") as pdf:
            read = hashlib.sha256(pdf.read()).hexdigest()
        versions.append([publication.version, publication.pdf.name, publication.pdf_sha256, read,
                         len(publication.signatories)])
    found[letter.slug] = {"title": letter.title, "versions": versions}
print(json.dumps(found))
"""


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture
def restored_database(transactional_db):
    """A fresh, empty database beside the test database; dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run the suite with DATABASE_URL=postgres://…")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("needs pg_dump and pg_restore: apt-get install postgresql-client")
    name = f"{connection.settings_dict['NAME']}_restored"
    server = psycopg.connect(database_url().rsplit("/", 1)[0] + "/postgres", autocommit=True)
    server.execute(f'DROP DATABASE IF EXISTS "{name}"')
    server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


def test_a_dump_and_the_media_folder_restore_the_published_letters(
    seed_document, tmp_path, restored_database
):
    ensure_wagtail_site()
    seed = import_letter(document=seed_document, publish=True).letter
    corrected = make_letter(live=False, slug="corrected", title="A corrected letter")
    SignatureFactory(letter=corrected, organization=OrganizationFactory(name="Early Signers"))
    publish(corrected)
    staff = Actor.system("staff@example.org")
    add_signatory(letter=corrected, display_name="Late Signers", reason="By email.", actor=staff)
    publish_correction(letter=corrected, note="Adds Late Signers.", actor=staff)
    assert Publication.objects.filter(pdf_sha256="").count() == 0  # rendered (jobs run inline)

    # The backup: the database in pg_dump's custom format, and the media folder as it is.
    backup = tmp_path / "backup"
    backup.mkdir()
    run("pg_dump", "--format=custom", f"--file={backup / 'coalition.dump'}", database_url())
    shutil.copytree(settings.MEDIA_ROOT, backup / "media")

    # The restore: into an empty database and a new media folder.
    run(
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        f"--dbname={restored_database}",
        str(backup / "coalition.dump"),
    )
    media = tmp_path / "restored-media"
    shutil.copytree(backup / "media", media)
    inventory = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", INVENTORY],
        cwd=ROOT,
        env={
            **_plain_env(),
            "DEBUG": "1",
            "DATABASE_URL": restored_database,
            "MEDIA_ROOT": str(media),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inventory.returncode == 0, inventory.stderr[-3000:]
    found = json.loads(inventory.stdout.strip().splitlines()[-1])

    expected = {
        letter.slug: {
            "title": letter.title,
            "versions": [
                [p.version, p.pdf.name, p.pdf_sha256, p.pdf_sha256, len(p.signatories)]
                for p in letter.publications.order_by("version")
            ],
        }
        for letter in (seed, corrected)
    }
    assert found == expected
    assert [v[0] for v in found["corrected"]["versions"]] == [1, 2]
    assert found[seed.slug]["versions"][0][4] == len(seed_document["signatories"])


def _plain_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_POOL", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
