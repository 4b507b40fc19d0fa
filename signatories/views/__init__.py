"""The signer's pages: public, no account, a token in the URL.

Four links lead here: an invited person's own link (sign, decline, pass it on), a signer's link
to their own signature (confirm the address, reconfirm after a change, withdraw), a sign-on's
open link, and a press contact's link to a letter under embargo. Reading never changes a response (mail scanners open links); only an explicit POST
does. Each POST hands a form's typed input to one service and shows its refusal where it belongs.
"""

from .invitation import sign, thanks
from .open_link import open_link, open_link_thanks
from .own_signature import signature
from .press import press_preview, press_preview_pdf

__all__ = [
    "open_link",
    "open_link_thanks",
    "press_preview",
    "press_preview_pdf",
    "sign",
    "signature",
    "thanks",
]
