"""The tracker: one sign-on's responses, counts, chart and latest events.

Its list of organizations and people is the tally's rows, a page at a time and narrowed by a
filter (a column of the counts, how they came, words of a name or address), so that a sign-on of
a hundred thousand signatures opens as fast as one of ten, and every count beside it is the
tally's: the counts are the database's, the page's rows read for that page alone, and the chart
replays only the events since it was last drawn."""

import datetime
from dataclasses import dataclass

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from signatories import selectors, services
from signatories.deadlines import format_moment
from signatories.forms import OpenLinkForm, RecirculateForm
from signatories.models import Action, Event, SignOn
from signatories.selectors.tally_rows import SOURCES, TallyFilter
from signatories.selectors.tally_shown import REFRESHED_EVERY
from signatories.services.chain_checks import chain_check_for_tracker

from .common import paged, require_perm


@require_perm("view_signon")
def tracker(request: HttpRequest, pk: int) -> TemplateResponse:
    sign_on = get_object_or_404(selectors.sign_ons_with_letter_and_revision(), pk=pk)
    # Past a thousand lines, counted at most every few seconds, and the page says when.
    counts = selectors.tally_as_it_stands(sign_on)
    chosen = TallyFilter.from_query(request.GET)
    return TemplateResponse(
        request,
        "signatories/admin/tracker.html",
        {
            "page_title": f"Sign-on: {sign_on.letter.title}",
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "deadline_words": selectors.deadline_words(sign_on),
            "reminder_schedule": services.describe_reminder_schedule(sign_on),
            "tally": counts,
            "refreshed_every": REFRESHED_EVERY,
            "goal": selectors.goal_of(sign_on, counts),
            **_embargo_context(sign_on),
            "columns": selectors.COLUMNS,
            "sources": SOURCES,
            "row_filter": chosen,
            "rows": paged(request, chosen.rows(counts), query=chosen.as_query()),
            "chart": selectors.response_chart(sign_on),
            "chart_series": selectors.CHART_SERIES,
            "open_link_form": OpenLinkForm(initial={"accepts_requests": sign_on.accepts_requests}),
            "recirculate_form": RecirculateForm(sign_on=sign_on)
            if sign_on.status == SignOn.Status.OPEN
            else None,
            "events": [EventLine.of(event) for event in selectors.latest_events(sign_on)],
            # Checked each time the tracker opens: a rewrite shows before anyone acts on it (a
            # long chain by the worker: its latest check, and the events since being checked).
            "chain": chain_check_for_tracker(sign_on),
            "not_yet_invited": selectors.not_yet_invited(sign_on),
        },
    )


@dataclass(frozen=True)
class EventLine:
    """An event as the tracker lists it, with what its action alone does not say."""

    event: Event
    note: str

    @classmethod
    def of(cls, event: Event) -> "EventLine":
        return cls(event=event, note=_note(event))


def _note(event: Event) -> str:
    """Where the deadline moved, or that the move was emailed; else nothing."""
    detail = event.detail or {}
    if event.action == Action.DEADLINE_CHANGED:
        try:
            before, after = (
                datetime.datetime.fromisoformat(detail[key])
                for key in ("previous_deadline", "deadline")
            )
        except (KeyError, TypeError, ValueError):
            return ""
        how = "extended" if after > before else "brought forward"
        return f"{how} from {format_moment(before)} to {format_moment(after)}"
    if event.action == Action.DEADLINE_NOTIFIED:
        return "emailed the new deadline"
    return ""


def _embargo_context(sign_on: SignOn) -> dict[str, object]:
    embargo = selectors.active_embargo(sign_on) if sign_on.status == SignOn.Status.CLOSED else None
    return {
        "embargo": embargo,
        "embargo_until": format_moment(embargo.until) if embargo else "",
    }
