"""Individuals approved by rule: where staff choose it per sign-on, a person who confirms their
address is listed at once, and staff review only the exceptions (issue 20, part 1)."""

import pytest
from django.test import Client
from django.urls import reverse

from coalition.crm.models import Organization
from signatories import selectors, services
from signatories.errors import SignOnError, TransitionNotAllowed
from signatories.models import Action, Signature, SignOn
from tests.factories import OrganizationFactory
from tests.signatories.test_open_link import confirmed, open_url, person_data, sign_personally
from tests.support.signing import SIGNATURE_LINK, STAFF_ACTOR

pytestmark = pytest.mark.django_db


def by_rule(sign_on: SignOn) -> SignOn:
    return services.approve_individuals_by_rule(sign_on=sign_on, approve=True, actor=STAFF_ACTOR)


def test_a_person_who_confirms_is_listed_at_once_and_told_so(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    by_rule(open_sign_on)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.UNCONFIRMED
    path = SIGNATURE_LINK.search(mailoutbox[-1].body).group(1)
    # Opening the emailed link (a mail scanner does) approves nothing.
    assert Client().get(path).status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.UNCONFIRMED

    visitor = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.post(path, {"action": "confirm"}, follow=True)
    assert "your signature is listed" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert signature.confirmed_at == signature.approved_at == signature.reviewed_at
    assert signature.reviewed_by is None
    event = open_sign_on.events.get(action=Action.CONFIRMED, signature=signature)
    assert event.detail == {"approved_by_rule": True, "held_by_rule": []}
    assert signature not in selectors.review_queue()
    assert mailoutbox[-1].subject.startswith("Signature listed")
    assert "Your address is confirmed, and your signature" in mailoutbox[-1].body
    assert "staff approved" not in mailoutbox[-1].body
    # It counts where every count comes from, and the record still holds.
    assert selectors.tally(open_sign_on).printed == 1
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


@pytest.mark.parametrize("rule", [True, False])
def test_people_are_told_before_they_confirm_whether_staff_review_them_first(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks, rule
):
    """The open link's page, its thanks and the email with the link say what confirming does:
    listed at once where the rule is on, reviewed by staff first where it is not."""
    if rule:
        by_rule(open_sign_on)
    listed, reviewed = "listed at once", "staff review"
    page = client.get(open_url(open_sign_on.token)).content.decode()
    assert (listed in page, "the coalition's staff review the signature" in page) == (
        rule,
        not rule,
    )
    # An organization asking through the same link is still reviewed first, and is told so.
    assert ("an organization's is reviewed" in page) == rule
    with django_capture_on_commit_callbacks(execute=True):
        thanks = client.post(open_url(open_sign_on.token), person_data(open_sign_on), follow=True)
    said = thanks.content.decode()
    assert (listed in said, reviewed in said) == (rule, not rule)
    email = mailoutbox[-1]
    assert email.subject.startswith("Confirm your request to sign")
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert (listed in body, reviewed in body) == (rule, not rule)


def test_the_exceptions_wait_for_staff_with_their_reasons(open_sign_on):
    by_rule(open_sign_on)
    OrganizationFactory(name="Ocean Friends")
    first = confirmed(sign_personally(open_sign_on, person="Ana Pérez", signer_email="a@x.org"))
    assert first.status == Signature.Status.APPROVED
    # The same line from another address: the same person twice?
    twice = confirmed(sign_personally(open_sign_on, person="Ana Pérez", signer_email="b@y.org"))
    # Another line of the same name (another title, here) is another person's.
    other = confirmed(
        sign_personally(open_sign_on, person="Ana Pérez", title="Poet", signer_email="c@y.org")
    )
    assert other.status == Signature.Status.APPROVED
    # A person's name that is an organization's.
    org = confirmed(sign_personally(open_sign_on, person="Ocean Friends", signer_email="o@z.org"))
    assert twice.status == org.status == Signature.Status.PENDING_REVIEW
    assert set(selectors.review_queue()) == {twice, org}
    [held] = open_sign_on.events.get(signature=twice, action=Action.CONFIRMED).detail[
        "held_by_rule"
    ]
    assert "has signed already, from another address" in held
    reasons = selectors.review_reasons(org)
    assert any("is the name of an organization, Ocean Friends" in r for r in reasons)
    # A request nobody confirmed is no standing line: it holds nobody back.
    sign_personally(open_sign_on, person="Bo Li", signer_email="bo1@x.org")
    assert confirmed(
        sign_personally(open_sign_on, person="Bo Li", signer_email="bo2@x.org")
    ).status == (Signature.Status.APPROVED)


def test_without_the_rule_staff_review_each_person(open_sign_on):
    assert open_sign_on.auto_approve_individuals is False
    signature = confirmed(sign_personally(open_sign_on))
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert open_sign_on.events.get(action=Action.CONFIRMED).detail == {}


def test_organizations_through_the_open_link_are_always_reviewed(open_sign_on):
    from tests.signatories.test_open_link import ask

    by_rule(open_sign_on)
    request = confirmed(ask(open_sign_on))
    assert request.status == Signature.Status.PENDING_REVIEW
    assert Organization.objects.get(pk=request.organization_id).status == "pending"


def test_staff_choose_the_rule_on_the_form_and_change_it_on_the_tracker(staff_client, open_sign_on):
    tracker = reverse("signatories_admin:tracker", args=[open_sign_on.pk])
    page = staff_client.get(tracker).content.decode()
    assert "Staff review each individual who confirms their address." in page
    rules = reverse("signatories_admin:approval_rules", args=[open_sign_on.pk])
    response = staff_client.post(rules, {"auto_approve_individuals": "on"}, follow=True)
    assert "are now listed at once" in response.content.decode()
    open_sign_on.refresh_from_db()
    assert open_sign_on.auto_approve_individuals is True
    assert (
        "listed as soon as they confirm their address" in staff_client.get(tracker).content.decode()
    )
    event = open_sign_on.events.get(action=Action.APPROVAL_RULES_CHANGED)
    assert event.detail == {"auto_approve_individuals": True}
    # Asking for the rule already in force is refused with a message, and records nothing.
    response = staff_client.post(rules, {"auto_approve_individuals": "on"}, follow=True)
    assert "That is the rule already." in response.content.decode()
    assert open_sign_on.events.filter(action=Action.APPROVAL_RULES_CHANGED).count() == 1
    staff_client.post(rules, {})
    open_sign_on.refresh_from_db()
    assert open_sign_on.auto_approve_individuals is False
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_the_rule_needs_a_letter_people_sign(sign_on):
    with pytest.raises(SignOnError, match="signed by organizations only") as refused:
        services.approve_individuals_by_rule(sign_on=sign_on, approve=True, actor=STAFF_ACTOR)
    assert refused.value.field == "auto_approve_individuals"


def test_the_rule_needs_a_sign_on_still_taking_people(open_sign_on):
    services.close_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    with pytest.raises(TransitionNotAllowed, match="nobody confirms"):
        by_rule(open_sign_on)


def test_the_open_form_sets_the_rule(staff_client, members):
    from tests.support.signing import approved_revision, open_form_data

    revision = approved_revision(accepts_individuals=True)
    data = open_form_data(
        revision.circulation_approval,
        members,
        accepts_requests="on",
        auto_approve_individuals="on",
        reminder_days="",
    )
    response = staff_client.post(reverse("signatories_admin:open"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SignOn.objects.get().auto_approve_individuals is True


def test_signing_through_the_open_link_keeps_no_session_and_shows_thanks_to_that_browser(
    client, open_sign_on
):
    from django.contrib.sessions.models import Session

    response = client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    thanks = reverse("signatories:open_link_thanks", args=[open_sign_on.token])
    assert response.status_code == 302 and response["Location"] == thanks
    # A hundred thousand people sign an open letter: none of them leaves a session row.
    assert Session.objects.count() == 0
    cookie = response.cookies["open_link_request"]
    assert cookie["httponly"] and cookie["path"] == thanks and cookie["samesite"] == "Lax"
    page = client.get(thanks)
    assert page.status_code == 200 and "jane@uni.example.org" in page.content.decode()
    # Another browser, or a cookie forged or made for another sign-on, sees the form again.
    assert Client().get(thanks)["Location"] == open_url(open_sign_on.token)
    forged = Client()
    forged.cookies["open_link_request"] = str(Signature.objects.get().pk)
    assert forged.get(thanks)["Location"] == open_url(open_sign_on.token)
