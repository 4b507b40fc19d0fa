"""Builders for what follows publication: a published letter with signers who gave their
addresses, its recipients in the CRM, a delivery by email, and providers' webhook payloads."""

import base64
import hashlib
import hmac
import io
import json
from typing import Any

from django.test import TestCase
from PIL import Image

from coalition.crm.services import create_contact, office_named
from letters.models import LetterPage
from signatories import services
from signatories.models import LetterDelivery, Recipient
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish
from tests.support.signing import STAFF_ACTOR

ADDRESS_BLOCK = "The Honorable Jane Doe\nSecretary of Widgets\nDepartment of Widgets\n\nMr. John Roe\nOffice of the Trade Representative"
WEBHOOK_SECRET = "provider:s3cret-of-the-webhook"
MAILGUN_KEY = "mailgun-signing-key-for-tests"


def published_letter(*, slug: str = "widgets", signers: int = 2) -> LetterPage:
    """A letter addressed to two people, signed by `signers` organizations whose signers gave
    their addresses, published with its PDF (rendered after commit, as the worker would)."""
    letter = make_letter(live=False, slug=slug, recipients=ADDRESS_BLOCK)
    for n in range(signers):
        SignatureFactory(
            letter=letter,
            organization=OrganizationFactory(name=f"Guild of Widgets {slug} {n}"),
            signer_name=f"Signer {n}",
            signer_email=f"signer{n}@{slug}.example.org",
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        publish(letter)
    return letter


def recipient(letter: LetterPage, name: str, email: str, office: str) -> Recipient:
    contact = create_contact(organization=office_named(office), name=name, email=email)
    return services.add_recipient(letter=letter, contact=contact, actor=STAFF_ACTOR)


def jane(letter: LetterPage) -> Recipient:
    return recipient(letter, "Jane Doe", "jane.doe@widgets.example.gov", "Department of Widgets")


def emailed(letter: LetterPage, *people: Recipient, attach: bool = True) -> list[LetterDelivery]:
    """The letter emailed to these recipients, the outbox's jobs run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.send_letter(
            letter=letter,
            recipients=list(people),
            cover_message="Please find our letter.",
            pdf_attached=attach,
            actor=STAFF_ACTOR,
        )


def png(width: int = 60, height: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#884422").save(buffer, format="PNG")
    return buffer.getvalue()


def basic_auth(secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


# Providers' own sample payloads (from their documentation), carrying the outbox key as the
# message's metadata, as anymail sends it.


def postmark_delivery(key: str, *, record_type: str = "Delivery") -> dict[str, Any]:
    event: dict[str, Any] = {
        "RecordType": record_type,
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": "jane.doe@widgets.example.gov",
        "Tag": "",
        "Metadata": {"outbox_key": key},
    }
    if record_type == "Delivery":
        event.update(DeliveredAt="2026-12-09T14:22:28Z", Details="Test delivery webhook details")
    if record_type == "Open":
        event.update(
            ReceivedAt="2026-12-09T15:01:02Z",
            FirstOpen=True,
            Platform="WebMail",
            UserAgent="Mozilla/5.0",
        )
    if record_type == "Bounce":
        event.update(
            ID=4323372036854775807,
            Type="HardBounce",
            TypeCode=1,
            Name="Hard bounce",
            Description="The server was unable to deliver your message (ex: unknown user).",
            Details="Test bounce details",
            Email="jane.doe@widgets.example.gov",
            From="noreply@localhost",
            BouncedAt="2026-12-09T14:30:00Z",
            Inactive=True,
            CanActivate=True,
            Subject="A joint letter on widgets",
        )
    return event


def sendgrid_events(key: str, *kinds: str) -> list[dict[str, Any]]:
    """SendGrid posts a batch of events; custom_args (anymail's metadata) ride along in each."""
    return [
        {
            "email": "jane.doe@widgets.example.gov",
            "timestamp": 1765290000 + n,
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": kind,
            "category": [],
            "sg_event_id": f"sg-event-{kind}-{n}",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "outbox_key": key,
            **(
                {"reason": "550 5.1.1 The email account does not exist."}
                if kind == "bounce"
                else {}
            ),
            **({"response": "250 OK"} if kind == "delivered" else {}),
        }
        for n, kind in enumerate(kinds)
    ]


def mailgun_event(
    key: str, kind: str, *, signing_key: str = MAILGUN_KEY, token: str = "a" * 50
) -> dict[str, Any]:
    timestamp = "1765290000"
    signature = hmac.new(
        signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": kind,
            "timestamp": 1765290000.5,
            "id": "CPgfbmQMTCKtHW6uIWtuVe",
            "recipient": "jane.doe@widgets.example.gov",
            "message": {"headers": {"message-id": "20261209.1@mg.example.org"}},
            "user-variables": {"outbox_key": key},
            **(
                {
                    "severity": "permanent",
                    "reason": "bounce",
                    "delivery-status": {"code": 550, "message": "No such user", "description": ""},
                }
                if kind == "failed"
                else {}
            ),
        },
    }


def ses_notification(key: str, kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    """An Amazon SES event as SNS posts it: the SES event JSON inside the SNS envelope."""
    ses = {
        "eventType": kind,
        "mail": {
            "timestamp": "2026-12-09T14:22:00.000Z",
            "source": "noreply@localhost",
            "messageId": "0100016a-ses-message",
            "destination": ["jane.doe@widgets.example.gov"],
            "headers": [{"name": "X-Metadata", "value": json.dumps({"outbox_key": key})}],
        },
        "delivery": {
            "timestamp": "2026-12-09T14:22:05.000Z",
            "recipients": ["jane.doe@widgets.example.gov"],
            "smtpResponse": "250 ok",
        },
    }
    envelope = {
        "Type": "Notification",
        "MessageId": "sns-message-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": json.dumps(ses),
        "Timestamp": "2026-12-09T14:22:06.000Z",
        "SignatureVersion": "1",
    }
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": "sns-message-1",
    }
    return envelope, headers
