"""Every change of state in a sign-on, one function per change, all through `core.transition`."""

from signatories.errors import (
    AlreadyResponded,
    CommentsClosed,
    InvalidToken,
    RateLimited,
    ResponsesClosed,
    SignOnError,
    TransitionNotAllowed,
)
from signatories.selectors import audience_organizations

from .after_deadline import add_signatory, retract_signature
from .answers import publish_answer, record_answer, remind_recipients
from .drafting import (
    close_draft_comments,
    comment_on_draft,
    decide_draft_comment,
    revoke_draft_share,
    share_draft,
)
from .embargoes import (
    add_press_preview,
    embargo_sign_on,
    move_embargo,
    record_preview_access,
    release_due_embargoes,
    release_embargo,
    revoke_press_preview,
)
from .events import Actor
from .goals import reach_goal
from .letter_deliveries import record_hand_delivery, record_provider_event, send_letter
from .open_link import (
    approve_individuals_by_rule,
    close_open_link,
    issue_open_link,
    request_to_sign,
    sign_as_individual,
)
from .publications import (
    publish_correction,
    publish_letter,
    publish_sign_on,
    record_publication,
)
from .recipients import add_new_recipient, add_recipient, remove_recipient
from .recirculation import recirculate_sign_on, reconfirm_signature
from .reminders import (
    describe_reminder_schedule,
    reminder_recipients,
    send_due_reminders,
    send_reminders,
)
from .review import (
    approve_signature,
    approve_signatures,
    correct_display_name,
    reject_signature,
    reject_signatures,
)
from .sign_ons import (
    cancel_sign_on,
    change_deadline,
    close_due_sign_ons,
    close_sign_on,
    create_sign_on,
    invite_organizations,
    open_sign_on,
)
from .signatures import (
    check_accepts_responses,
    confirm_signature,
    decline_letter,
    forward_invitation,
    record_invitation_opened,
    set_publication_emails,
    sign_letter,
    withdraw_signature,
)

__all__ = [
    "Actor",
    "AlreadyResponded",
    "CommentsClosed",
    "InvalidToken",
    "RateLimited",
    "ResponsesClosed",
    "SignOnError",
    "TransitionNotAllowed",
    "add_new_recipient",
    "add_press_preview",
    "add_recipient",
    "add_signatory",
    "approve_individuals_by_rule",
    "approve_signature",
    "approve_signatures",
    "audience_organizations",
    "cancel_sign_on",
    "change_deadline",
    "check_accepts_responses",
    "close_draft_comments",
    "close_due_sign_ons",
    "close_open_link",
    "close_sign_on",
    "comment_on_draft",
    "confirm_signature",
    "correct_display_name",
    "create_sign_on",
    "decide_draft_comment",
    "decline_letter",
    "describe_reminder_schedule",
    "embargo_sign_on",
    "forward_invitation",
    "invite_organizations",
    "issue_open_link",
    "move_embargo",
    "open_sign_on",
    "publish_answer",
    "publish_correction",
    "publish_letter",
    "publish_sign_on",
    "reach_goal",
    "recirculate_sign_on",
    "reconfirm_signature",
    "record_answer",
    "record_hand_delivery",
    "record_invitation_opened",
    "record_preview_access",
    "record_provider_event",
    "record_publication",
    "reject_signature",
    "reject_signatures",
    "release_due_embargoes",
    "release_embargo",
    "remind_recipients",
    "reminder_recipients",
    "remove_recipient",
    "request_to_sign",
    "retract_signature",
    "revoke_draft_share",
    "revoke_press_preview",
    "send_due_reminders",
    "send_letter",
    "send_reminders",
    "set_publication_emails",
    "share_draft",
    "sign_as_individual",
    "sign_letter",
    "withdraw_signature",
]
