"""Development email on the console reads as the recipient would read it, in any script."""

import io
import os
import subprocess
import sys
from pathlib import Path

from django.core.mail import EmailMultiAlternatives

from coalition.core.mail import ConsoleEmailBackend

ROOT = Path(__file__).resolve().parent.parent
LINK = "http://127.0.0.1:8000/sign/a-token-of-forty-characters-or-so-abcdef/"


def printed(message: EmailMultiAlternatives) -> str:
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def invitation(name: str, address: str) -> EmailMultiAlternatives:
    # A line longer than 78 characters with letters outside ASCII is what Python encodes as base64.
    message = EmailMultiAlternatives(
        subject=f"{name}, will your organization sign?",
        body=f"Dear {name},\n\nYou are invited to sign the joint letter for your organization "
        f"before the deadline; your own link: {LINK}\n",
        from_email="Coalition sign-on <noreply@localhost>",
        to=[f"{name} <{address}>"],
        cc=["Secretariat <secretariat@example.org>"],
    )
    message.attach_alternative(f'<p>Dear {name},</p><p><a href="{LINK}">Sign</a></p>', "text/html")
    message.attach("signatories.csv", "name\n한국무역협회\n", "text/csv")
    return message


def test_it_prints_a_greek_name_and_its_link_as_they_read():
    text = printed(invitation("Γιώργος Παπαδόπουλος", "giorgos@example.gr"))

    assert "Subject: Γιώργος Παπαδόπουλος, will your organization sign?" in text
    assert "To: Γιώργος Παπαδόπουλος <giorgos@example.gr>" in text
    assert "Cc: Secretariat <secretariat@example.org>" in text
    assert "Dear Γιώργος Παπαδόπουλος,\n\nYou are invited" in text
    assert LINK in text
    assert "base64" not in text and "=?utf-8?" not in text
    assert "[alternative: text/html, " in text
    assert "[attachment signatories.csv: text/csv, " in text
    assert text.endswith("-" * 79 + "\n")


def test_it_prints_a_korean_name_and_its_link_as_they_read():
    text = printed(invitation("김민준", "minjun@example.kr"))

    assert "Subject: 김민준, will your organization sign?" in text
    assert "To: 김민준 <minjun@example.kr>" in text
    assert "Dear 김민준," in text
    assert LINK in text
    assert "base64" not in text and "=?utf-8?" not in text


def email_backend_under(**env: str) -> str:
    """EMAIL_BACKEND as the settings read it from an environment, in a process of its own."""
    kept = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "EMAIL_BACKEND"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from coalition.project import settings; print(settings.EMAIL_BACKEND)",
        ],
        cwd=ROOT,
        env={**kept, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_development_prints_with_it_and_production_still_uses_smtp():
    assert email_backend_under(DEBUG="1") == "coalition.core.mail.ConsoleEmailBackend"
    production = email_backend_under(
        DEBUG="0", SECRET_KEY="x" * 50, CACHE_URL="redis://127.0.0.1:6379/9"
    )
    assert production == "django.core.mail.backends.smtp.EmailBackend"
