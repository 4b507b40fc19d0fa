"""Counts from one selector: the tracker's table and totals, its chart, its export and the signers'
"signed so far" agree, whatever state each organization and person is in."""

import csv
import io
from collections import Counter
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from letters.models import LetterPage
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.inputs import IndividualSigning, OrganizationRequest
from signatories.models import Invitation, Signature, SignOn
from tests.support.signing import (
    SIGNER,
    STAFF_ACTOR,
    approved_revision,
    decline,
    make_members,
    open_new_sign_on,
    sign,
    token_for,
    withdraw,
)

COLUMNS = list(selectors.COLUMNS)
STATE_OF_LABEL = {label: state for state, label in selectors.STATES.items()}


@dataclass
class EveryState:
    sign_on: SignOn
    invited: dict[str, Invitation]  # by the state its organization is in
    open_link: dict[str, Signature]


def request(sign_on: SignOn, name: str, email: str) -> Signature:
    return services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest(
            organization_name=name,
            display_name=name,
            signer_name="Sam Rivera",
            signer_title="Director",
            signer_email=email,
        ),
        text_hash=sign_on.text_hash,
        actor=SIGNER,
    )


def recirculate_material_change(sign_on: SignOn) -> SignOn:
    letter = LetterPage.objects.get(pk=sign_on.letter_id)
    letter.closing = "Respectfully,"
    revision = letter.save_revision()
    approve_for_circulation(revision=revision, user=None)
    return services.recirculate_sign_on(
        sign_on=sign_on, revision=revision, material=True, note="", actor=STAFF_ACTOR
    )


@pytest.fixture
def every_state(db) -> EveryState:
    """Eight invited organizations, one in each state, and four responses through the open link.

    Tiers go lead, steering, member in turn: the steering row holds a signature pending review,
    one withdrawn and one organization that never opened its invitation.
    """
    members = make_members(8)
    sign_on = open_new_sign_on(
        members, show_signatories=True, revision=approved_revision(accepts_individuals=True)
    )

    def invitation(index: int) -> Invitation:
        return Invitation.objects.select_related("sign_on", "organization").get(
            sign_on=sign_on, contact=members.contacts[index]
        )

    # Signed before a material change, not reconfirmed since.
    sign(invitation(2))
    recirculate_material_change(sign_on)
    sign_on.refresh_from_db()

    sign(invitation(0))
    sign(invitation(1), display_name="Widget Friends")  # another name: held for review
    decline(invitation(3), reason="Not our issue")
    withdraw(sign(invitation(4)), reason="Our board changed its mind")
    rejected = sign(invitation(5), display_name="Someone Else")
    services.reject_signature(signature=rejected, actor=STAFF_ACTOR, reason="Not them")
    services.record_invitation_opened(invitation=invitation(6), actor=SIGNER)

    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    unconfirmed = request(sign_on, "Unconfirmed Union", "uu@example.org")
    pending = services.confirm_signature(
        signature=request(sign_on, "Pending Partners", "pp@example.org"), actor=SIGNER
    )
    approved = services.confirm_signature(
        signature=request(sign_on, "Kept Coalition", "kc@example.org"), actor=SIGNER
    )
    services.approve_signature(signature=approved, actor=STAFF_ACTOR)
    individual = services.sign_as_individual(
        sign_on=sign_on,
        signing=IndividualSigning(person="Lee Ng", signer_email="lee@example.org"),
        text_hash=sign_on.text_hash,
        actor=SIGNER,
    )
    services.confirm_signature(signature=individual, actor=SIGNER)
    services.approve_signature(signature=individual, actor=STAFF_ACTOR)

    states = [
        "signed",
        "pending_review",
        "needs_reconfirmation",
        "declined",
        "withdrawn",
        "rejected",
        "opened",
        "sent",
    ]
    return EveryState(
        sign_on=sign_on,
        invited={state: invitation(i) for i, state in enumerate(states)},
        open_link={
            "unconfirmed": unconfirmed,
            "pending_review": pending,
            "signed": approved,
            "individual": individual,
        },
    )


INVITED_TOTALS = {
    "total": 8,
    "opened": 7,
    "signed": 1,
    "review": 1,
    "signer": 1,
    "declined": 1,
    "withdrawn": 2,
    "not_responded": 2,
}
OPEN_LINK_TOTALS = {
    "total": 4,
    "opened": 4,
    "signed": 2,
    "review": 1,
    "signer": 1,
    "declined": 0,
    "withdrawn": 0,
    "not_responded": 0,
}


def cells(row) -> list[str]:
    return [cell.get_text(strip=True) for cell in row.find_all(["th", "td"])]


def test_the_tracker_chart_export_and_public_count_agree_in_every_state(
    every_state, staff_client, client
):
    """Finding 3: while a signature waited for review a tier row of 3 showed 4 responses, the
    total read 15 of 14, and the chart said "signed (2)" where the public page said 1."""
    sign_on = every_state.sign_on
    counts = selectors.tally(sign_on)

    # Each organization in exactly one column, in the state it is in.
    assert {row.organization: row.state for row in counts.invited} == {
        invitation.organization: state for state, invitation in every_state.invited.items()
    }
    assert counts.totals == INVITED_TOTALS
    assert counts.open_link_totals == OPEN_LINK_TOTALS
    for totals in (counts.totals, counts.open_link_totals):
        assert totals["total"] == sum(totals[column] for column in COLUMNS)
    # What prints now: the approved signature of an invited organization, and two through the
    # open link (an organization and a person).
    assert counts.printed == 3 == len(selectors.printable_lines(sign_on))

    # The tracker's table: every tier row adds up to what it invited.
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert tracker.status_code == 200
    soup = BeautifulSoup(tracker.content, "html.parser")
    table = soup.find(id="counts")
    heading = cells(table.find("thead").find("tr"))
    assert heading[2:] == ["Invited", "Opened", *selectors.COLUMNS.values()]
    by_tier = {}
    for row in table.find("tbody").find_all("tr"):
        coalition, tier, *numbers = cells(row)
        invited, _opened, *columns = (int(n) for n in numbers)
        assert invited == sum(columns), (tier, numbers)
        assert coalition == "Digital Trade Coalition"
        by_tier[tier] = dict(zip(COLUMNS, columns, strict=True))
    nothing = dict.fromkeys(COLUMNS, 0)
    assert by_tier == {
        "Lead": {**nothing, "signed": 1, "declined": 1, "not_responded": 1},
        "Steering": {**nothing, "review": 1, "withdrawn": 1, "not_responded": 1},
        "Member": {**nothing, "signer": 1, "withdrawn": 1},
    }
    total = cells(table.find("tfoot").find("tr"))
    assert total[0] == "Total"
    assert [int(n) for n in total[1:]] == [INVITED_TOTALS[k] for k in ("total", "opened", *COLUMNS)]
    assert soup.find(id="printed-count").get_text() == "3"
    # Holds counted by who must act: staff (the review queue, exactly), or the signer.
    assert counts.waiting_for_review == selectors.review_queue().count() == 2
    assert counts.waiting_for_signer == 2
    assert soup.find(id="holds-for-review").get_text() == "2"
    assert soup.find(id="holds-for-signer").get_text() == "2"
    assert (
        soup.find(id="open-link-counts")
        .get_text(" ", strip=True)
        .startswith(
            "Through the open link, outside the invited audience: 4 (2 signed, 1 waiting for "
            "staff review, 1 waiting for the signer to confirm or reconfirm, 0 withdrawn or "
            "rejected)."
        )
    )
    # Open-link responses are rows of the table too, with their state.
    listed = {
        cells(row)[0]: cells(row)[2]
        for row in soup.find(id="organizations").find("tbody").find_all("tr")
    }
    assert len(listed) == 12
    assert {name: listed[name] for name in ("Unconfirmed Union", "Pending Partners")} == {
        "Unconfirmed Union": "Asked to sign, email not confirmed",
        "Pending Partners": "Signed, pending review",
    }
    assert listed["Kept Coalition"] == listed["Lee Ng"] == "Signed"

    # The chart ends where the tally stands, and its legend says so.
    chart = selectors.response_chart(sign_on)
    assert chart.totals == {
        "signed": counts.totals["signed"] + counts.open_link_totals["signed"],
        "pending": counts.waiting_for_review + counts.waiting_for_signer,
        "declined": counts.totals["declined"] + counts.open_link_totals["declined"],
    }
    assert chart.totals == {"signed": 3, "pending": 4, "declined": 1}
    html = tracker.content.decode()
    assert ">signed (3)<" in html and ">pending (4)<" in html and ">declined (1)<" in html

    # The export: one row each, in the same state.
    export = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "csv"]))
    body = b"".join(export.streaming_content).decode()
    heading, *rows = list(csv.reader(io.StringIO(body)))
    name, how, state = (heading.index(h) for h in ("Organization or person", "How", "State"))
    assert len(rows) == 12 == len({row[name] for row in rows})
    columns_of = {
        source: Counter(
            selectors.COLUMN_OF_STATE[STATE_OF_LABEL[row[state]]]
            for row in rows
            if (row[how] == "Invited") == (source == "invited")
        )
        for source in ("invited", "open_link")
    }
    assert {c: columns_of["invited"][c] for c in COLUMNS} == {c: INVITED_TOTALS[c] for c in COLUMNS}
    assert {c: columns_of["open_link"][c] for c in COLUMNS} == {
        c: OPEN_LINK_TOTALS[c] for c in COLUMNS
    }
    assert sorted(row[how] for row in rows if row[how] != "Invited") == [
        "Open link (individual)",
        "Open link (organization)",
        "Open link (organization)",
        "Open link (organization)",
    ]

    # What signers are told: the lines that print, organizations and people apart.
    said = selectors.signed_so_far(sign_on)
    assert said == "2 organizations and 1 individual have signed so far."
    page = client.get(reverse("signatories:sign", args=[token_for(every_state.invited["opened"])]))
    assert f'<p class="signed-so-far">{said}</p>' in page.content.decode()


def test_a_pending_signature_moves_from_pending_to_signed_everywhere_at_once(
    every_state, staff_client
):
    """Finding 3: approving a signature must move it in the table, the chart and the public count
    together."""
    sign_on = every_state.sign_on
    pending = every_state.invited["pending_review"]
    signature = selectors.active_response(sign_on, pending.organization_id)

    services.approve_signature(signature=signature, actor=STAFF_ACTOR)

    counts = selectors.tally(sign_on)
    assert (counts.totals["signed"], counts.totals["review"], counts.totals["signer"]) == (2, 0, 1)
    assert counts.totals["total"] == 8
    assert selectors.response_chart(sign_on).totals == {"signed": 4, "pending": 3, "declined": 1}
    assert counts.printed == 4 == len(selectors.printable_lines(sign_on))
    assert (
        selectors.signed_so_far(sign_on) == "3 organizations and 1 individual have signed so far."
    )
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    soup = BeautifulSoup(tracker.content, "html.parser")
    assert soup.find(id="printed-count").get_text() == "4"
