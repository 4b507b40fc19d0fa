"""The signer's pages: public, no account, a token in the URL.

Five links lead here: an invited person's own link (sign, decline, pass it on), a signer's link
to their own signature (confirm the address, reconfirm after a change, withdraw), a sign-on's
open link, a press contact's link to a letter under embargo, and a member contact's link to a
draft shared for comment. Reading never changes a response (mail scanners open links); only an
explicit POST does. Each POST hands a form's typed input to one service and shows its refusal
where it belongs.
"""

from .drafting import draft, draft_passage
from .invitation import sign, thanks
from .open_link import open_link, open_link_thanks
from .own_signature import signature
from .press import press_preview, press_preview_pdf

__all__ = [
    "draft",
    "draft_passage",
    "open_link",
    "open_link_thanks",
    "press_preview",
    "press_preview_pdf",
    "sign",
    "signature",
    "thanks",
]
