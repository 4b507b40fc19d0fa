"""The open link (/sign/open/<token>/): organizations that were not invited ask to sign, people
sign in a personal capacity; every request is confirmed by email before staff review it."""

import datetime
import re

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from coalition.crm.models import Organization
from signatories import selectors, services, tokens
from signatories.inputs import IndividualSigning, OrganizationRequest, Withdrawing
from signatories.models import Action, Signature, SignOn
from tests.factories import OrganizationFactory
from tests.support.signing import (
    SIGNATURE_LINK,
    STAFF_ACTOR,
    approved_revision,
    open_form_data,
    open_new_sign_on,
    sign_data,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
OPEN_LINK = re.compile(r"http://[^/\s]+(/sign/open/[A-Za-z0-9_-]{43}/)")
ORGANIZATIONS = "/admin/coalition/organizations/"


def open_url(token: str) -> str:
    return reverse("signatories:open_link", args=[token])


def org_data(sign_on: SignOn, **overrides) -> dict:
    data = {
        "org-organization_name": "Widget Repair Guild",
        "org-acronym": "WRG",
        "org-website": "https://wrg.example.org",
        "org-display_name": "Widget Repair Guild (WRG)",
        "org-signer_name": "Robin Fixer",
        "org-signer_title": "Chair",
        "org-signer_email": "robin@wrg.example.org",
        "org-authorized": "on",
        "org-text_hash": sign_on.text_hash,
        "action": "organization",
    }
    data.update({f"org-{k}" if k != "action" else k: v for k, v in overrides.items()})
    return data


def person_data(sign_on: SignOn, **overrides) -> dict:
    data = {
        "person-person": "Jane Doe",
        "person-title": "Professor of Economics",
        "person-affiliation": "University of Somewhere",
        "person-signer_email": "jane@uni.example.org",
        "person-text_hash": sign_on.text_hash,
        "action": "individual",
    }
    data.update({f"person-{k}" if k != "action" else k: v for k, v in overrides.items()})
    return data


def ask(sign_on: SignOn, *, text_hash: str | None = None, **overrides) -> Signature:
    """An organization asks to sign through the service, as the open link's form would."""
    fields = {
        "organization_name": "Widget Repair Guild",
        "acronym": "WRG",
        "display_name": "Widget Repair Guild (WRG)",
        "signer_name": "Robin Fixer",
        "signer_title": "Chair",
        "signer_email": "robin@wrg.example.org",
        "authorized": True,
        **overrides,
    }
    return services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest.clean(fields),
        text_hash=sign_on.text_hash if text_hash is None else text_hash,
        actor=STAFF_ACTOR,
    )


def sign_personally(sign_on: SignOn, *, text_hash: str | None = None, **overrides) -> Signature:
    fields = {
        "person": "Jane Doe",
        "title": "Professor",
        "affiliation": "University of Somewhere",
        "signer_email": "jane@uni.example.org",
        **overrides,
    }
    return services.sign_as_individual(
        sign_on=sign_on,
        signing=IndividualSigning.clean(fields),
        text_hash=sign_on.text_hash if text_hash is None else text_hash,
        actor=STAFF_ACTOR,
    )


def confirmed(signature: Signature) -> Signature:
    """The signer followed the emailed link and pressed "Confirm"."""
    return services.confirm_signature(signature=signature, actor=STAFF_ACTOR)


def test_staff_create_an_open_link_shown_once_and_only_its_hash_is_kept(
    staff_client, sign_on, client
):
    tracker = reverse("signatories_admin:tracker", args=[sign_on.pk])
    assert "No open link" in staff_client.get(tracker).content.decode()
    response = staff_client.post(
        reverse("signatories_admin:issue_open_link", args=[sign_on.pk]),
        {"accepts_requests": "on"},
    )
    assert response["Location"] == tracker
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    path = OPEN_LINK.search(message).group(1)
    token = path.split("/")[-2]
    sign_on.refresh_from_db()
    assert sign_on.accepts_requests
    assert sign_on.open_link_token_hash == tokens.digest(token)
    assert path in staff_client.get(tracker).content.decode()  # the message, shown once
    page = staff_client.get(tracker).content.decode()
    assert token not in page
    assert "An open link is on" in page
    assert client.get(path).status_code == 200

    # Replacing it retires the old address.
    staff_client.post(
        reverse("signatories_admin:issue_open_link", args=[sign_on.pk]),
        {"accepts_requests": "on"},
    )
    assert client.get(path).status_code == 404
    staff_client.post(reverse("signatories_admin:close_open_link", args=[sign_on.pk]))
    sign_on.refresh_from_db()
    assert sign_on.open_link_token_hash == ""
    actions = list(sign_on.events.values_list("action", flat=True))
    assert actions[-3:] == [
        Action.OPEN_LINK_ISSUED,
        Action.OPEN_LINK_ISSUED,
        Action.OPEN_LINK_CLOSED,
    ]
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_an_open_link_needs_someone_who_could_use_it(sign_on):
    with pytest.raises(services.SignOnError, match="Nobody could sign"):
        services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR)
    with pytest.raises(services.TransitionNotAllowed, match="no open link to turn off"):
        services.close_open_link(sign_on=sign_on, actor=STAFF_ACTOR)


def test_the_open_form_can_create_the_open_link(staff_client, members):
    revision = approved_revision()
    data = open_form_data(
        revision.circulation_approval, members, accepts_requests="on", reminder_days=""
    )
    response = staff_client.post(reverse("signatories_admin:open"), data, follow=True)
    sign_on = SignOn.objects.get()
    assert sign_on.accepts_requests and sign_on.open_link_token_hash
    html = response.content.decode()
    path = OPEN_LINK.search(html).group(1)
    assert sign_on.open_link_token_hash == tokens.digest(path.split("/")[-2])


def test_opening_the_page_shows_the_frozen_letter_and_changes_nothing(
    client, open_sign_on, django_assert_max_num_queries
):
    letter = open_sign_on.letter
    letter.title = "A later draft"
    letter.save_revision()
    events = open_sign_on.events.count()
    with django_assert_max_num_queries(20):
        response = client.get(open_url(open_sign_on.token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "We write about widgets." in html
    assert "A joint letter on widgets" in html
    assert "A later draft" not in html
    assert "closes in 3 days" in html
    assert "Sign for an organization" in html
    assert "I am authorized to sign on behalf of this organization" in html
    assert "Sign in a personal capacity" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert open_sign_on.events.count() == events
    assert not Signature.objects.exists()


def test_only_the_forms_the_sign_on_takes_are_shown(client, members):
    sign_on = open_new_sign_on(members)
    token = services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    html = client.get(open_url(token)).content.decode()
    assert "Sign for an organization" in html
    assert "Sign in a personal capacity" not in html
    response = client.post(open_url(token), person_data(sign_on))
    assert response.status_code == 400
    assert not Signature.objects.exists()
    with pytest.raises(services.SignOnError, match="organizations only"):
        sign_personally(sign_on)


def test_a_forged_or_turned_off_link_is_not_found(client, open_sign_on):
    assert client.get(open_url("x" * 43)).status_code == 404
    assert client.get(open_url("short")).status_code == 404
    services.close_open_link(sign_on=open_sign_on, actor=STAFF_ACTOR)
    assert client.get(open_url(open_sign_on.token)).status_code == 404
    assert client.post(open_url(open_sign_on.token), org_data(open_sign_on)).status_code == 404
    assert not Signature.objects.exists()


def test_an_organization_asks_to_sign_and_is_emailed_a_link_to_confirm(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    assert response.status_code == 302
    thanks = client.get(response["Location"]).content.decode()
    assert "Check your email to confirm" in thanks
    assert "robin@wrg.example.org" in thanks
    assert "Widget Repair Guild (WRG)" in thanks
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.UNCONFIRMED
    assert signature.invitation is None
    assert signature.signer_email == "robin@wrg.example.org"
    organization = signature.organization
    assert organization.name == "Widget Repair Guild"
    assert organization.kind == Organization.Kind.OTHER
    assert organization.status == Organization.Status.PENDING
    assert "open link" in organization.description
    event = open_sign_on.events.get(action=Action.REQUESTED)
    assert event.signature == signature and event.detail["organization_created"]
    [email] = mailoutbox
    assert email.to == ["robin@wrg.example.org"]
    assert email.subject.startswith("Confirm your request to sign")
    assert "Widget Repair Guild" in email.body
    assert SIGNATURE_LINK.search(email.body)
    # Another browser with the same shared link does not see the request.
    assert Client().get(response["Location"]).status_code == 302

    confirmed(signature)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert any(
        "not in the CRM yet: it asked to sign through the open link" in reason
        for reason in selectors.review_reasons(signature)
    )


def test_a_known_organization_is_matched_by_name_or_acronym(open_sign_on):
    known = OrganizationFactory(name="The Widget Repair Guild", acronym="TWRG")
    first = ask(open_sign_on)
    assert first.organization == known
    services.withdraw_signature(signature=first, withdrawing=Withdrawing(), actor=STAFF_ACTOR)
    second = ask(open_sign_on, organization_name="Guild of Menders", acronym="twrg")
    assert second.organization == known
    assert Organization.objects.filter(name__icontains="Guild").count() == 1
    assert known.status == Organization.Status.ACTIVE
    assert any(
        "was not invited" in reason for reason in selectors.review_reasons(confirmed(second))
    )


def test_an_invited_organization_is_told_to_use_its_invitation(client, open_sign_on, members):
    invited = members.organizations[0]
    response = client.post(
        open_url(open_sign_on.token),
        org_data(open_sign_on, organization_name=invited.name.upper(), acronym=""),
    )
    assert response.status_code == 409
    assert "was invited to sign this letter: use the link in the invitation" in (
        response.content.decode()
    )
    with pytest.raises(services.AlreadyResponded, match="invited"):
        ask(open_sign_on, organization_name="Something", acronym="awm1")
    assert not Signature.objects.exists()


def test_a_second_response_from_the_same_organization_is_refused(client, open_sign_on):
    confirmed(ask(open_sign_on))
    response = client.post(
        open_url(open_sign_on.token),
        org_data(
            open_sign_on,
            organization_name="widget repair guild",
            signer_name="Sam Other",
            signer_email="sam@wrg.example.org",
        ),
    )
    assert response.status_code == 409
    # Named as the CRM holds it: the pending organization holds nothing a request typed.
    assert "Robin Fixer (Chair) already signed for Widget Repair Guild on" in (
        response.content.decode()
    )
    assert Signature.objects.count() == 1


def test_a_strangers_request_cannot_cancel_the_real_one_nor_be_cancelled_by_it(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    """Issue 15: a later request for the same name cancelled an earlier unconfirmed one, so a
    stranger could cancel a real request. Both now wait; the first one confirmed goes to review."""
    squatter = ask(open_sign_on, signer_name="Mallory Squat", signer_email="m@elsewhere.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            open_url(open_sign_on.token),
            org_data(
                open_sign_on,
                organization_name="widget repair guild",
                signer_name="Sam Real",
                signer_email="sam@wrg.example.org",
            ),
        )
    assert response.status_code == 302
    assert "Mallory" not in client.get(response["Location"]).content.decode()
    real = Signature.objects.get(signer_email="sam@wrg.example.org")
    squatter.refresh_from_db()
    assert (squatter.status, real.status) == ("unconfirmed", "unconfirmed")
    assert squatter.organization == real.organization
    assert not open_sign_on.events.filter(action="request_replaced").exists()
    # A third request, the stranger again, cancels nothing either.
    ask(open_sign_on, signer_name="Mallory Again", signer_email="m2@elsewhere.example")
    assert Signature.objects.filter(status="unconfirmed").count() == 3

    path = SIGNATURE_LINK.search(mailoutbox[-1].body).group(1)
    assert client.post(path, {"action": "confirm"}).status_code == 302
    real.refresh_from_db()
    assert real.status == Signature.Status.PENDING_REVIEW
    # The stranger's confirms nothing now: the real request is in review, and theirs waits.
    with pytest.raises(services.AlreadyResponded, match=r"Sam Real \(Chair\) already signed"):
        confirmed(squatter)
    squatter.refresh_from_db()
    assert squatter.status == Signature.Status.UNCONFIRMED
    assert list(selectors.review_queue()) == [real]
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_after_a_material_change_the_first_request_reconfirmed_goes_to_review(open_sign_on):
    """Reconfirming proves the address as confirming does: the first one wins, the other waits."""
    from .test_recirculation import recirculate

    first = ask(open_sign_on)
    second = ask(open_sign_on, signer_name="Sam Other", signer_email="sam@wrg.example.org")
    recirculate(open_sign_on, material=True)
    open_sign_on.refresh_from_db()
    services.reconfirm_signature(
        signature=second, text_hash=open_sign_on.text_hash, actor=STAFF_ACTOR
    )
    with pytest.raises(services.AlreadyResponded, match=r"Sam Other \(Chair\) already signed"):
        services.reconfirm_signature(
            signature=first, text_hash=open_sign_on.text_hash, actor=STAFF_ACTOR
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (
        Signature.Status.NEEDS_RECONFIRMATION,
        Signature.Status.PENDING_REVIEW,
    )
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_the_database_holds_one_confirmed_answer_per_organization(open_sign_on):
    """Requests nobody confirmed may wait side by side; two confirmed ones may not."""
    first = ask(open_sign_on)
    second = ask(open_sign_on, signer_email="sam@wrg.example.org")
    confirmed(first)
    Signature.objects.filter(pk=second.pk).update(
        status=Signature.Status.NEEDS_RECONFIRMATION,
        status_before_reconfirmation=Signature.Status.UNCONFIRMED,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=second.pk).update(
            status=Signature.Status.NEEDS_RECONFIRMATION,
            status_before_reconfirmation=Signature.Status.PENDING_REVIEW,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=second.pk).update(status=Signature.Status.PENDING_REVIEW)
    person = sign_personally(open_sign_on)
    again = sign_personally(open_sign_on, person="J. Doe")
    assert {person.status, again.status} == {Signature.Status.UNCONFIRMED}
    confirmed(person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=again.pk).update(status=Signature.Status.APPROVED)


@pytest.mark.parametrize("kind", ["person", "organization"])
def test_two_confirmed_in_the_same_moment_the_second_is_refused_by_name(
    open_sign_on, monkeypatch, kind
):
    """Whether another request was confirmed first is read before the sign-on's lock: the one
    that read it in the moment before the other committed meets the constraint under the lock,
    and is refused with the same words, its request left as it was."""
    if kind == "person":
        first = sign_personally(open_sign_on)
        second = sign_personally(open_sign_on, person="J. Doe")
        looked_up, words = "active_individual", r"jane@uni.example.org already signed this letter"
    else:
        first = ask(open_sign_on)
        second = ask(open_sign_on, signer_name="Sam Other", signer_email="sam@wrg.example.org")
        looked_up, words = "active_response", r"Robin Fixer \(Chair\) already signed"
    confirmed(first)
    events = open_sign_on.events.count()
    read = getattr(selectors, looked_up)
    calls = []

    def before_the_first_committed(*args):
        calls.append(args)
        return None if len(calls) == 1 else read(*args)

    monkeypatch.setattr(selectors, looked_up, before_the_first_committed)
    with pytest.raises(services.AlreadyResponded, match=words):
        confirmed(second)
    assert len(calls) == 2  # before the lock, then for the words
    second.refresh_from_db()
    assert second.status == Signature.Status.UNCONFIRMED
    assert open_sign_on.events.count() == events
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_a_pending_organization_holds_nothing_a_stranger_typed(
    staff_client, open_sign_on, django_capture_on_commit_callbacks
):
    """Issue 15: a stranger's unconfirmed request fixed the pending organization's website (and
    acronym), and the real organization's later request took it over."""
    stranger = ask(
        open_sign_on,
        acronym="EVIL",
        website="https://evil.example",
        display_name="Widget Repair Guild (EVIL)",
        signer_name="Mallory Squat",
        signer_email="m@elsewhere.example",
    )
    organization = stranger.organization
    assert organization.status == Organization.Status.PENDING
    assert (organization.acronym, organization.website) == ("", "")
    assert (stranger.organization_name, stranger.acronym, stranger.website) == (
        "Widget Repair Guild",
        "EVIL",
        "https://evil.example",
    )
    # The stranger's acronym does not make another organization's request theirs.
    other = ask(open_sign_on, organization_name="Entirely Other Body", acronym="EVIL")
    assert other.organization != organization

    real = ask(open_sign_on, website="https://wrg.example.org", signer_email="robin@wrg.example")
    assert real.organization == organization
    assert (real.acronym, real.website) == ("WRG", "https://wrg.example.org")
    organization.refresh_from_db()
    assert (organization.acronym, organization.website) == ("", "")
    confirmed(real)

    # Staff see each request's own details, side by side where they disagree.
    review = staff_client.get(reverse("signatories_admin:review"))
    soup = BeautifulSoup(review.content, "html.parser")
    item = soup.find(id=f"review-{real.pk}")
    table = item.find("table", class_="requests")
    rows = {
        row.find("th").get_text(" ", strip=True): [td.get_text(strip=True) for td in row("td")]
        for row in table.find("tbody").find_all("tr")
    }
    assert rows["Website (differs)"] == ["https://evil.example", "https://wrg.example.org"]
    assert rows["Acronym (differs)"] == ["EVIL", "WRG"]
    assert rows["Email (differs)"] == ["m@elsewhere.example", "robin@wrg.example"]
    assert item.find(class_="requests-disagree") is not None
    headings = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
    assert headings[1].startswith("Request 1: email not confirmed")
    assert headings[2].startswith("This request: pending review")
    # The never-confirmed ones are listed by organization, each to be rejected on its own.
    [group] = [g for g in soup.find_all(class_="unconfirmed-organization") if "Widget" in g.h3.text]
    assert [box["value"] for box in group.find("tfoot").find_all("input")] == [str(stranger.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("signatories_admin:approve", args=[real.pk]))
    organization.refresh_from_db()
    # Approved, the request's details fill the organization through the CRM.
    assert organization.status == Organization.Status.ACTIVE
    assert (organization.name, organization.acronym, organization.website) == (
        "Widget Repair Guild",
        "WRG",
        "https://wrg.example.org",
    )
    stranger.refresh_from_db()
    assert stranger.status == Signature.Status.UNCONFIRMED
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_an_individual_signs_once_per_email(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    assert response.status_code == 302
    assert "in a personal capacity" in client.get(response["Location"]).content.decode()
    signature = Signature.objects.get()
    assert signature.organization is None and signature.invitation is None
    assert signature.status == Signature.Status.UNCONFIRMED
    assert signature.group == "Individuals"
    assert signature.display_name == "Jane Doe, Professor of Economics, University of Somewhere"
    assert open_sign_on.events.filter(action=Action.INDIVIDUAL_SIGNED, signature=signature).exists()
    [email] = mailoutbox
    assert email.subject.startswith("Confirm your request to sign")
    assert "in a personal capacity" in email.body
    path = SIGNATURE_LINK.search(email.body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path, {"action": "confirm"}).status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert "you have signed" in mailoutbox[-1].body
    assert "in a personal capacity" in mailoutbox[-1].body
    again = client.post(
        open_url(open_sign_on.token),
        person_data(open_sign_on, signer_email="JANE@uni.example.org", person="J. Doe"),
    )
    assert again.status_code == 409
    assert "already signed this letter in a personal capacity" in again.content.decode()
    assert Signature.objects.count() == 1


def test_bad_input_names_the_field(client, open_sign_on):
    response = client.post(
        open_url(open_sign_on.token),
        org_data(open_sign_on, authorized="", website="nope", signer_email="not an email"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Confirm that you are authorized to sign on behalf of this organization." in html
    assert "Website: “https://nope” is not a web address" in html
    assert "Your email address: “not an email” is not an email address." in html
    for field in ("authorized", "website", "signer_email"):
        assert f'id="id_org-{field}_error"' in html
        assert f'href="#id_org-{field}"' in html
    with pytest.raises(services.SignOnError, match="at most 255 characters") as error:
        ask(open_sign_on, organization_name="x" * 300)
    assert error.value.field == "organization_name"
    with pytest.raises(services.SignOnError, match="Affiliation: the printed line would be"):
        sign_personally(open_sign_on, affiliation="y" * 301)
    with pytest.raises(services.SignOnError, match="changed since this page was opened"):
        sign_personally(open_sign_on, text_hash="0" * 64)
    assert not Signature.objects.exists()


@pytest.mark.parametrize("form", ["org", "person"])
@pytest.mark.parametrize("text_hash", ["0" * 64, None], ids=["forged", "missing"])
def test_a_forged_or_missing_text_hash_is_refused_with_a_message(
    client, open_sign_on, form, text_hash
):
    """Finding 13: a forged or missing text_hash answered 400 with no message on the page."""
    data = org_data(open_sign_on) if form == "org" else person_data(open_sign_on)
    if text_hash is None:
        data.pop(f"{form}-text_hash")
    else:
        data[f"{form}-text_hash"] = text_hash
    response = client.post(open_url(open_sign_on.token), data)
    assert response.status_code == 400
    html = response.content.decode()
    summary = html[html.index('id="error-summary"') : html.index("</div>")]
    assert "The letter&#x27;s text has changed since this page was opened" in summary
    assert not Signature.objects.exists()


def test_markup_is_escaped_on_the_page_the_queue_the_email_and_the_published_letter(
    client, staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            open_url(open_sign_on.token),
            org_data(open_sign_on, organization_name=XSS, display_name=XSS, acronym=""),
        )
        response = client.post(
            open_url(open_sign_on.token), person_data(open_sign_on, affiliation=XSS)
        )
    assert "<script>" not in client.get(response["Location"]).content.decode()
    assert Signature.objects.count() == 2
    for link in {SIGNATURE_LINK.search(email.body).group(1) for email in mailoutbox}:
        assert "<script>" not in client.get(link).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(link, {"action": "confirm"}).status_code == 302
    queue = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert "<script>alert" not in queue and "&lt;script&gt;" in queue
    assert "An individual, in a personal capacity" in queue
    assert "not in the CRM yet: it asked to sign through the open link" in queue
    assert len(mailoutbox) == 4
    for email in mailoutbox:
        assert "<script>" not in email.alternatives[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        for signature in Signature.objects.all():
            staff_client.post(reverse("signatories_admin:approve", args=[signature.pk]))
    assert set(Signature.objects.values_list("status", flat=True)) == {"approved"}
    services.close_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    services.publish_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    open_sign_on.letter.refresh_from_db()
    page = Client().get(open_sign_on.letter.url).content.decode()
    assert "<script>alert" not in page
    assert f'<span class="sig-name" dir="auto">{escape(XSS)}</span>' in page
    assert f"Jane Doe, Professor of Economics, {escape(XSS)}" in page


def test_approved_open_link_signatures_print_with_individuals_under_their_heading(
    client, staff_client, open_sign_on, django_capture_on_commit_callbacks
):
    invitations = list(open_sign_on.invitations.order_by("organization__name"))
    person = confirmed(sign_personally(open_sign_on))
    guild = confirmed(ask(open_sign_on))
    client.post(
        reverse("signatories:sign", args=[selectors.invitation_link_token(invitations[0])]),
        sign_data(open_sign_on, invitations[0].organization),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for signature in (person, guild):
            response = staff_client.post(reverse("signatories_admin:approve", args=[signature.pk]))
            assert response.status_code == 302
    assert set(Signature.objects.values_list("status", flat=True)) == {"approved"}
    lines = Signature.objects.printable_lines(open_sign_on.letter)
    # Organizations first without a heading, although the individual signed first.
    assert [(line.text, line.group) for line in lines] == [
        ("Association of Widget Makers 0 (AWM0)", ""),
        ("Widget Repair Guild (WRG)", ""),
        ("Jane Doe, Professor, University of Somewhere", "Individuals"),
    ]
    services.close_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    services.publish_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    open_sign_on.letter.refresh_from_db()
    page = Client().get(open_sign_on.letter.url).content.decode()
    signatories = page[page.index('<section class="signatories"') :]
    heading = signatories.index('<h3 class="signatory-group">Individuals</h3>')
    assert signatories.index("Widget Repair Guild (WRG)") < heading
    assert heading < signatories.index("Jane Doe, Professor")
    assert selectors.verify_event_chain(sign_on=open_sign_on) == []


def test_staff_reject_an_individual_with_an_emailed_reason(
    staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    person = confirmed(sign_personally(open_sign_on))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:reject"),
            {"signature": [person.pk], "reason": "Unknown to us"},
        )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == Signature.Status.REJECTED
    [email] = mailoutbox
    assert email.to == ["jane@uni.example.org"]
    assert "could not accept your signature" in email.body
    assert "Unknown to us" in email.body


def test_the_tracker_counts_requests_and_individuals(staff_client, open_sign_on):
    sign_personally(open_sign_on)
    confirmed(ask(open_sign_on))
    totals = selectors.tally(open_sign_on).open_link_totals
    assert (totals["review"], totals["signer"]) == (1, 1)
    page = staff_client.get(reverse("signatories_admin:tracker", args=[open_sign_on.pk]))
    assert (
        "Through the open link, outside the invited audience: 2 (0 signed, 1 waiting for "
        "staff review, 1 waiting for the signer to confirm or reconfirm, 0 withdrawn or rejected)."
    ) in page.content.decode()


def test_responses_are_refused_after_the_deadline(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    path = SIGNATURE_LINK.search(mailoutbox[0].body).group(1)
    with time_machine.travel(open_sign_on.deadline + datetime.timedelta(minutes=1)):
        page = client.get(open_url(open_sign_on.token))
        assert page.status_code == 410
        assert "responses are no longer accepted" in page.content.decode()
        assert "Sign for an organization" not in page.content.decode()
        response = client.post(open_url(open_sign_on.token), org_data(open_sign_on))
        assert response.status_code == 410
        # Too late to confirm, too.
        assert client.post(path, {"action": "confirm"}).status_code == 410
        with pytest.raises(services.ResponsesClosed):
            ask(open_sign_on)
    assert Signature.objects.get().status == Signature.Status.UNCONFIRMED


@pytest.mark.parametrize("end", ["close", "cancel"])
def test_responses_are_refused_once_closed_or_cancelled(client, open_sign_on, end):
    if end == "close":
        services.close_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    else:
        services.cancel_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    response = client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    assert response.status_code == 410
    assert "no longer accepted" in response.content.decode() or "cancelled" in (
        response.content.decode()
    )
    assert not Signature.objects.exists()


def test_signing_needs_the_csrf_token(open_sign_on):
    client = Client(enforce_csrf_checks=True)
    assert client.get(open_url(open_sign_on.token)).status_code == 200
    response = client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    assert response.status_code == 403
    assert not Signature.objects.exists()


# ---------------------------------------------------------------------------------------------
# Finding 4 / item 5: requests that prove who they are


def test_only_a_request_confirmed_from_the_emailed_link_reaches_review(
    client, staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 4: nothing confirmed the email address; the request went straight to review."""
    html = client.get(open_url(open_sign_on.token)).content.decode()
    assert 'name="org-signer_email"' in html and 'type="email"' in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    signature = Signature.objects.get()
    [email] = mailoutbox
    path = SIGNATURE_LINK.search(email.body).group(1)
    assert path in email.alternatives[0][0]

    assert signature not in selectors.review_queue()
    assert signature in selectors.unconfirmed_requests()
    review = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert "Nothing waits for review." in review
    approve = reverse("signatories_admin:approve", args=[signature.pk])
    assert approve not in review
    # Staff cannot approve it either.
    staff_client.post(approve)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.UNCONFIRMED

    # Opening the link (a mail scanner does) confirms nothing; pressing "Confirm" does.
    page = client.get(path)
    assert page.status_code == 200
    assert 'value="confirm">Confirm</button>' in page.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.UNCONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(path, {"action": "confirm"})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert signature.confirmed_at is not None
    assert open_sign_on.events.filter(action=Action.CONFIRMED, signature=signature).exists()
    assert mailoutbox[-1].subject.startswith("Received, awaiting review")

    assert list(selectors.review_queue()) == [signature]
    review = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert approve in review
    assert "Widget Repair Guild (WRG)" in review
    # The link confirms once.
    assert Client().post(path, {"action": "confirm"}).status_code == 409


def test_an_unknown_organization_is_pending_outside_the_listing_until_approved(
    client, staff_client, open_sign_on, django_capture_on_commit_callbacks
):
    """Finding 4: an organization asking to sign became an active organization of the CRM."""
    client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    organization = Organization.objects.get(name="Widget Repair Guild")
    assert organization.status == Organization.Status.PENDING
    listing = staff_client.get(ORGANIZATIONS)
    assert listing.status_code == 200
    assert "Association of Widget Makers 0" in listing.content.decode()
    assert "Widget Repair Guild" not in listing.content.decode()

    signature = confirmed(Signature.objects.get())
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("signatories_admin:approve", args=[signature.pk]))
    organization.refresh_from_db()
    assert organization.status == Organization.Status.ACTIVE
    event = open_sign_on.events.get(action=Action.APPROVED, signature=signature)
    assert event.detail["organization_approved"] == "Widget Repair Guild"
    assert "Widget Repair Guild" in staff_client.get(ORGANIZATIONS).content.decode()


def test_a_rejected_request_leaves_its_organization_pending(staff_client, open_sign_on):
    signature = confirmed(ask(open_sign_on))
    services.reject_signature(signature=signature, actor=STAFF_ACTOR, reason="Unknown to us")
    signature.organization.refresh_from_db()
    assert signature.organization.status == Organization.Status.PENDING
    assert "Widget Repair Guild" not in staff_client.get(ORGANIZATIONS).content.decode()


@pytest.mark.parametrize(
    ("name", "acronym"),
    [
        ("widget repair guild", ""),
        ("The Widget-Repair  Guild.", ""),
        ("WIDGET REPAIR GUILD", "wrg"),
        ("Guild of Menders", "WRG"),
    ],
)
def test_a_known_organization_is_matched_not_duplicated(client, open_sign_on, name, acronym):
    """Finding 4 / item 5: known organizations are matched, not created again."""
    known = OrganizationFactory(name="Widget Repair Guild", acronym="WRG")
    organizations = Organization.objects.count()
    response = client.post(
        open_url(open_sign_on.token),
        org_data(open_sign_on, organization_name=name, acronym=acronym),
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.organization == known
    assert Organization.objects.count() == organizations
    assert not open_sign_on.events.get(action=Action.REQUESTED).detail["organization_created"]
    known.refresh_from_db()
    assert known.status == Organization.Status.ACTIVE


def test_a_pending_organization_asked_for_again_is_the_same_one(open_sign_on, members):
    """A second request for an organization still pending matches it, not a second copy."""
    other = open_new_sign_on(
        members, revision=approved_revision(slug="other", accepts_individuals=True)
    )
    services.issue_open_link(sign_on=other, actor=STAFF_ACTOR, accepts_requests=True)
    first = ask(open_sign_on)
    second = ask(other, organization_name="WIDGET REPAIR GUILD", signer_email="sam@wrg.example.org")
    assert second.organization == first.organization
    assert Organization.objects.filter(name__iexact="Widget Repair Guild").count() == 1


def test_the_emails_tell_members_and_others_why_they_receive_them(
    client,
    open_sign_on,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """Finding 4: the confirmation to an outsider said "your organization is a member"."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    with django_capture_on_commit_callbacks(execute=True):
        signature = confirmed(Signature.objects.get())
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_signature(signature=signature, actor=STAFF_ACTOR)
    outsider = [m for m in mailoutbox if m.to == ["robin@wrg.example.org"]]
    assert [m.subject.split(":")[0] for m in outsider] == [
        "Confirm your request to sign",
        "Received, awaiting review",
        "Signature approved",
    ]
    for email in outsider:
        for text in (email.body, email.alternatives[0][0]):
            assert "member" not in text
            assert "was invited" not in text
    assert "you asked to sign this letter through its open link" in outsider[1].body

    mailoutbox.clear()
    invitation = open_sign_on.invitations.get(email="pat0@awm0.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("signatories:sign", args=[selectors.invitation_link_token(invitation)]),
            sign_data(open_sign_on, invitation.organization),
        )
    [email] = mailoutbox
    assert email.to == ["pat0@awm0.example.org"]
    for text in (email.body, email.alternatives[0][0]):
        assert "Association of Widget Makers 0 was invited to sign this letter" in text
        assert "member of the coalition" not in text


def test_a_strangers_unconfirmed_request_is_shown_to_nobody_but_staff(client, open_sign_on):
    """What a stranger typed in a request nobody confirmed is no answer of the organization's:
    its own people see nothing of it, on its portal or on its pages."""
    from coalition.crm.models import Contact
    from tests.support.portal import log_in

    known = OrganizationFactory(name="Widget Repair Guild", acronym="WRG")
    contact = Contact.objects.create(
        organization=known, name="Robin Fixer", email="robin@wrg.example.org"
    )
    stranger = ask(
        open_sign_on,
        display_name="Widget Repair Guild, as Mallory says",
        signer_name="Mallory Squat",
        signer_email="m@elsewhere.example",
    )
    assert stranger.organization == known
    assert selectors.active_response(open_sign_on, known.pk) is None
    assert selectors.page_responses(open_sign_on, known.pk) == (None, None)

    portal = log_in(client, contact).get(reverse("portal:organization", args=[known.slug]))
    portal = portal.content.decode()

    assert "Widget Repair Guild" in portal
    assert "Mallory" not in portal
    assert "email not confirmed" not in portal
