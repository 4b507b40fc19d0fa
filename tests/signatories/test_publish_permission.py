"""Publishing a letter and correcting it need a permission of their own, held by "Publishers";
reviewing signatures needs only the review permission."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from wagtail.models import Page

from letters.models import Publication
from signatories import services
from signatories.models import Signature, SignOn
from tests.factories import UserFactory
from tests.support.signing import STAFF_ACTOR, sign

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def publisher(db):
    user = UserFactory(username="publisher", is_staff=True)
    user.groups.add(Group.objects.get(name="Publishers"))
    return user


@pytest.fixture
def reviewer(db):
    """Staff who review signatures and run sign-ons, without the permission to publish."""
    user = UserFactory(username="reviewer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["wagtailadmin", "signatories"],
            codename__in=[
                "access_admin",
                "view_signon",
                "change_signon",
                "change_signature",
                "view_signature",
            ],
        )
    )
    return user


@pytest.fixture
def closed(sign_on, invitations) -> SignOn:
    sign(invitations[0])
    # Printed under another name: held for review.
    held = sign(invitations[1], display_name="Widget Friends")
    services.approve_signature(signature=held, actor=STAFF_ACTOR)
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    return sign_on


def test_the_migration_creates_the_publishers_group(db):
    publishers = Group.objects.get(name="Publishers")
    granted = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in publishers.permissions.select_related("content_type")
    }
    assert granted >= {
        "wagtailadmin.access_admin",
        "letters.publish_letter",
        "signatories.view_signon",
    }
    # Nothing of running a sign-on or reviewing its signatures.
    assert not {name for name in granted if name.startswith("signatories.")} - {
        "signatories.view_signon"
    }
    assert Permission.objects.get(codename="publish_letter").name == (
        "Can publish letters and their corrections"
    )
    # Wagtail checks its own "publish" for whoever a revision goes live for.
    root = Page.objects.get(depth=1)
    assert publishers.page_permissions.filter(
        page=root, permission__codename="publish_page"
    ).exists()


def test_a_publisher_publishes_and_corrects(publisher, closed, django_capture_on_commit_callbacks):
    client = logged_in(publisher)
    tracker = client.get(reverse("signatories_admin:tracker", args=[closed.pk]))
    publish = reverse("signatories_admin:publish", args=[closed.pk])
    assert f'href="{publish}"' in tracker.content.decode()
    assert client.get(publish).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(publish).status_code == 302

    closed.refresh_from_db()
    assert closed.status == SignOn.Status.PUBLISHED
    corrections = reverse("signatories_admin:corrections", args=[closed.letter_id])
    assert client.get(corrections).status_code == 200
    added = {"action": "add", "display_name": "Late Signers", "reason": "Signed by email."}
    assert client.post(corrections, added).status_code == 302
    correct = reverse("signatories_admin:publish_correction", args=[closed.letter_id])
    shown = client.get(correct, {"note": "Adds Late Signers."})
    assert "<li>Added: Late Signers</li>" in shown.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            correct, {"note": "Adds Late Signers.", "fingerprint": shown.context["fingerprint"]}
        )
    assert Publication.objects.get(is_current=True).version == 2
    # Publishing is all a publisher may do here: the sign-on's own actions stay with its staff.
    assert client.get(reverse("signatories_admin:review"), **XHR).status_code == 403


def test_a_reviewer_without_the_permission_may_not_publish_or_correct(reviewer, closed):
    client = logged_in(reviewer)
    tracker = client.get(reverse("signatories_admin:tracker", args=[closed.pk])).content.decode()
    publish = reverse("signatories_admin:publish", args=[closed.pk])
    assert publish not in tracker

    for method in ("get", "post"):
        assert getattr(client, method)(publish, **XHR).status_code == 403
        # Wagtail's admin sends a page's visitor back to the dashboard with a message.
        assert getattr(client, method)(publish)["Location"] == "/admin/"
    closed.refresh_from_db()
    assert closed.status == SignOn.Status.CLOSED
    assert not Publication.objects.exists()

    services.publish_sign_on(sign_on=closed, actor=STAFF_ACTOR)
    letter = closed.letter
    signature = Signature.objects.filter(letter=letter).first()
    for url, data in [
        (reverse("signatories_admin:corrections", args=[letter.pk]), {}),
        (
            reverse("signatories_admin:corrections", args=[letter.pk]),
            {"action": "add", "display_name": "Late", "reason": "Email."},
        ),
        (reverse("signatories_admin:publish_correction", args=[letter.pk]), {"note": "x"}),
        (reverse("signatories_admin:retract", args=[letter.pk, signature.pk]), {"reason": "x"}),
    ]:
        assert client.get(url, **XHR).status_code == 403, url
        assert client.post(url, data, **XHR).status_code == 403, url
    assert Publication.objects.filter(letter=letter).count() == 1
    assert Signature.objects.filter(letter=letter, status="withdrawn").count() == 0
    assert not Signature.objects.filter(display_name="Late").exists()


def test_a_reviewer_reviews(reviewer, sign_on, invitations):
    held = sign(invitations[0], display_name="Widget Friends")
    assert held.status == Signature.Status.PENDING_REVIEW
    client = logged_in(reviewer)

    assert client.get(reverse("signatories_admin:review")).status_code == 200
    response = client.post(reverse("signatories_admin:approve", args=[held.pk]))

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Signature.Status.APPROVED
