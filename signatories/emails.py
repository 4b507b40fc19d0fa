"""Emails rendered by name from templates/emails/<name>-subject.txt, -body.txt and -body.html."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject, text body and HTML body of the named email."""
    # A subject is one line, whatever the template or the data put in it.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def send(
    name: str, *, to: list[str], context: dict[str, Any], reply_to: list[str] | None = None
) -> None:
    """Send the named email to each recipient separately, so that nobody sees the others."""
    subject, text, html = render(name, context)
    for address in to:
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            reply_to=reply_to,
        )
        message.attach_alternative(html, "text/html")
        message.send()
