"""Loaded by pytest before Django: the settings the test suite runs under."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TASKS_IMMEDIATE", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="coalition-media-"))
# Published versions are signed as in production, with a certificate made for this run.
if "PDF_SIGNING_CERT" not in os.environ:
    from pathlib import Path

    from letters.certificates import write_development_certificate

    certificate = Path(tempfile.mkdtemp(prefix="coalition-signing-")) / "signing.p12"
    write_development_certificate(certificate, name="Widget Trade Coalition")
    os.environ["PDF_SIGNING_CERT"] = str(certificate)
# Playwright runs its own event loop in the test thread; the ORM calls beside it are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
