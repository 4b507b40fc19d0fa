"""Finding 11: the open link could be flooded, and the review queue could only be cleared one by
one, emailing every address again."""

import pytest
from django.test import Client
from django.urls import reverse

from coalition.crm.models import Organization
from signatories import ratelimits, selectors, services
from signatories.inputs import IndividualSigning
from signatories.models import Action, Signature, SignOn
from tests.factories import OrganizationFactory
from tests.support.signing import SIGNATURE_LINK, STAFF_ACTOR

REJECT = "/admin/sign-ons/review/reject/"
REVIEW = "/admin/sign-ons/review/"


def open_url(sign_on: SignOn) -> str:
    return reverse("signatories:open_link", args=[sign_on.token])


def org_data(sign_on: SignOn, n: int) -> dict:
    return {
        "action": "organization",
        "org-organization_name": f"Spam Front {n}",
        "org-display_name": f"Spam Front {n}",
        "org-signer_name": "Bot",
        "org-signer_title": "Bot",
        "org-signer_email": f"victim{n}@example.net",
        "org-authorized": "on",
        "org-text_hash": sign_on.text_hash,
    }


def person_data(sign_on: SignOn, email: str, person: str = "Jane Doe") -> dict:
    return {
        "action": "individual",
        "person-person": person,
        "person-signer_email": email,
        "person-text_hash": sign_on.text_hash,
    }


def sign_personally(sign_on: SignOn, person: str, email: str) -> Signature:
    return services.sign_as_individual(
        sign_on=sign_on,
        signing=IndividualSigning(person=person, signer_email=email),
        text_hash=sign_on.text_hash,
        actor=STAFF_ACTOR,
    )


def ip_limit() -> int:
    [limit] = [count for count, _, key in ratelimits._rules("open_link") if key == "ip"]
    return limit


def test_a_flood_from_one_address_is_cut_off(
    client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 11: 100 POSTs with different names made 100 organizations, signatures, emails."""
    limit = ip_limit()
    assert limit < 100
    organizations = Organization.objects.count()
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(100):
            response = client.post(open_url(open_sign_on), org_data(open_sign_on, n))
            statuses.append(response.status_code)
    assert statuses == [302] * limit + [429] * (100 - limit)
    assert "Too many requests in a short time" in response.content.decode()
    assert Signature.objects.count() == limit
    assert len(mailoutbox) == limit
    assert Organization.objects.count() == organizations + limit
    # None of them is a member, nor waits for staff: nobody confirmed an address.
    assert not Organization.objects.filter(name__startswith="Spam Front").exclude(
        status=Organization.Status.PENDING
    )
    assert not selectors.review_queue().exists()
    # Another network is not cut off by the first one's flood.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(open_url(open_sign_on), org_data(open_sign_on, 100)).status_code == 302


def test_one_mailbox_is_limited_whatever_the_network(client, open_sign_on):
    [limit] = [count for count, _, key in ratelimits._rules("open_link") if key == "address"]
    for n in range(limit):
        data = {**org_data(open_sign_on, n), "org-signer_email": f"same+{n}@example.net"}
        response = Client(REMOTE_ADDR=f"198.51.100.{n}").post(open_url(open_sign_on), data)
        assert response.status_code == 302
    data = {**org_data(open_sign_on, 99), "org-signer_email": "SAME@example.net"}
    response = Client(REMOTE_ADDR="203.0.113.99").post(open_url(open_sign_on), data)
    assert response.status_code == 429
    assert "This address has made too many requests" in response.content.decode()
    assert Signature.objects.count() == limit


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("jane@example.org", "Jane+2@Example.org"),
        ("jane.doe@gmail.com", "janedoe+letters@gmail.com"),
        ("j.a.n.e.doe@googlemail.com", "JaneDoe@gmail.com"),
    ],
)
def test_one_person_signs_once_however_the_address_is_spelled(
    client, open_sign_on, first, again, settings
):
    """Finding 11: plus-addressed emails let one person sign as an individual ten times."""
    settings.SIGN_ON_RATE_LIMITS = {"open_link": ""}  # the mailbox rule alone, not the limits
    assert client.post(open_url(open_sign_on), person_data(open_sign_on, first)).status_code == 302
    # Asked again before confirming (the email went astray): both wait, neither cancels the
    # other (whoever typed the address), and the first one confirmed is the one that stands.
    assert client.post(open_url(open_sign_on), person_data(open_sign_on, again)).status_code == 302
    earlier, later = Signature.objects.order_by("pk")
    assert {earlier.status, later.status} == {Signature.Status.UNCONFIRMED}
    services.confirm_signature(signature=later, actor=STAFF_ACTOR)
    with pytest.raises(services.AlreadyResponded, match="in a personal capacity"):
        services.confirm_signature(signature=earlier, actor=STAFF_ACTOR)
    response = client.post(open_url(open_sign_on), person_data(open_sign_on, first, "J. Doe"))
    assert response.status_code == 409
    assert "already signed this letter in a personal capacity" in response.content.decode()
    with pytest.raises(services.AlreadyResponded):
        sign_personally(open_sign_on, "Jane D.", again.upper())
    assert list(selectors.review_queue()) == [later]
    assert Signature.objects.filter(status=Signature.Status.UNCONFIRMED).get() == earlier


def test_an_address_on_another_domain_is_another_person(client, open_sign_on):
    client.post(open_url(open_sign_on), person_data(open_sign_on, "jane.doe@example.org"))
    response = client.post(open_url(open_sign_on), person_data(open_sign_on, "janedoe@example.org"))
    assert response.status_code == 302
    assert Signature.objects.count() == 2


@pytest.mark.parametrize(
    "person",
    ["U.S. Chamber of Commerce", "us chamber of commerce", "USCC", "US Chamber of Commerce (USCC)"],
)
def test_a_person_named_like_an_organization_goes_to_review_with_that_reason(
    staff_client, open_sign_on, person
):
    """Finding 11: a person named "U.S. Chamber of Commerce" got no lookalike warning."""
    OrganizationFactory(name="U.S. Chamber of Commerce", acronym="USCC")
    signature = sign_personally(open_sign_on, person, "chamber@example.net")
    services.confirm_signature(signature=signature, actor=STAFF_ACTOR)
    reason = (
        f"The name “{person}” is the name of an organization, "
        "U.S. Chamber of Commerce (USCC): is a person signing?"
    )
    assert reason in selectors.review_reasons(signature)
    review = staff_client.get(REVIEW).content.decode()
    assert "is the name of an organization, U.S. Chamber of Commerce (USCC)" in review


def test_a_person_with_an_ordinary_name_has_no_lookalike_reason(open_sign_on):
    OrganizationFactory(name="U.S. Chamber of Commerce", acronym="USCC")
    signature = sign_personally(open_sign_on, "Jane Doe", "jane@example.net")
    assert not any("name of an organization" in r for r in selectors.review_reasons(signature))


def _waiting(sign_on: SignOn, numbers: range) -> list[Signature]:
    """Individuals who confirmed their address: waiting for review."""
    people = [sign_personally(sign_on, f"Person {n}", f"p{n}@example.net") for n in numbers]
    return [services.confirm_signature(signature=s, actor=STAFF_ACTOR) for s in people]


def test_staff_reject_many_at_once_with_one_reason(
    staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 11: staff rejected each one, one by one."""
    signatures = _waiting(open_sign_on, range(3))
    review = staff_client.get(REVIEW).content.decode()
    for signature in signatures:
        assert f'form="reject-form" name="signature" value="{signature.pk}"' in review
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            REJECT, {"signature": [s.pk for s in signatures], "reason": "A flood"}, follow=True
        )
    assert "Rejected 3 signatures; 3 signers emailed the reason." in response.content.decode()
    assert set(Signature.objects.values_list("status", flat=True)) == {"rejected"}
    assert set(Signature.objects.values_list("reason", flat=True)) == {"A flood"}
    assert sorted(m.to[0] for m in mailoutbox) == [
        "p0@example.net",
        "p1@example.net",
        "p2@example.net",
    ]
    assert open_sign_on.events.filter(action=Action.REJECTED).count() == 3
    assert not selectors.review_queue().exists()


def test_a_bulk_rejection_is_all_or_nothing(
    staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    signatures = _waiting(open_sign_on, range(2))
    [approved] = _waiting(open_sign_on, range(2, 3))
    services.approve_signature(signature=approved, actor=STAFF_ACTOR)
    events = open_sign_on.events.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            REJECT,
            {"signature": [*(s.pk for s in signatures), approved.pk], "reason": "A flood"},
            follow=True,
        )
    assert "Nothing was rejected" in response.content.decode()
    assert dict(Signature.objects.values_list("pk", "status")) == {
        signatures[0].pk: "pending_review",
        signatures[1].pk: "pending_review",
        approved.pk: "approved",
    }
    assert open_sign_on.events.count() == events
    assert mailoutbox == []
    # Without a reason, nothing either.
    staff_client.post(REJECT, {"signature": [s.pk for s in signatures], "reason": " "})
    assert not Signature.objects.filter(status="rejected").exists()


def test_rejecting_an_unconfirmed_request_emails_nobody(
    client, staff_client, open_sign_on, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 11: every rejection emailed the address again, whoever had typed it."""
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            client.post(open_url(open_sign_on), org_data(open_sign_on, n))
    assert len(mailoutbox) == 2  # the links to confirm
    path = SIGNATURE_LINK.search(mailoutbox[0].body).group(1)
    unconfirmed = list(Signature.objects.order_by("pk"))
    review = staff_client.get(REVIEW).content.decode()
    assert "Nothing waits for review." in review
    # The unconfirmed requests can be ticked, and the form they belong to is on the page.
    assert 'id="reject-form"' in review
    for signature in unconfirmed:
        assert f'form="reject-form" name="signature" value="{signature.pk}"' in review
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            REJECT, {"signature": [s.pk for s in unconfirmed], "reason": "Spam"}, follow=True
        )
    assert "Rejected 2 signatures; 0 signers emailed the reason." in response.content.decode()
    assert len(mailoutbox) == 2
    assert set(Signature.objects.values_list("status", flat=True)) == {"rejected"}
    assert {e.detail["emailed"] for e in open_sign_on.events.filter(action=Action.REJECTED)} == {
        False
    }
    # The link of a rejected request confirms nothing any more.
    assert client.post(path, {"action": "confirm"}).status_code == 409
    assert not selectors.unconfirmed_requests().exists()
