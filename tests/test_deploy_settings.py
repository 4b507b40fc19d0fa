"""Settings that switch by environment to grow past one machine, and the code that relies on them.

A shared cache is required in production; psycopg's pool on PostgreSQL; media and PDFs on
S3-compatible storage (rehearsed against moto's S3), where logos reach the PDF and PDFs stream
from the bucket through the page cache.
"""

import functools
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.images import ImageFile
from moto import mock_aws
from PIL import Image as PillowImage
from pypdf import PdfReader
from wagtail.images import get_image_model

from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.support.pdf import body

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "SECRET_KEY": "deploy-settings-test-secret-key-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "letters.example.org",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}
PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "database_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "storage": settings.STORAGES["default"],
    "img_src": [str(source) for source in settings.SECURE_CSP["img-src"]],
    "frontend_cache": settings.WAGTAILFRONTENDCACHE,
    "cache": settings.CACHES["default"]["BACKEND"],
}, default=str))
"""


def settings_under(**env: str) -> subprocess.CompletedProcess[str]:
    """What Django's settings make of an environment, read in a process of its own."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "CLOUDFLARE_", "CLOUDFRONT_", "FRONTEND_CACHE_"))
        and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "DATABASE_URL"}
        and k not in {"DATABASE_POOL", "CONN_MAX_AGE"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{PRINT_SETTINGS}"],
        cwd=ROOT,
        env={**kept, "DJANGO_SETTINGS_MODULE": "coalition.project.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def read(**env: str) -> dict:
    return json.loads(_read(tuple(sorted(env.items()))))


@functools.cache  # a Django start-up each: the same environment is read once
def _read(env: tuple[tuple[str, str], ...]) -> str:
    result = settings_under(**dict(env))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines()[-1]


def test_production_refuses_to_start_without_a_shared_cache():
    result = settings_under(**{**PRODUCTION, "CACHE_URL": ""})

    assert result.returncode != 0
    assert "ImproperlyConfigured: CACHE_URL must be set when DEBUG is off" in result.stderr


def test_the_shared_cache_must_be_redis():
    result = settings_under(**{**PRODUCTION, "CACHE_URL": "memcached://127.0.0.1:11211"})

    assert "CACHE_URL must be a Redis URL" in result.stderr


def test_development_keeps_a_cache_in_memory():
    assert read(DEBUG="1")["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert read(**PRODUCTION)["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_the_pool_is_psycopgs_on_postgresql_and_replaces_persistent_connections():
    postgres = {**PRODUCTION, "DATABASE_URL": "postgres://app@db.internal:5432/coalition"}

    assert "pool" not in read(**postgres)["database_options"]
    pooled = read(**postgres, DATABASE_POOL="1", DATABASE_POOL_MAX_SIZE="8")
    assert pooled["database_options"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 10}
    assert pooled["conn_max_age"] == 0
    refused = settings_under(**postgres, DATABASE_POOL="1", CONN_MAX_AGE="60")
    assert "CONN_MAX_AGE must be 0 (or unset) when DATABASE_POOL is on" in refused.stderr


def test_a_bucket_moves_media_to_s3_and_lets_pages_show_its_images():
    assert read(**PRODUCTION)["storage"]["BACKEND"].endswith("FileSystemStorage")
    assert read(**PRODUCTION)["img_src"] == ["'self'", "data:"]

    on_s3 = read(
        **PRODUCTION,
        AWS_STORAGE_BUCKET_NAME="letters-media",
        AWS_S3_ENDPOINT_URL="https://minio.internal:9000",
    )

    assert on_s3["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert on_s3["storage"]["OPTIONS"]["bucket_name"] == "letters-media"
    assert on_s3["storage"]["OPTIONS"]["file_overwrite"] is False
    assert on_s3["img_src"] == ["'self'", "data:", "https://minio.internal:9000"]
    custom = read(
        **PRODUCTION, AWS_STORAGE_BUCKET_NAME="letters-media", AWS_S3_CUSTOM_DOMAIN="media.ex.org"
    )
    assert custom["img_src"][-1] == "https://media.ex.org"


def test_a_cdn_is_configured_from_the_environment():
    assert read(**PRODUCTION)["frontend_cache"] == {}

    cdn = read(
        **PRODUCTION,
        FRONTEND_CACHE_PURGE_URL="http://varnish.internal:6081",
        CLOUDFLARE_ZONE_ID="zone",
        CLOUDFLARE_API_TOKEN="token",
        FRONTEND_CACHE_HOSTNAMES="letters.example.org",
    )["frontend_cache"]

    assert cdn["http"]["LOCATION"] == "http://varnish.internal:6081"
    assert cdn["cloudflare"]["ZONEID"] == "zone"
    assert cdn["cloudflare"]["BEARER_TOKEN"] == "token"
    assert cdn["http"]["HOSTNAMES"] == ["letters.example.org"]


def png(color: str) -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (120, 60), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def s3(settings, monkeypatch):
    """Media on S3 (moto's, in this process), as AWS_STORAGE_BUCKET_NAME switches it."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="letters-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "letters-media",
                    "file_overwrite": False,
                    "querystring_auth": False,
                },
            },
        }
        yield client


@pytest.mark.django_db
def test_on_s3_the_pdf_carries_the_logos_and_streams_from_the_bucket(
    s3, client, django_capture_on_commit_callbacks
):
    logo = get_image_model().objects.create(
        title="Widget Makers", file=ImageFile(io.BytesIO(png("navy")), name="widgets.png")
    )
    assert logo.file.url.startswith("https://letters-media.s3.amazonaws.com/original_images/")
    letter = make_letter(live=False, slug="on-s3", show_logos=True)
    SignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Widget Makers"), logo=logo
    )

    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)

    publication = letter.publications.get()
    stored = s3.get_object(Bucket="letters-media", Key=publication.pdf.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == publication.pdf_sha256
    assert not (Path(django_settings.MEDIA_ROOT) / publication.pdf.name).exists()
    images = [image for page in PdfReader(io.BytesIO(stored)).pages for image in page.images]
    assert images, "the logo on S3 did not reach the PDF"
    for _ in range(2):  # rendered, then from the page cache: both stream from the bucket
        response = client.get("/letters/on-s3/pdf/v1/")
        assert response.status_code == 200
        assert response.streaming
        assert hashlib.sha256(body(response)).hexdigest() == publication.pdf_sha256
    page = client.get("/letters/on-s3/").content.decode()
    assert logo.file.url in page
