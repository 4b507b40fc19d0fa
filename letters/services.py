from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from wagtail.models import Revision

from .models import CirculationApproval, LetterPage


class LetterError(Exception):
    """A change to a letter that cannot be made; the message says why."""


@transaction.atomic
def approve_for_circulation(*, revision: Revision, user: AbstractBaseUser | None) -> CirculationApproval:
    """Mark a letter revision as approved for circulation, without publishing anything."""
    letter = revision.content_object
    if not isinstance(letter, LetterPage):
        raise LetterError("Only letter revisions can be approved for circulation.")
    approval, _ = CirculationApproval.objects.get_or_create(
        revision=revision, defaults={"letter": letter, "approved_by": user}
    )
    return approval
