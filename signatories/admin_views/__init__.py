"""Staff views in the Wagtail admin, one module for each screen: the list and opening a sign-on,
the tracker, its export and the changes made from it, the review queue, a published letter's
corrections, a draft shared with members for comment, the letter's recipients, deliveries and
answers after publication, and the report across letters of who listens. Each view finds what it
acts on through `selectors`, calls one service, and shows the service's refusal through
`common.showing_refusal`."""

from .answers import answer_file, answers, publish_answer, remind_recipients
from .corrections import corrections, publish_correction, retract
from .deliveries import delivery_scan, hand_delivery, send_letter
from .drafting import draft_comment, drafting, revoke_draft_share
from .embargoes import add_press_preview, embargo, lift_embargo, revoke_press_preview
from .exports import export
from .listeners import recipient_report, recipient_report_csv
from .recipients import recipients
from .review import approve, approve_ticked, correct_display_name, reject, review, review_all
from .sign_on_changes import cancel, close, deadline, invite, publish, recirculate, remind
from .sign_ons import approval_rules, close_open_link, index, issue_open_link, open_sign_on
from .tracker import tracker

__all__ = [
    "add_press_preview",
    "answer_file",
    "answers",
    "approval_rules",
    "approve",
    "approve_ticked",
    "cancel",
    "close",
    "close_open_link",
    "correct_display_name",
    "corrections",
    "deadline",
    "delivery_scan",
    "draft_comment",
    "drafting",
    "embargo",
    "export",
    "hand_delivery",
    "index",
    "invite",
    "issue_open_link",
    "lift_embargo",
    "open_sign_on",
    "publish",
    "publish_answer",
    "publish_correction",
    "recipient_report",
    "recipient_report_csv",
    "recipients",
    "recirculate",
    "reject",
    "remind",
    "remind_recipients",
    "retract",
    "review",
    "review_all",
    "revoke_draft_share",
    "revoke_press_preview",
    "send_letter",
    "tracker",
]
