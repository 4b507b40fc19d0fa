"""Emails rendered by name from templates/emails/<name>-subject.txt, -body.txt and -body.html.

Jobs send them through `coalition.core.deliveries`, which sends each at most once.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


#: An email's subject, text body and HTML body ("" where it has none).
Rendered = tuple[str, str, str]


def render(name: str, context: Mapping[str, Any]) -> Rendered:
    """The subject, text body and HTML body of the named email."""
    values = dict(context)
    # A subject is one line, whatever the template or the data put in it.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", values).split())
    text = render_to_string(f"emails/{name}-body.txt", values)
    html = render_to_string(f"emails/{name}-body.html", values)
    return subject, text, html


def message(
    rendered: Rendered, *, to: str, headers: Mapping[str, str] | None = None
) -> EmailMultiAlternatives:
    """A rendered email addressed to one person."""
    subject, text, html = rendered
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=dict(headers or {}),
    )
    if html:
        email.attach_alternative(html, "text/html")
    return email
