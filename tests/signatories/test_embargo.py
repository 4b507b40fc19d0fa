"""A letter published under embargo: unpublished until its moment, read meanwhile by the press
through links of their own (marked, kept out of search engines, each opening logged), then
published by the worker exactly once; staff may move the moment or lift the embargo."""

import datetime
import threading
import time
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection, connections
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from letters.models import Publication
from signatories import selectors, services
from signatories.models import Action, Embargo, Event, PressPreview, PreviewAccess, SignOn
from signatories.services.embargoes import release_embargo_job
from tests.letters.test_pdf_standards import validation_failures
from tests.support.database import ensure_wagtail_site
from tests.support.pdf import pdftotext
from tests.support.signing import (
    STAFF_ACTOR,
    approved_revision,
    make_members,
    open_new_sign_on,
    sign,
)

pytestmark = pytest.mark.django_db


def closed_sign_on(members) -> SignOn:
    sign_on = open_new_sign_on(members)
    for invitation in sign_on.invitations.order_by("organization__name")[:2]:
        sign(invitation)
    return services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def closed(members) -> SignOn:
    return closed_sign_on(members)


@pytest.fixture
def embargoed(closed) -> Embargo:
    until = (timezone.now() + datetime.timedelta(days=2)).replace(second=0, microsecond=0)
    return services.embargo_sign_on(sign_on=closed, until=until, actor=STAFF_ACTOR)


def press_link(mailoutbox) -> str:
    [email] = [m for m in mailoutbox if m.subject.startswith("Under embargo until")]
    return next(word for word in email.body.split() if "/sign/press/" in word)


def test_staff_set_an_embargo_and_the_letter_stays_unpublished(
    staff_client, closed, client, django_capture_on_commit_callbacks
):
    url = reverse("signatories_admin:embargo", args=[closed.pk])
    until = timezone.now() + datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"until": local(until)})
    assert response.status_code == 302
    embargo = Embargo.objects.get(sign_on=closed)
    assert local(embargo.until) == local(until)
    assert closed.events.filter(action=Action.EMBARGOED).count() == 1
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[closed.pk]))
    assert "Under embargo until" in tracker.content.decode()
    # Out of the archive, its search, the feed; the page itself is not there.
    letter = closed.letter
    letter.refresh_from_db()
    assert not letter.live
    assert client.get(letter.url or "/letters/a-joint-letter-on-widgets/").status_code == 404
    assert letter.title not in client.get("/letters/").content.decode()
    assert letter.title not in client.get("/letters/?q=widgets").content.decode()
    assert letter.title not in client.get("/letters/feed.atom").content.decode()
    # Staff's Publish is refused while the embargo holds.
    staff_client.post(reverse("signatories_admin:publish", args=[closed.pk]))
    assert not Publication.objects.filter(letter=letter).exists()


def test_the_press_read_it_marked_and_each_opening_is_logged(
    staff_client,
    embargoed,
    client,
    mailoutbox,
    django_capture_on_commit_callbacks,
    tmp_path,
    monkeypatch,
):
    sign_on = embargoed.sign_on
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:add_press_preview", args=[sign_on.pk]),
            {"name": "Ana  Lucía Pérez", "email": "Ana@News.example", "outlet": "El Diario"},
        )
    assert response.status_code == 302
    preview = PressPreview.objects.get()
    assert (preview.name, preview.email) == ("Ana Lucía Pérez", "ana@news.example")
    path = urlsplit(press_link(mailoutbox)).path
    page = client.get(path, HTTP_USER_AGENT="NewsReader/2.0", REMOTE_ADDR="198.51.100.7")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Embargoed until" in html and sign_on.letter.title in html
    for invitation in sign_on.invitations.order_by("organization__name")[:2]:
        assert invitation.organization.printed_name in html
    assert page["X-Robots-Tag"] == "noindex, nofollow, noarchive"
    assert '<meta name="robots" content="noindex, nofollow, noarchive">' in html
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    pdf = client.get(f"{path}pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdftotext(pdf.content, tmp_path)
    assert "EMBARGOED UNTIL" in text
    assert validation_failures(pdf.content, "ua1", tmp_path) == []
    accesses = list(PreviewAccess.objects.order_by("at", "pk"))
    assert [(a.what, a.ip_address, a.user_agent) for a in accesses][:1] == [
        ("page", "198.51.100.7", "NewsReader/2.0")
    ]
    assert [a.what for a in accesses] == ["page", "pdf"]
    # A second opening is logged too, and served without drawing the PDF again.
    monkeypatch.setattr(
        "signatories.views.press.render_letter_pdf",
        lambda *args, **kwargs: pytest.fail("the PDF was drawn again"),
    )
    assert client.get(f"{path}pdf/").content == pdf.content
    assert PreviewAccess.objects.filter(what="pdf").count() == 2
    listing = staff_client.get(reverse("signatories_admin:embargo", args=[sign_on.pk]))
    assert "3 times, last" in listing.content.decode()


def test_at_its_moment_the_worker_publishes_it_once(
    embargoed, client, mailoutbox, django_capture_on_commit_callbacks, tmp_path
):
    sign_on = embargoed.sign_on
    assert release_embargo_job.call(embargoed.pk) == "nothing due"
    with time_machine.travel(embargoed.until + datetime.timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert release_embargo_job.call(embargoed.pk) == "published"
        # A second worker, and the chore: nothing more.
        assert release_embargo_job.call(embargoed.pk) == "nothing due"
        assert services.release_due_embargoes() == 0
    sign_on.refresh_from_db()
    embargoed.refresh_from_db()
    assert sign_on.status == SignOn.Status.PUBLISHED and not embargoed.lifted_early
    publication = Publication.objects.get(letter=sign_on.letter)
    assert sign_on.events.filter(action=Action.PUBLISHED).count() == 1
    letter = publication.letter
    assert client.get(letter.url).status_code == 200
    assert letter.title in client.get("/letters/feed.atom").content.decode()
    # The published PDF carries no mark.
    with publication.pdf.open("rb") as file:
        assert "mbargo" not in pdftotext(file.read(), tmp_path)


def test_the_chore_publishes_an_embargo_whose_job_was_lost(embargoed, members):
    # A second letter under embargo, which cannot be published (its record was rewritten):
    # the chore still publishes the first.
    second = open_new_sign_on(
        members, revision=approved_revision(slug="second-letter", title="A second letter")
    )
    sign(second.invitations.order_by("pk")[0])
    broken = services.embargo_sign_on(
        sign_on=services.close_sign_on(sign_on=second, actor=STAFF_ACTOR),
        until=embargoed.until - datetime.timedelta(minutes=1),
        actor=STAFF_ACTOR,
    )
    QuerySet(Event).filter(sign_on=broken.sign_on, sequence=1).update(actor="someone else")
    with time_machine.travel(embargoed.until + datetime.timedelta(minutes=3), tick=False):
        assert services.release_due_embargoes() == 1
        assert services.release_due_embargoes() == 0
    assert Publication.objects.filter(letter=embargoed.sign_on.letter).count() == 1
    assert not Publication.objects.filter(letter=broken.sign_on.letter).exists()


def test_staff_move_the_embargo_and_the_old_moment_publishes_nothing(staff_client, embargoed):
    old = embargoed.until
    later = old + datetime.timedelta(days=1)
    response = staff_client.post(
        reverse("signatories_admin:embargo", args=[embargoed.sign_on.pk]), {"until": local(later)}
    )
    assert response.status_code == 302
    embargoed.refresh_from_db()
    assert local(embargoed.until) == local(later)
    moved = embargoed.sign_on.events.get(action=Action.EMBARGO_MOVED)
    assert moved.detail["previous_until"] == old.isoformat()
    with time_machine.travel(old + datetime.timedelta(seconds=1), tick=False):
        assert release_embargo_job.call(embargoed.pk) == "nothing due"
    assert not Publication.objects.filter(letter=embargoed.sign_on.letter).exists()
    assert selectors.verify_event_chain(sign_on=embargoed.sign_on) == []


def test_lifting_the_embargo_publishes_now_after_a_confirmation(
    staff_client, embargoed, client, mailoutbox, django_capture_on_commit_callbacks
):
    sign_on = embargoed.sign_on
    services.add_press_preview(
        embargo=embargoed, name="Sam Li", email="sam@news.example", outlet="", actor=STAFF_ACTOR
    )
    preview = PressPreview.objects.get()
    token = selectors.press_link_token(preview)
    url = reverse("signatories_admin:lift_embargo", args=[sign_on.pk])
    confirm = staff_client.get(url)
    assert "Lift the embargo and publish now" in confirm.content.decode()
    assert not Publication.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url)
    embargoed.refresh_from_db()
    assert embargoed.lifted_early and embargoed.published_at is not None
    assert sign_on.events.filter(action=Action.EMBARGO_LIFTED).count() == 1
    # The press's link now leads to the published letter.
    response = client.get(reverse("signatories:press_preview", args=[token]))
    assert response.status_code == 302 and response["Location"] == sign_on.letter.url
    assert selectors.verify_event_chain(sign_on=sign_on) == []


def test_a_withdrawn_or_unknown_link_does_not_open(embargoed, client):
    preview = services.add_press_preview(
        embargo=embargoed, name="Sam Li", email="sam@news.example", outlet="", actor=STAFF_ACTOR
    )
    token = selectors.press_link_token(preview)
    services.revoke_press_preview(preview=preview)
    assert client.get(reverse("signatories:press_preview", args=[token])).status_code == 410
    assert client.get(reverse("signatories:press_preview", args=["x" * 43])).status_code == 404
    assert client.get("/sign/press/short/pdf/").status_code == 404
    assert not PreviewAccess.objects.exists()


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (datetime.timedelta(hours=-1), "must end in the future"),
        (datetime.timedelta(days=400), "ends within a year"),
    ],
)
def test_an_impossible_moment_is_refused_by_name(staff_client, closed, until, message):
    response = staff_client.post(
        reverse("signatories_admin:embargo", args=[closed.pk]),
        {"until": local(timezone.now() + until)},
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors["until"][0]
    assert not Embargo.objects.exists()


def test_bad_input_for_the_press_is_refused_by_name(staff_client, embargoed):
    url = reverse("signatories_admin:add_press_preview", args=[embargoed.sign_on.pk])
    response = staff_client.post(url, {"name": "Sam", "email": "not an address"})
    assert response.status_code == 400
    assert "email" in response.context["press_form"].errors
    staff_client.post(url, {"name": "Sam", "email": "sam@news.example"})
    again = staff_client.post(url, {"name": "Sam L", "email": "SAM@news.example"})
    assert again.status_code == 400
    assert "already has a preview link" in again.context["press_form"].errors["email"][0]
    assert PressPreview.objects.count() == 1


def test_an_open_sign_on_cannot_be_embargoed(members):
    sign_on = open_new_sign_on(members)
    with pytest.raises(services.TransitionNotAllowed, match="closed sign-on"):
        services.embargo_sign_on(
            sign_on=sign_on,
            until=timezone.now() + datetime.timedelta(days=1),
            actor=STAFF_ACTOR,
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_the_moment_publish_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (run with DATABASE_URL=postgres://…)")
    ensure_wagtail_site()
    sign_on = closed_sign_on(make_members(2))
    embargo = services.embargo_sign_on(
        sign_on=sign_on, until=timezone.now() + datetime.timedelta(seconds=1), actor=STAFF_ACTOR
    )
    time.sleep(max(0.0, (embargo.until - timezone.now()).total_seconds()) + 0.2)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(release_embargo_job.call(embargo.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["nothing due", "published"]
    assert Publication.objects.filter(letter=sign_on.letter).count() == 1
