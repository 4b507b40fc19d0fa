"""Staff views in the Wagtail admin, one module for each screen: the list and opening a sign-on,
the tracker, its export and the changes made from it, the review queue, a published letter's
corrections, and a draft shared with members for comment. Each view finds what it acts on through `selectors`, calls one service, and shows
the service's refusal through `common.showing_refusal`."""

from .corrections import corrections, publish_correction, retract
from .drafting import draft_comment, drafting, revoke_draft_share
from .embargoes import add_press_preview, embargo, lift_embargo, revoke_press_preview
from .exports import export
from .review import approve, approve_ticked, correct_display_name, reject, review
from .sign_on_changes import cancel, close, deadline, invite, publish, recirculate, remind
from .sign_ons import close_open_link, index, issue_open_link, open_sign_on
from .tracker import tracker

__all__ = [
    "add_press_preview",
    "approve",
    "approve_ticked",
    "cancel",
    "close",
    "close_open_link",
    "correct_display_name",
    "corrections",
    "deadline",
    "draft_comment",
    "drafting",
    "embargo",
    "export",
    "index",
    "invite",
    "issue_open_link",
    "lift_embargo",
    "open_sign_on",
    "publish",
    "publish_correction",
    "recirculate",
    "reject",
    "remind",
    "retract",
    "review",
    "revoke_draft_share",
    "revoke_press_preview",
    "tracker",
]
