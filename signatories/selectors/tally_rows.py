"""The tally's rows for the tracker and its exports: narrowed by a filter, read a page at a time
(`TallyRows`), or streamed in chunks (`streamed_rows`), each row in its one state as the counts
beside it count it (selectors.tally)."""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, overload

from django.db.models import (
    Q,
    QuerySet,
)

from signatories.models import Invitation, Signature, SignOn

from .tally import (
    COLUMN_OF_STATE,
    COLUMNS,
    NAME_IN_DATABASE,
    SOURCE_IN_DATABASE,
    STATES,
    Row,
    Tally,
    counting_responses,
    in_name_order,
    invitations_in_order,
    invited_ids,
    invited_rows,
    kept_until_the_next_event,
    open_link_row,
    responses_that_count,
    state_in_database,
)

SOURCES = {
    "invited": "Invited organizations",
    "open_link": "Organizations through the open link",
    "individual": "Individuals",
}
STATES_OF_COLUMN = {
    column: [state for state, of in COLUMN_OF_STATE.items() if of == column] for column in COLUMNS
}


@dataclass(frozen=True)
class TallyFilter:
    """Which rows of the tally the tracker lists: a column, a source, words of a name or email.

    The rows are the tally's own, so that a filtered list and the counts beside it never
    disagree: "Waiting for staff review" lists exactly the rows counted in that column.
    """

    column: str = ""
    source: str = ""
    search: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "TallyFilter":
        column = query.get("column", "")
        source = query.get("source", "")
        return cls(
            column=column if column in COLUMNS else "",
            source=source if source in SOURCES else "",
            search=" ".join(query.get("q", "").split())[:200],
        )

    def as_query(self) -> dict[str, str]:
        query = {"column": self.column, "source": self.source, "q": self.search}
        return {name: value for name, value in query.items() if value}

    @property
    def words(self) -> list[str]:
        return self.search.casefold().split()

    def rows(self, counted: Tally) -> "TallyRows":
        """The tally's rows this filter keeps, in the tally's order: read a slice at a time."""
        return TallyRows(counted, self)


def _searchable(row: Row) -> str:
    """What a search of the tracker matches: the row's name, its printed line, signer and
    address, and the people invited."""
    response = row.response
    parts = [row.name]
    if response is not None:
        parts += [response.display_name, response.signer_name, response.signer_email]
    parts += [f"{invitation.name} {invitation.email}" for invitation in row.invitations]
    return " ".join(parts).casefold()


class TallyRows(Sequence[Row]):
    """The rows of a tally a filter keeps, in the tally's order, for a paginator: the invited
    organizations by sort name, then individuals and organizations that came through the open
    link, each by name (case-insensitive). How many there are comes from the counts where no
    words are searched; a slice reads only its own rows, in a few queries whatever its size.
    """

    def __init__(self, counted: Tally, chosen: TallyFilter) -> None:
        self.counted = counted
        self.chosen = chosen
        self.sign_on = counted.sign_on
        invited = [] if chosen.source in ("open_link", "individual") else counted.counted_invited
        if chosen.column:
            invited = [row for row in invited if row.column == chosen.column]
        if chosen.search and invited:
            matching = self._invited_matching(chosen.words)
            invited = [row for row in invited if row.organization_id in matching]
        self.invited = invited

    def _invited_matching(self, words: list[str]) -> set[int]:
        """The invited organizations whose row `_searchable` finds every word in: two queries."""
        text: dict[int, list[str]] = defaultdict(list)
        for organization_id, *parts in (
            Invitation.objects.filter(sign_on=self.sign_on)
            .order_by()
            .values_list("organization_id", "organization__name", "name", "email")
        ):
            text[organization_id] += parts
        invited = invited_ids(self.sign_on)
        for organization_id, *parts in counting_responses(
            self.sign_on, keys=Q(organization_id__in=invited)
        ).values_list("organization_id", "display_name", "signer_name", "signer_email"):
            text[organization_id] += parts
        return {
            organization_id
            for organization_id, parts in text.items()
            if all(word in " ".join(parts).casefold() for word in words)
        }

    @cached_property
    def others(self) -> QuerySet[Signature] | None:
        """The responses that count of those outside the invited audience this filter keeps,
        in order; None where it keeps only invited organizations."""
        chosen = self.chosen
        if chosen.source == "invited":
            return None
        found = counting_responses(
            self.sign_on, keys=~Q(organization_id__in=invited_ids(self.sign_on))
        ).annotate(
            source=SOURCE_IN_DATABASE,
            state=state_in_database(responses_open=self.counted.responses_open),
            row_name=NAME_IN_DATABASE,
        )
        if chosen.source:
            found = found.filter(source=chosen.source)
        if chosen.column:
            found = found.filter(state__in=STATES_OF_COLUMN[chosen.column])
        for word in chosen.words:
            found = found.filter(
                Q(row_name__icontains=word)
                | Q(display_name__icontains=word)
                | Q(signer_name__icontains=word)
                | Q(signer_email__icontains=word)
            )
        return found.select_related("organization").order_by(
            "source", in_name_order("row_name"), "pk"
        )

    @cached_property
    def _others_count(self) -> int:
        if self.others is None:
            return 0
        if self.chosen.search:
            others = self.others
            return kept_until_the_next_event(
                self.sign_on, self._what("count"), others.count, head=self.counted.head
            )
        sources = [self.chosen.source] if self.chosen.source else ["individual", "open_link"]
        states = STATES_OF_COLUMN[self.chosen.column] if self.chosen.column else STATES
        return sum(self.counted.others[source][state] for source in sources for state in states)

    def __len__(self) -> int:
        return len(self.invited) + self._others_count

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, int):
            found = self[index : index + 1] if index >= 0 else self[len(self) + index :][:1]
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            return list(self)[index]
        return self.invited_rows(start, stop) + self._other_rows(
            max(0, start - len(self.invited)), max(0, stop - len(self.invited))
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self[:])

    def invited_rows(self, start: int, stop: int) -> list[Row]:
        ids = [row.organization_id for row in self.invited[start:stop]]
        if not ids:
            return []
        invitations = list(
            self.sign_on.invitations.filter(organization_id__in=ids)
            .select_related("organization", "contact")
            .order_by("organization__sort_name", "organization_id", "name")
        )
        latest = {
            response.organization_id: response
            for response in counting_responses(
                self.sign_on, keys=Q(organization_id__in=ids)
            ).select_related("organization", "invitation")
        }
        return invited_rows(
            self.sign_on, invitations, latest, responses_open=self.counted.responses_open
        )

    def _other_rows(self, start: int, stop: int) -> list[Row]:
        others = self.others
        if others is None or stop <= start:
            return []
        # Which responses the slice holds is kept (ordering them all is what costs); the rows
        # themselves are read now.
        pks = kept_until_the_next_event(
            self.sign_on,
            self._what(f"rows {start}:{stop}"),
            lambda: list(others.values_list("pk", flat=True)[start:stop]),
            head=self.counted.head,
        )
        found = Signature.objects.select_related("organization").in_bulk(pks)
        return [
            open_link_row(found[pk], responses_open=self.counted.responses_open)
            for pk in pks
            if pk in found
        ]

    def _what(self, part: str) -> str:
        chosen = self.chosen
        return (
            f"others, open: {self.counted.responses_open}, column: {chosen.column}, "
            f"source: {chosen.source}, words: {chosen.words}, {part}"
        )


def streamed_rows(sign_on: SignOn, *, chunk_size: int = 2000) -> Iterator[Row]:
    """The tally's rows one at a time, for an export of any size in bounded memory: the invited
    organizations in the tally's order, then the organizations and people who came through the
    open link, by organization and by address rather than by name (the database reads them in
    chunks, each group of one organization's or person's signatures together).

    Each row's state is the tally's: the same response that counts, the same `state_of`.
    """
    responses_open = sign_on.accepts_responses
    invitations = invitations_in_order(sign_on)
    invited_ids = {invitation.organization_id for invitation in invitations}
    signatures = Signature.objects.filter(sign_on=sign_on).select_related("organization")
    invited_latest = responses_that_count(
        signatures.filter(organization_id__in=invited_ids).order_by("created_at", "pk")
    )
    yield from invited_rows(sign_on, invitations, invited_latest, responses_open=responses_open)
    others = (
        signatures.exclude(organization_id__in=invited_ids)
        .order_by("organization_id", "signer_email_key", "created_at", "pk")
        .iterator(chunk_size=chunk_size)
    )
    group: list[Signature] = []
    for signature in others:
        if group and _key_of(group[0]) != _key_of(signature):
            yield from _rows_of_group(group, responses_open=responses_open)
            group = []
        group.append(signature)
    yield from _rows_of_group(group, responses_open=responses_open)


def _key_of(signature: Signature) -> Any:
    return signature.organization_id or f"individual:{signature.signer_email_key}"


def _rows_of_group(group: list[Signature], *, responses_open: bool) -> Iterator[Row]:
    """The row of one organization's (or person's) signatures, given in any order."""
    if group:
        ordered = sorted(group, key=lambda s: (s.created_at, s.pk))
        for response in responses_that_count(ordered).values():
            yield open_link_row(response, responses_open=responses_open)
