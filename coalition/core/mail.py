"""Development email, printed to the console as a person would read it, in any script.

Django's console backend prints the message as it would travel: headers with a name in Greek or
Korean as encoded words, and a body with such a name in it as base64, so that the sign-in code or
the link in it cannot be read in the terminal. This one prints the same message decoded.
"""

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage as MIMEMessage

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend

# Shown by what they say, not how they travel: the parts' own headers say the latter.
HIDDEN_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


class ConsoleEmailBackend(EmailBackend):
    """Prints each message's headers decoded and its text as text, then names its other parts."""

    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(readable(message))
        self.stream.write("\n" + "-" * 79 + "\n")


def readable(message: EmailMessage) -> str:
    """The message as its reader sees it: headers, the text, then one line per other part."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    lines = [
        f"{name}: {value}" for name, value in parsed.items() if name.lower() not in HIDDEN_HEADERS
    ]
    if message.bcc:
        lines.append(f"Bcc: {', '.join(message.bcc)}")
    body = parsed.get_body(preferencelist=("plain", "html"))
    lines += ["", body.get_content().rstrip("\n") if body is not None else "(no text)"]
    others = [part for part in _leaves(parsed) if part is not body]
    if others:
        lines.append("")
    for part in others:
        content = part.get_content()
        size = f"{len(content)} characters" if isinstance(content, str) else f"{len(content)} bytes"
        name = part.get_filename()
        kind = f"attachment {name}" if name else "alternative"
        lines.append(f"[{kind}: {part.get_content_type()}, {size}]")
    return "\n".join(lines) + "\n"


def _leaves(part: MIMEMessage) -> Iterator[MIMEMessage]:
    for leaf in part.walk():
        if not leaf.is_multipart():
            yield leaf
