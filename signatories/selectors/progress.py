"""Progress of many sign-ons at once, as the admin dashboard lists them."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from signatories.models import Invitation, Signature, SignOn

from .responses import deadline_words
from .review import review_queue
from .tally import COLUMN_OF_STATE, responses_that_count, state_of


@dataclass(frozen=True)
class Progress:
    """How far one sign-on has got, in the tracker's numbers (selectors.tally)."""

    sign_on: SignOn
    invited: int  # organizations invited: the tracker's "Invited" total
    signed: int  # of those, signed and approved: its "Signed" total
    declined: int
    printed: int  # lines that print now, open link included: its "print now"
    waiting_for_review: int  # holds for staff: this sign-on's share of the review queue
    waiting_for_signer: int  # holds for signers: an address to confirm, a text to reconfirm

    @property
    def deadline_words(self) -> str:
        return deadline_words(self.sign_on)

    @property
    def open_link_signed(self) -> int:
        return self.printed - self.signed


def progress_of(sign_ons: Sequence[SignOn]) -> list[Progress]:
    """Each sign-on's progress, counted as `tally` counts it, for all of them at once.

    `tally` reads one sign-on whole in four queries; the dashboard lists every open one, so this
    reads the invitations and responses of all of them in two, and puts each organization in its
    column by the tally's own rules (`state_of`, `COLUMN_OF_STATE`, `responses_that_count`: the
    response that counts). tests/test_dashboard.py holds the two to the same numbers in every
    state.
    """
    ids = [sign_on.pk for sign_on in sign_ons]
    invited: dict[int, set[int]] = defaultdict(set)
    for sign_on_id, organization_id in Invitation.objects.filter(sign_on_id__in=ids).values_list(
        "sign_on_id", "organization_id"
    ):
        invited[sign_on_id].add(organization_id)
    responses: dict[int, list[Signature]] = defaultdict(list)
    for signature in (
        Signature.objects.filter(sign_on_id__in=ids)
        .only(
            "sign_on_id",
            "organization_id",
            "signer_email_key",
            "status",
            "status_before_reconfirmation",
            "response",
        )
        .order_by("created_at", "pk")
    ):
        assert signature.sign_on_id is not None  # filtered on it
        responses[signature.sign_on_id].append(signature)
    found = []
    for sign_on in sign_ons:
        latest = responses_that_count(responses[sign_on.pk])
        responses_open = sign_on.accepts_responses
        invited_columns = Counter(
            COLUMN_OF_STATE[state_of(latest.get(organization_id), responses_open=responses_open)]
            for organization_id in invited[sign_on.pk]
        )
        other_columns = Counter(
            COLUMN_OF_STATE[state_of(response, responses_open=responses_open)]
            for key, response in latest.items()
            if key not in invited[sign_on.pk]
        )
        found.append(
            Progress(
                sign_on=sign_on,
                invited=len(invited[sign_on.pk]),
                signed=invited_columns["signed"],
                declined=invited_columns["declined"],
                printed=invited_columns["signed"] + other_columns["signed"],
                waiting_for_review=invited_columns["review"] + other_columns["review"],
                waiting_for_signer=invited_columns["signer"] + other_columns["signer"],
            )
        )
    return found


def desk_sign_ons() -> list[SignOn]:
    """The sign-ons the dashboard lists, soonest deadline first: open and closed ones, and
    published ones with late signatures still to settle."""
    return list(
        SignOn.objects.filter(
            Q(status__in=[SignOn.Status.OPEN, SignOn.Status.CLOSED])
            | Q(status=SignOn.Status.PUBLISHED, pk__in=review_queue().values("sign_on_id"))
        )
        .select_related("letter")
        .order_by("deadline", "pk")
    )
