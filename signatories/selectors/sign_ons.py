"""The sign-ons staff work on: listed, read with what their pages show, and the people invited."""

from django.db.models import QuerySet

from signatories.models import SignOn


def sign_ons_newest_first() -> QuerySet[SignOn]:
    """Every sign-on with its letter, the latest first: the admin's list."""
    return SignOn.objects.select_related("letter").order_by("-created_at")


def sign_ons_with_letter() -> QuerySet[SignOn]:
    """Sign-ons with their letter, whose title their pages show."""
    return SignOn.objects.select_related("letter")


def sign_ons_with_letter_and_revision() -> QuerySet[SignOn]:
    """Sign-ons with their letter and the revision they circulate, as the tracker shows them."""
    return SignOn.objects.select_related("letter", "revision")


def invitation_counts(sign_on: SignOn) -> tuple[int, int]:
    """How many people the sign-on invited, and at how many organizations."""
    invitations = sign_on.invitations
    return invitations.count(), invitations.values("organization").distinct().count()
