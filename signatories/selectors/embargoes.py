"""Reads of embargoes: the one a sign-on's letter is under, those due, a press link's preview."""

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from signatories import tokens
from signatories.models import Embargo, PressPreview, SignOn


def active_embargo(sign_on: SignOn) -> Embargo | None:
    """The embargo the sign-on's letter waits under, if any (not yet published)."""
    return Embargo.objects.filter(sign_on=sign_on, published_at__isnull=True).first()


def embargo_of(sign_on: SignOn) -> Embargo | None:
    """The sign-on's embargo, published or not."""
    return Embargo.objects.filter(sign_on=sign_on).first()


def due_embargoes() -> QuerySet[Embargo]:
    """Embargoes whose moment has passed and whose letter is not published yet."""
    return Embargo.objects.filter(
        published_at__isnull=True, until__lte=timezone.now()
    ).select_related("sign_on")


def press_previews(embargo: Embargo) -> QuerySet[PressPreview]:
    """The press contacts of an embargo, each with how often and when last they opened it."""
    return embargo.previews.annotate(
        opened=Count("accesses"), last_opened=Max("accesses__at")
    ).order_by("created_at", "pk")


def find_press_preview(token: str) -> PressPreview | None:
    """The preview a press link opens, with its embargo, sign-on and letter; None if unknown."""
    if not tokens.is_well_formed(token):
        return None
    return (
        PressPreview.objects.select_related(
            "embargo", "embargo__sign_on", "embargo__sign_on__letter", "embargo__sign_on__revision"
        )
        .filter(token_hash=tokens.digest(token))
        .first()
    )


def press_link_token(preview: PressPreview) -> str:
    return tokens.rederive("press", preview.token_nonce, preview.token_hash)


def press_preview_to_send(preview_id: int) -> PressPreview | None:
    """A preview whose link still opens, to email: not revoked, its letter not yet published."""
    return (
        PressPreview.objects.select_related("embargo", "embargo__sign_on__letter")
        .filter(pk=preview_id, revoked_at__isnull=True, embargo__published_at__isnull=True)
        .first()
    )
