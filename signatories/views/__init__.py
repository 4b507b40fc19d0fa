"""The signer's pages: public, no account, a token in the URL.

Three links lead here: an invited person's own link (sign, decline, pass it on), a signer's link
to their own signature (confirm the address, reconfirm after a change, withdraw), and a sign-on's
open link. Reading never changes a response (mail scanners open links); only an explicit POST
does. Each POST hands a form's typed input to one service and shows its refusal where it belongs.
"""

from .invitation import sign, thanks
from .open_link import open_link, open_link_thanks
from .own_signature import signature

__all__ = ["open_link", "open_link_thanks", "sign", "signature", "thanks"]
