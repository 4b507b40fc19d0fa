"""The sign-on app's tables, a module by aggregate: sign-ons with their invitations, signatures,
and the event chain that records every change to them; embargoes; drafts shared for comment; after publication, the recipients, deliveries and answers."""

from .bulk_reviews import BulkReview
from .drafting import DraftComment, DraftShare
from .embargoes import Embargo, PressPreview, PreviewAccess
from .events import Action, Event, EventQuerySet
from .recipients import Answer, DeliveryEvent, LetterDelivery, Recipient
from .sign_ons import (
    MAX_REMINDERS,
    Invitation,
    SignOn,
    default_reminder_days,
    validate_reminder_days,
)
from .signatures import CONFIRMED_ACTIVE, NEVER_CONFIRMED, Signature, SignatureQuerySet

__all__ = [
    "CONFIRMED_ACTIVE",
    "MAX_REMINDERS",
    "NEVER_CONFIRMED",
    "Action",
    "Answer",
    "BulkReview",
    "DeliveryEvent",
    "DraftComment",
    "DraftShare",
    "Embargo",
    "Event",
    "EventQuerySet",
    "Invitation",
    "LetterDelivery",
    "PressPreview",
    "PreviewAccess",
    "Recipient",
    "SignOn",
    "Signature",
    "SignatureQuerySet",
    "default_reminder_days",
    "validate_reminder_days",
]
