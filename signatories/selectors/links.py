"""The invitation, signature or sign-on a link opens, and the token of a link."""

from django.db.models import Exists, OuterRef

from letters import translations
from signatories import tokens
from signatories.errors import InvalidToken
from signatories.models import Invitation, Signature, SignOn

# What a signer's page never reads of the letter row: the text prints from the circulated revision.
LETTER_TEXT_FIELDS = ("body", "recipients", "cc", "footnotes")


def _without_letter_text(path: str) -> list[str]:
    return [f"{path}__{name}" for name in LETTER_TEXT_FIELDS]


def _translated(letter: str) -> Exists:
    """Whether the letter at this path has a live translation, read with the link: most have
    none, and their pages then ask no more (`translations_to_read`)."""
    return translations.any_live_translation(
        OuterRef(f"{letter}_id"), OuterRef(f"{letter}__translation_key")
    )


def _knows_translations(sign_on: SignOn, row: object) -> None:
    known = getattr(row, "translation_live", None)
    if known is not None:
        sign_on.letter_translated = bool(known)


def find_invitation(token: str, *, reading: bool = True) -> Invitation:
    """The invitation a link belongs to; InvalidToken for anything forged, truncated or replaced.

    `reading`: its page shows the letter, and whether the letter is translated is read with it.
    """
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    # Whether the organization ever answered this letter, read with the link: most requests are
    # of organizations that have not, whose pages then need no query for their response.
    answered = Signature.objects.filter(
        letter_id=OuterRef("sign_on__letter_id"), organization_id=OuterRef("organization_id")
    )
    try:
        # Not the letter: its pages show the circulated revision's title and text (cached).
        found = Invitation.objects.select_related("sign_on", "organization", "contact").annotate(
            answered=Exists(answered)
        )
        if reading:
            found = found.annotate(translation_live=_translated("sign_on__letter"))
        invitation = found.get(token_hash=tokens.digest(token))
    except Invitation.DoesNotExist:
        raise InvalidToken(
            "This link is not valid or has been replaced by a newer one. "
            "Use the link in the latest email you received."
        ) from None
    _knows_translations(invitation.sign_on, invitation)
    return invitation


def find_signature(token: str, *, with_letter: bool = True) -> Signature:
    """The signature a signer's own link belongs to (to confirm, reconfirm or withdraw it);
    without its letter where only the answer changes (the letter's page is the largest row to
    read, and a rush of people confirming open letters reads nothing of it)."""
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    found = Signature.objects.select_related("sign_on", "organization", "invitation")
    if with_letter:
        # Not whether it is translated: the page shows the letter only to reconfirm it.
        found = found.select_related("sign_on__letter").defer(
            *_without_letter_text("sign_on__letter")
        )
    try:
        return found.get(token_hash=tokens.digest(token), sign_on__isnull=False)
    except Signature.DoesNotExist:
        raise InvalidToken("This link is not valid or has been replaced by a newer one.") from None


def find_sign_on_by_open_link(token: str) -> SignOn:
    """The sign-on an open link belongs to; InvalidToken for anything forged, turned off or replaced."""
    if not tokens.is_well_formed(token):
        raise InvalidToken("This link is not valid. Check that you copied all of it.")
    try:
        sign_on = (
            SignOn.objects.select_related("letter")
            .defer(*_without_letter_text("letter"))
            .annotate(translation_live=_translated("letter"))
            .get(open_link_token_hash=tokens.digest(token))
        )
    except SignOn.DoesNotExist:
        raise InvalidToken(
            "This link is not valid, or it has been turned off or replaced."
        ) from None
    _knows_translations(sign_on, sign_on)
    return sign_on


def invitation_link_token(invitation: Invitation) -> str:
    return tokens.rederive("invitation", invitation.token_nonce, invitation.token_hash)


def signature_link_token(signature: Signature) -> str:
    return tokens.rederive("signature", signature.token_nonce, signature.token_hash)
