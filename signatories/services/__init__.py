"""Every change of state in a sign-on, one function per transition (see DESIGN.md)."""

from .errors import (
    AlreadyResponded,
    InvalidToken,
    ResponsesClosed,
    SignOnError,
    TransitionNotAllowed,
)
from .events import Actor, record_event, verify_event_chain
from .publications import attach_publication_pdf, publish_sign_on
from .recirculation import recirculate_sign_on, reconfirm_signature, signed_revision_id
from .reminders import describe_reminder_schedule, send_due_reminders, send_reminders
from .sign_ons import (
    audience_organizations,
    cancel_sign_on,
    close_due_sign_ons,
    close_sign_on,
    create_sign_on,
    invite_organizations,
    issue_invitation_token,
    lock_sign_on,
    open_sign_on,
    record_invitation_opened,
    revision_text_hash,
)
from .signatures import (
    approve_signature,
    check_accepts_responses,
    decline_letter,
    describe_response,
    find_invitation,
    find_signature_by_withdraw_token,
    issue_withdraw_token,
    reject_signature,
    sign_letter,
    withdraw_signature,
)

__all__ = [
    "Actor",
    "AlreadyResponded",
    "InvalidToken",
    "ResponsesClosed",
    "SignOnError",
    "TransitionNotAllowed",
    "approve_signature",
    "attach_publication_pdf",
    "audience_organizations",
    "cancel_sign_on",
    "check_accepts_responses",
    "close_due_sign_ons",
    "close_sign_on",
    "create_sign_on",
    "decline_letter",
    "describe_reminder_schedule",
    "describe_response",
    "find_invitation",
    "find_signature_by_withdraw_token",
    "invite_organizations",
    "issue_invitation_token",
    "issue_withdraw_token",
    "lock_sign_on",
    "open_sign_on",
    "publish_sign_on",
    "recirculate_sign_on",
    "reconfirm_signature",
    "record_event",
    "record_invitation_opened",
    "reject_signature",
    "revision_text_hash",
    "send_due_reminders",
    "send_reminders",
    "sign_letter",
    "signed_revision_id",
    "verify_event_chain",
    "withdraw_signature",
]
