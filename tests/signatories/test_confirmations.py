"""Nothing that emails people or cannot be undone happens on one click: a page shows who and what
first, and only its POST acts (invite those added since, close early, move the deadline, publish a
correction, withdraw a printed signature, a signer's withdrawal)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from letters.models import Publication
from signatories import services
from signatories.inputs import Forwarding
from signatories.models import Invitation, Signature, SignOn
from tests.factories import ContactFactory, MembershipFactory, OrganizationFactory
from tests.support.signing import STAFF_ACTOR, open_new_sign_on, sign, sign_data, token_for

from .test_admin import unchanged

ET = ZoneInfo("America/New_York")


def tracker(client, sign_on: SignOn) -> str:
    return client.get(reverse("signatories_admin:tracker", args=[sign_on.pk])).content.decode()


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


# Inviting those added since -------------------------------------------------------------------


@pytest.fixture
def grown(members, sign_on):
    """After opening: a member joined with a signer, another joined with nobody to email, and an
    invited member got a second authorized signer."""
    joined = OrganizationFactory(name="Gadget Guild", acronym="GG")
    MembershipFactory(coalition=members.coalition, organization=joined)
    newcomer = ContactFactory(
        organization=joined,
        name="Nia Newcomer",
        email="nia@gadgets.example.org",
        is_authorized_signer=True,
    )
    silent = OrganizationFactory(name="Quiet Makers", acronym="QM")
    MembershipFactory(coalition=members.coalition, organization=silent)
    colleague = ContactFactory(
        organization=members.organizations[0],
        name="Cal Colleague",
        email="cal@awm0.example.org",
        is_authorized_signer=True,
    )
    return {"joined": joined, "silent": silent, "newcomer": newcomer, "colleague": colleague}


def test_the_tracker_tells_who_joined_later_from_who_has_nobody_to_email(
    staff_client, sign_on, grown
):
    html = tracker(staff_client, sign_on)

    joined_later = section(html, 'id="joined-later"', "</p>")
    assert "Joined later — invite them?" in joined_later
    assert "Gadget Guild" in joined_later
    assert "Quiet Makers" not in joined_later
    not_invited = section(html, 'id="not-invited"', "</p>")
    assert "for want of a contact who may be emailed" in not_invited
    assert "Quiet Makers" in not_invited
    assert "Gadget Guild" not in not_invited
    url = reverse("signatories_admin:invite", args=[sign_on.pk])
    assert f'id="invite-link" href="{url}"' in html
    assert f'action="{url}"' not in html


def test_inviting_those_added_since_lists_them_first_and_invites_only_them(
    staff_client, sign_on, grown, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding: "Invite people added since" invited 16 organizations at one click, with no list."""
    url = reverse("signatories_admin:invite", args=[sign_on.pk])
    before = unchanged(sign_on)

    page = staff_client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong id="invite-count">2 people</strong>' in html
    listed = section(html, '<ul id="invite-recipients">', "</ul>")
    assert "Gadget Guild" in listed and "(joined later)" in listed
    assert "Nia Newcomer &lt;nia@gadgets.example.org&gt;" in listed
    assert "Cal Colleague &lt;cal@awm0.example.org&gt;" in listed
    assert "pat0@awm0.example.org" not in listed  # invited already
    assert "Quiet Makers" in section(html, 'id="invite-unreachable"', "</p>")
    assert unchanged(sign_on) == before
    assert mailoutbox == []

    # Someone added while the page was open was not shown: not invited by its POST.
    ContactFactory(
        organization=grown["joined"], email="late@gadgets.example.org", is_authorized_signer=True
    )
    shown = [grown["newcomer"].pk, grown["colleague"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"contact": shown})

    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == [
        "cal@awm0.example.org",
        "nia@gadgets.example.org",
    ]
    assert set(
        Invitation.objects.filter(sign_on=sign_on).values_list("contact_id", flat=True)
    ) >= set(shown)
    assert not Invitation.objects.filter(email="late@gadgets.example.org").exists()


def test_a_post_naming_nobody_invites_nobody(staff_client, sign_on, grown, mailoutbox):
    before = unchanged(sign_on)
    response = staff_client.post(reverse("signatories_admin:invite", args=[sign_on.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("signatories_admin:invite", args=[sign_on.pk])
    assert unchanged(sign_on) == before
    assert mailoutbox == []


# Closing early ---------------------------------------------------------------------------------


def test_closing_early_says_what_it_means_and_the_tally_first(staff_client, sign_on, invitations):
    """Finding: "Close early" closed at one click."""
    sign(invitations[0])
    url = reverse("signatories_admin:close", args=[sign_on.pk])
    html = tracker(staff_client, sign_on)
    assert f'href="{url}"' in html
    assert f'action="{url}"' not in html
    before = unchanged(sign_on)

    page = staff_client.get(url)

    assert page.status_code == 200
    text = page.content.decode()
    meaning = section(text, 'id="close-meaning"', "</p>")
    assert "before its deadline" in meaning
    assert "every response is refused" in meaning
    assert "Nobody is emailed" in meaning
    assert "cannot be opened again" in meaning
    assert '<th scope="row">Signed</th><td>1</td>' in text
    assert '<th scope="row">Not responded</th><td>2</td>' in text
    assert unchanged(sign_on) == before

    assert staff_client.post(url).status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.CLOSED


def test_once_closed_the_tracker_shows_no_open_link_and_no_reminder_schedule(
    staff_client, sign_on, invitations, django_capture_on_commit_callbacks
):
    services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    open_page = tracker(staff_client, sign_on)
    assert "An open link is on" in open_page
    assert 'id="reminders"' in open_page

    sign(invitations[0])
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    closed = tracker(staff_client, sign_on)
    assert "An open link is on" not in closed
    assert "No open link: the sign-on is closed" in closed
    assert 'id="reminders"' not in closed
    assert "Extend or move the deadline" not in closed

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    published = tracker(staff_client, sign_on)
    assert "An open link is on" not in published
    assert "No open link: the sign-on is published" in published
    assert 'id="reminders"' not in published


# Moving the deadline ---------------------------------------------------------------------------


@pytest.fixture
def at_noon(members):
    """An open sign-on, its deadline 3 days out, with the clock frozen on a January noon in New York."""
    with time_machine.travel(datetime.datetime(2027, 1, 11, 12, 0, tzinfo=ET), tick=False):
        yield open_new_sign_on(members)


def test_the_deadline_moves_through_a_page_that_shows_the_new_date_and_who_is_told(
    at_noon, staff_client, members, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = at_noon
    invitations = list(sign_on.invitations.order_by("organization__name"))
    sign(invitations[0])
    url = reverse("signatories_admin:deadline", args=[sign_on.pk])
    assert f'href="{url}"' in tracker(staff_client, sign_on)
    form = staff_client.get(url)
    assert form.status_code == 200
    assert 'value="2027-01-14T12:00"' in form.content.decode()
    before = unchanged(sign_on)
    mailoutbox.clear()

    page = staff_client.get(url, {"deadline": "2027-01-21T17:00"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "extended to <strong>21 January at 17:00 ET</strong>" in html
    assert '<strong id="deadline-count">2 people</strong>' in html
    listed = section(html, '<ul id="deadline-recipients">', "</ul>")
    assert invitations[0].email not in listed
    for invitation in invitations[1:]:
        assert f"{invitation.name} &lt;{invitation.email}&gt;" in listed
    assert "reminders follow the new deadline: 7 and 2 days before the deadline (14 January" in html
    assert '<input type="hidden" name="deadline" value="2027-01-21T17:00">' in html
    assert unchanged(sign_on) == before
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"deadline": "2027-01-21T17:00"})

    assert response.status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.deadline == datetime.datetime(2027, 1, 21, 17, 0, tzinfo=ET)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(i.email for i in invitations[1:])


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_deadline_in_the_past_is_a_field_error(at_noon, staff_client, method):
    sign_on = at_noon
    before = unchanged(sign_on)
    url = reverse("signatories_admin:deadline", args=[sign_on.pk])

    response = getattr(staff_client, method)(url, {"deadline": "2027-01-10T09:00"})

    assert response.status_code == 400
    assert (
        "New deadline: The deadline must be in the future, not in the past."
        in response.content.decode()
    )
    assert unchanged(sign_on) == before
    response = staff_client.get(url, {"deadline": "not a date"})
    assert response.status_code == 400
    assert "New deadline: Enter a valid date/time." in response.content.decode()
    # The last day there is: no date to move to, a field error all the same.
    response = getattr(staff_client, method)(url, {"deadline": "9999-12-31T23:59"})
    assert response.status_code == 400
    assert "New deadline: The deadline must be within 730 days" in response.content.decode()
    assert unchanged(sign_on) == before


# Corrections -----------------------------------------------------------------------------------


@pytest.fixture
def published(members, sign_on, django_capture_on_commit_callbacks):
    invitations = list(sign_on.invitations.order_by("organization__name"))
    sign(invitations[0])
    sign(invitations[1])
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    sign_on.refresh_from_db()
    return sign_on


def test_a_correction_shows_the_version_it_will_publish_before_publishing(
    staff_client, published, members, django_capture_on_commit_callbacks
):
    letter = published.letter
    services.add_signatory(
        letter=letter,
        organization=members.organizations[2],
        display_name="Late Signers",
        reason="Signed by email.",
        actor=STAFF_ACTOR,
    )
    first = Signature.objects.get(organization=members.organizations[0], letter=letter)
    services.retract_signature(signature=first, reason="Asked by phone.", actor=STAFF_ACTOR)
    corrections = staff_client.get(reverse("signatories_admin:corrections", args=[letter.pk]))
    url = reverse("signatories_admin:publish_correction", args=[letter.pk])
    assert f'action="{url}"' in corrections.content.decode()

    page = staff_client.get(url, {"note": "Adds Late Signers; withdraws one."})

    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong id="correction-version">version 2</strong>' in html
    changes = section(html, '<ul id="correction-changes"', "</ul>")
    assert "<li>Added: Late Signers</li>" in changes
    assert f"<li>Removed: {first.display_name}</li>" in changes
    assert "The text stays as in version 1." in changes
    assert Publication.objects.filter(letter=letter).count() == 1

    # Another signatory added while the page was open: its POST publishes nothing.
    services.add_signatory(
        letter=letter, display_name="Later Still", reason="Email.", actor=STAFF_ACTOR
    )
    stale = staff_client.post(
        url,
        {"note": "Adds Late Signers; withdraws one.", "fingerprint": page.context["fingerprint"]},
    )
    assert stale.status_code == 409
    assert "nothing was published" in stale.content.decode()
    assert "<li>Added: Later Still</li>" in stale.content.decode()
    assert Publication.objects.filter(letter=letter).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(
            url,
            {
                "note": "Adds Late Signers; withdraws one.",
                "fingerprint": stale.context["fingerprint"],
            },
        )
    assert done.status_code == 302
    latest = Publication.objects.get(letter=letter, is_current=True)
    assert latest.version == 2
    assert sorted(latest.changes["added"]) == ["Late Signers", "Later Still"]


def test_a_correction_without_a_note_is_refused_by_its_field(staff_client, published):
    url = reverse("signatories_admin:publish_correction", args=[published.letter_id])
    response = staff_client.get(url, {"note": ""})
    assert response.status_code == 400
    assert "What the correction corrects" in response.content.decode()
    assert "Say what the correction corrects: it prints on the letter." in response.content.decode()


def test_withdrawing_a_printed_signature_asks_first(staff_client, published, members):
    letter = published.letter
    signature = Signature.objects.get(organization=members.organizations[0], letter=letter)
    url = reverse("signatories_admin:retract", args=[letter.pk, signature.pk])
    corrections = staff_client.get(reverse("signatories_admin:corrections", args=[letter.pk]))
    assert f'href="{url}"' in corrections.content.decode()
    assert 'value="retract"' not in corrections.content.decode()

    page = staff_client.get(url)

    assert page.status_code == 200
    meaning = section(page.content.decode(), 'id="retract-meaning"', "</p>")
    assert signature.display_name in meaning
    assert "stops printing from the next correction" in meaning
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert staff_client.post(url, {"reason": ""}).status_code == 400

    response = staff_client.post(url, {"reason": "Asked by phone."})

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN


# A signer's withdrawal -------------------------------------------------------------------------


def test_a_signers_withdrawal_from_the_invitation_asks_once(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding: a signer's withdrawal was one click."""
    client.post(
        reverse("signatories:sign", args=[tokens[0]]),
        sign_data(sign_on, invitations[0].organization),
    )
    url = reverse("signatories:sign", args=[tokens[0]])
    page = client.get(url).content.decode()
    form = section(page, '<form method="get"', "</form>")
    assert 'name="withdraw" value="1">Withdraw the signature…</button>' in form
    assert 'value="withdraw"' not in page

    question = client.get(url, {"withdraw": "1"})

    assert question.status_code == 200
    html = question.content.decode()
    organization = invitations[0].organization.name
    assert f"Withdraw the signature of {organization} from “A joint letter on widgets”?" in html
    consequences = section(html, '<ul id="withdraw-consequences">', "</ul>")
    assert "it is not listed on the letter" in consequences
    assert "gets an email confirming the withdrawal" in consequences
    assert "may sign again from the invitation link" in consequences
    assert 'value="withdraw">Withdraw the signature</button>' in html
    assert Signature.objects.get().status == Signature.Status.APPROVED

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "withdraw", "withdraw-reason": "Board said no"})

    assert response.status_code == 302
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN
    assert mailoutbox[-1].subject.startswith("Signature withdrawn")


def test_only_who_may_withdraw_is_asked(client, sign_on, invitations):
    """A colleague the request was passed to, who is no authorized signer, cannot withdraw the
    director's signature: no question for them."""
    forwarded = services.forward_invitation(
        invitation=invitations[0],
        forwarding=Forwarding(name="Cal Colleague", email="cal@awm0.example.org"),
        actor=STAFF_ACTOR,
    )
    sign(invitations[0])
    url = reverse("signatories:sign", args=[token_for(forwarded)])
    html = client.get(url, {"withdraw": "1"}).content.decode()
    assert "Withdraw the signature of" not in html
    assert "has signed" in html
