"""The sign-ons staff work on: listed, read with what their pages show, and the people invited."""

from django.db.models import QuerySet

from letters.models import CirculationApproval, RecognizedMembers
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


def approvals_to_circulate() -> QuerySet[CirculationApproval]:
    """Revisions approved for circulation whose letter has no sign-on yet (a cancelled one
    aside), newest first, each with its letter and the members its Word import recognized."""
    busy = SignOn.objects.exclude(status=SignOn.Status.CANCELLED).values("letter_id")
    return (
        CirculationApproval.objects.exclude(letter_id__in=busy)
        .select_related("letter", "letter__recognized_members")
        .order_by("-approved_at")
    )


def approval_to_circulate(pk: int) -> CirculationApproval | None:
    return approvals_to_circulate().filter(pk=pk).first() if pk else None


def recognized_members(letter_id: int) -> list[int]:
    """The organizations the letter's Word import recognized among its signatories."""
    found = RecognizedMembers.objects.filter(letter_id=letter_id).first()
    return [int(pk) for pk in found.organization_ids] if found is not None else []
