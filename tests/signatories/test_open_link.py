import datetime
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from coalition.models import Organization
from signatories import services
from signatories.models import Signature, SignOn, token_digest
from tests.factories import OrganizationFactory

from .conftest import STAFF_ACTOR, approved_revision, open_new_sign_on

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
OPEN_LINK = re.compile(r"http://[^/\s]+(/sign/open/[A-Za-z0-9_-]{43}/)")


def open_url(token: str) -> str:
    return reverse("signatories:open_link", args=[token])


@pytest.fixture
def open_sign_on(members) -> SignOn:
    """A sign-on whose letter accepts individuals, with requests from outside the audience."""
    sign_on = open_new_sign_on(members, revision=approved_revision(accepts_individuals=True))
    sign_on.token = services.issue_open_link(
        sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True
    )
    return sign_on


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


def request_kwargs(sign_on: SignOn, **overrides) -> dict:
    data = {
        "organization_name": "Widget Repair Guild",
        "acronym": "WRG",
        "website": "",
        "display_name": "Widget Repair Guild (WRG)",
        "signer_name": "Robin Fixer",
        "signer_title": "Chair",
        "signer_email": "robin@wrg.example.org",
        "authorized": True,
        "text_hash": sign_on.text_hash,
        "actor": STAFF_ACTOR,
    }
    data.update(overrides)
    return data


def individual_kwargs(sign_on: SignOn, **overrides) -> dict:
    data = {
        "person": "Jane Doe",
        "title": "Professor",
        "affiliation": "University of Somewhere",
        "signer_email": "jane@uni.example.org",
        "text_hash": sign_on.text_hash,
        "actor": STAFF_ACTOR,
    }
    data.update(overrides)
    return data


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
    assert sign_on.open_link_token_hash == token_digest(token)
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
    assert actions[-3:] == ["open_link_issued", "open_link_issued", "open_link_closed"]
    assert services.verify_event_chain(sign_on=sign_on) == []


def test_an_open_link_needs_someone_who_could_use_it(sign_on):
    with pytest.raises(services.SignOnError, match="Nobody could sign"):
        services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR)
    with pytest.raises(services.TransitionNotAllowed, match="no open link to turn off"):
        services.close_open_link(sign_on=sign_on, actor=STAFF_ACTOR)


def test_the_open_form_can_create_the_open_link(staff_client, members):
    from .test_admin import open_form_data

    revision = approved_revision()
    data = open_form_data(revision.circulation_approval, members)
    data["accepts_requests"] = "on"
    response = staff_client.post(reverse("signatories_admin:open"), data, follow=True)
    sign_on = SignOn.objects.get()
    assert sign_on.accepts_requests and sign_on.open_link_token_hash
    html = response.content.decode()
    path = OPEN_LINK.search(html).group(1)
    assert sign_on.open_link_token_hash == token_digest(path.split("/")[-2])


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
        services.sign_as_individual(sign_on=sign_on, **individual_kwargs(sign_on))


def test_a_forged_or_turned_off_link_is_not_found(client, open_sign_on):
    assert client.get(open_url("x" * 43)).status_code == 404
    assert client.get(open_url("short")).status_code == 404
    services.close_open_link(sign_on=open_sign_on, actor=STAFF_ACTOR)
    assert client.get(open_url(open_sign_on.token)).status_code == 404
    assert client.post(open_url(open_sign_on.token), org_data(open_sign_on)).status_code == 404


def test_an_organization_asks_to_sign_and_waits_for_review(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(open_url(open_sign_on.token), org_data(open_sign_on))
    assert response.status_code == 302
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you for signing" in thanks
    assert "Widget Repair Guild (WRG)" in thanks
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert signature.invitation is None
    assert any("not invited" in reason for reason in signature.review_reasons)
    organization = signature.organization
    assert organization.name == "Widget Repair Guild"
    assert organization.kind == Organization.Kind.OTHER
    assert organization.status == Organization.Status.ACTIVE
    assert "open link" in organization.description
    event = open_sign_on.events.get(action="requested")
    assert event.signature == signature and event.detail["organization_created"]
    [email] = mailoutbox
    assert email.to == ["robin@wrg.example.org"]
    assert email.subject.startswith("Received, awaiting review")
    assert "Widget Repair Guild" in email.body
    assert "/sign/withdraw/" in email.body
    # Another browser with the same shared link does not see the response.
    assert Client().get(response["Location"]).status_code == 302


def test_a_known_organization_is_matched_by_name_or_acronym(open_sign_on):
    known = OrganizationFactory(name="The Widget Repair Guild", acronym="TWRG")
    first = services.request_to_sign(sign_on=open_sign_on, **request_kwargs(open_sign_on))
    assert first.organization == known
    services.withdraw_signature(signature=first, actor=STAFF_ACTOR)
    second = services.request_to_sign(
        sign_on=open_sign_on,
        **request_kwargs(open_sign_on, organization_name="Guild of Menders", acronym="twrg"),
    )
    assert second.organization == known
    assert Organization.objects.filter(name__icontains="Guild").count() == 1


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
        services.request_to_sign(
            sign_on=open_sign_on,
            **request_kwargs(open_sign_on, organization_name="Something", acronym="awm1"),
        )
    assert not Signature.objects.exists()


def test_a_second_response_from_the_same_organization_is_refused(client, open_sign_on):
    services.request_to_sign(sign_on=open_sign_on, **request_kwargs(open_sign_on))
    response = client.post(
        open_url(open_sign_on.token),
        org_data(open_sign_on, organization_name="widget repair guild", signer_name="Sam Other"),
    )
    assert response.status_code == 409
    assert "Robin Fixer (Chair) already signed for Widget Repair Guild (WRG)" in (
        response.content.decode()
    )
    assert Signature.objects.count() == 1


def test_an_individual_signs_once_per_email(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(open_url(open_sign_on.token), person_data(open_sign_on))
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.organization is None and signature.invitation is None
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert signature.group == "Individuals"
    assert signature.display_name == "Jane Doe, Professor of Economics, University of Somewhere"
    assert open_sign_on.events.filter(action="individual_signed", signature=signature).exists()
    [email] = mailoutbox
    assert "you have signed" in email.body and "in a personal capacity" in email.body
    again = client.post(
        open_url(open_sign_on.token),
        person_data(open_sign_on, signer_email="JANE@uni.example.org", person="J. Doe"),
    )
    assert again.status_code == 409
    assert "already signed this letter in a personal capacity" in again.content.decode()
    assert Signature.objects.count() == 1


def test_bad_input_names_the_field(client, open_sign_on):
    response = client.post(
        open_url(open_sign_on.token), org_data(open_sign_on, authorized="", website="nope")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Confirm that you are authorized to sign on behalf of this organization." in html
    assert "Enter a valid URL." in html
    with pytest.raises(services.SignOnError, match="organization name is too long") as error:
        services.request_to_sign(
            sign_on=open_sign_on, **request_kwargs(open_sign_on, organization_name="x" * 300)
        )
    assert error.value.field == "organization_name"
    with pytest.raises(services.SignOnError, match="affiliation is too long"):
        services.sign_as_individual(
            sign_on=open_sign_on, **individual_kwargs(open_sign_on, affiliation="y" * 301)
        )
    with pytest.raises(services.SignOnError, match="changed since this page was opened"):
        services.sign_as_individual(
            sign_on=open_sign_on, **individual_kwargs(open_sign_on, text_hash="0" * 64)
        )
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
    queue = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert "<script>alert" not in queue and "&lt;script&gt;" in queue
    assert "An individual, in a personal capacity" in queue
    assert "not invited: asked through the open link" in queue
    for email in mailoutbox:
        assert "<script>" not in email.alternatives[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        for signature in Signature.objects.all():
            staff_client.post(reverse("signatories_admin:approve", args=[signature.pk]))
    services.close_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    services.publish_sign_on(sign_on=open_sign_on, actor=STAFF_ACTOR)
    open_sign_on.letter.refresh_from_db()
    page = Client().get(open_sign_on.letter.url).content.decode()
    assert "<script>alert" not in page
    assert f'<span class="sig-name">{escape(XSS)}</span>' in page
    assert f"Jane Doe, Professor of Economics, {escape(XSS)}" in page


def test_approved_open_link_signatures_print_with_individuals_under_their_heading(
    client, staff_client, open_sign_on, django_capture_on_commit_callbacks
):
    invitations = list(open_sign_on.invitations.order_by("organization__name"))
    person = services.sign_as_individual(sign_on=open_sign_on, **individual_kwargs(open_sign_on))
    guild = services.request_to_sign(sign_on=open_sign_on, **request_kwargs(open_sign_on))
    services.sign_letter(
        invitation=invitations[0],
        display_name=invitations[0].organization.printed_name,
        signer_name="Pat Signer",
        signer_title="",
        signer_email=invitations[0].organization.contacts.first().email,
        authorized=True,
        text_hash=open_sign_on.text_hash,
        actor=STAFF_ACTOR,
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
    assert services.verify_event_chain(sign_on=open_sign_on) == []


def test_staff_reject_an_individual_with_an_emailed_reason(
    staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    person = services.sign_as_individual(sign_on=open_sign_on, **individual_kwargs(open_sign_on))
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("signatories_admin:reject", args=[person.pk]), {"reason": "Unknown to us"}
        )
    person.refresh_from_db()
    assert person.status == Signature.Status.REJECTED
    [email] = mailoutbox
    assert "could not accept your signature" in email.body
    assert "Unknown to us" in email.body


def test_the_tracker_counts_requests_and_individuals(staff_client, open_sign_on):
    services.sign_as_individual(sign_on=open_sign_on, **individual_kwargs(open_sign_on))
    services.request_to_sign(sign_on=open_sign_on, **request_kwargs(open_sign_on))
    page = staff_client.get(reverse("signatories_admin:tracker", args=[open_sign_on.pk]))
    assert (
        "1 request from organizations outside the audience, 1 individual." in page.content.decode()
    )


def test_responses_are_refused_after_the_deadline(client, open_sign_on):
    with time_machine.travel(open_sign_on.deadline + datetime.timedelta(minutes=1)):
        page = client.get(open_url(open_sign_on.token))
        assert page.status_code == 410
        assert "responses are no longer accepted" in page.content.decode()
        assert "Sign for an organization" not in page.content.decode()
        response = client.post(open_url(open_sign_on.token), person_data(open_sign_on))
        assert response.status_code == 410
        with pytest.raises(services.ResponsesClosed):
            services.request_to_sign(sign_on=open_sign_on, **request_kwargs(open_sign_on))
    assert not Signature.objects.exists()


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
