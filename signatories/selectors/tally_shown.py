"""What the tally shows beyond the tracker's table: what signers are told ("signed so far"), the
goal, and the tracker's counts of a large sign-on, read again at most every few seconds."""

from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from signatories.models import SignOn

from .tally import Tally, tally


def signed_so_far(sign_on: SignOn, counted: "Tally | None" = None) -> str:
    """“3 organizations and 1 individual have signed so far.”, for signers who may see it."""
    counts = counted or tally(sign_on)
    organizations = counts.printed_organizations
    individuals = counts.printed - organizations
    parts = [f"{organizations} organization{'s' if organizations != 1 else ''}"]
    if individuals:
        parts.append(f"{individuals} individual{'s' if individuals != 1 else ''}")
    verb = "has" if counts.printed == 1 else "have"
    return f"{' and '.join(parts)} {verb} signed so far."


@dataclass(frozen=True)
class GoalPart:
    label: str  # "organizations", "individuals"
    signed: int
    goal: int

    @property
    def reached(self) -> bool:
        return self.signed >= self.goal

    @property
    def percent(self) -> int:
        return min(100, self.signed * 100 // self.goal) if self.goal else 100


@dataclass(frozen=True)
class Goal:
    """How far a sign-on is from its goal, in the tally's numbers: what prints now."""

    parts: list[GoalPart]

    @property
    def reached(self) -> bool:
        return bool(self.parts) and all(part.reached for part in self.parts)


def goal_of(sign_on: SignOn, counted: Tally) -> Goal | None:
    """The sign-on's goal and its progress, from the tally every count comes from; None if it
    has none."""
    if not sign_on.has_goal:
        return None
    parts = []
    if sign_on.goal_organizations:
        parts.append(
            GoalPart("organizations", counted.printed_organizations, sign_on.goal_organizations)
        )
    if sign_on.goal_individuals:
        individuals = counted.printed - counted.printed_organizations
        parts.append(GoalPart("individuals", individuals, sign_on.goal_individuals))
    return Goal(parts)


# The tracker of a sign-on past LIVE_UP_TO printed lines counts again at most every
# REFRESHED_EVERY seconds, as the signers' pages do (views.common.as_it_stands, which reads the
# same two numbers from here): in a rush of signatures each one changes the record, and each
# view would otherwise count a hundred thousand responses again. It says how old its counts
# are; a smaller sign-on's are always as they stand.
LIVE_UP_TO = 1000
REFRESHED_EVERY = 5
# While one view counts again, the others show the counts before, if they are this recent.
STALE_AT_MOST = 60


def tally_as_it_stands(sign_on: SignOn) -> Tally:
    """The tally the tracker shows: read now for a sign-on of up to LIVE_UP_TO printed lines;
    past that, as read by the last view within REFRESHED_EVERY seconds (`Tally.read_at` says
    when), and read again by one view at a time."""
    responses_open = sign_on.accepts_responses
    key = _kept_key(sign_on)
    kept = cache.get(key)
    now = timezone.now()
    if kept is not None:
        read_at, head, counted_invited, others = kept
        age = (now - read_at).total_seconds()
        if 0 <= age < REFRESHED_EVERY or (
            0 <= age < STALE_AT_MOST and not cache.add(counting_key(sign_on), 1, STALE_AT_MOST)
        ):
            return Tally(
                sign_on=sign_on,
                responses_open=responses_open,
                counted_invited=counted_invited,
                others=others,
                head=head,
                read_at=read_at,
            )
    try:
        counted = tally(sign_on)
        if counted.printed > LIVE_UP_TO:
            kept = (now, counted.head, counted.counted_invited, counted.others)
            cache.set(key, kept, STALE_AT_MOST)
    finally:
        cache.delete(counting_key(sign_on))
    return counted


def _kept_key(sign_on: SignOn) -> str:
    return f"tally:as-it-stands:{sign_on.pk}:{sign_on.accepts_responses}"


def counting_key(sign_on: SignOn) -> str:
    """Held while a view counts the sign-on again: the others show the counts before."""
    return f"{_kept_key(sign_on)}:counting"
