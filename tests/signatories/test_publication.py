import hashlib

import pytest
from django.urls import reverse

from letters.models import Publication
from signatories import selectors, services
from signatories.models import Action, Signature, SignOn
from tests.factories import StaffFactory
from tests.support.pdf import body, pdftotext
from tests.support.signing import STAFF_ACTOR, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(sign_on, invitations) -> SignOn:
    sign(invitations[0])
    sign(invitations[1])
    return services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)


def test_it_publishes_the_circulated_revision_with_a_frozen_list_and_pdf(
    closed, invitations, client, django_capture_on_commit_callbacks, tmp_path
):
    letter = closed.letter
    # A later draft must not be what goes public: the signers agreed to the circulated text.
    letter.title = "An edited title nobody signed"
    letter.save_revision()

    with django_capture_on_commit_callbacks(execute=True):
        publication = services.publish_sign_on(sign_on=closed, actor=STAFF_ACTOR)

    publication.refresh_from_db()
    closed.refresh_from_db()
    letter.refresh_from_db()
    assert closed.status == SignOn.Status.PUBLISHED
    assert letter.live and letter.live_revision_id == closed.revision_id
    assert letter.title == "A joint letter on widgets"
    assert [line["text"] for line in publication.signatories] == sorted(
        inv.organization.printed_name for inv in invitations[:2]
    )
    pdf = body(client.get(f"{letter.url}pdf/"))
    assert hashlib.sha256(pdf).hexdigest() == publication.pdf_sha256
    assert "Association of Widget Makers 0 (AWM0)" in pdftotext(pdf, tmp_path)
    page = client.get(letter.url).content.decode()
    assert publication.pdf_sha256 in page
    assert closed.events.filter(action=Action.PUBLISHED).exists()
    # The record's head at publication is printed on the page, and verifies.
    assert (publication.chain_head, publication.chain_length) == selectors.chain_head(closed)
    assert publication.chain_head in page
    assert selectors.verify_event_chain(sign_on=closed) == []


def test_the_published_list_stays_frozen(closed, invitations, client):
    services.publish_sign_on(sign_on=closed, actor=STAFF_ACTOR)
    letter = closed.letter
    before = client.get(letter.url).content.decode()
    # A signature changed behind the sign-on's back does not rewrite what was published.
    Signature.objects.filter(sign_on=closed).update(display_name="Tampered")

    after = client.get(letter.url).content.decode()

    assert "Tampered" not in after
    assert before.count('class="sig"') == after.count('class="sig"') == 2


def test_it_refuses_to_publish_while_signatures_await_review(sign_on, invitations):
    sign(invitations[0], display_name="Someone Else Entirely")
    assert Signature.objects.get().status == Signature.Status.PENDING_REVIEW
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)

    with pytest.raises(services.SignOnError, match="1 signature\\(s\\) await review"):
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)

    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.CLOSED
    assert not Publication.objects.exists()
    assert not sign_on.letter.live


@pytest.mark.parametrize("status", ["open", "cancelled", "published"])
def test_only_a_closed_sign_on_publishes(sign_on, status):
    if status == "cancelled":
        services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    elif status == "published":
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    published = Publication.objects.count()

    with pytest.raises(services.TransitionNotAllowed):
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    assert Publication.objects.count() == published
    sign_on.refresh_from_db()
    assert sign_on.status == status


def test_staff_publish_from_the_tracker(closed, client, django_capture_on_commit_callbacks):
    client.force_login(StaffFactory())
    tracker = reverse("signatories_admin:tracker", args=[closed.pk])
    assert "Publish the letter with its signatories" in client.get(tracker).content.decode()
    url = reverse("signatories_admin:publish", args=[closed.pk])
    assert client.get(url).status_code == 200  # the confirmation: see test_admin

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.status == SignOn.Status.PUBLISHED
    assert closed.publication.pdf_sha256 in client.get(tracker).content.decode()
