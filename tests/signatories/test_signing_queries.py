"""Signing stays cheap as a sign-on fills up.

The signer's page and a signature cost a few queries, the same with 3 signatures before them as
with 50; the letter is rendered once per circulated revision and letterhead, while what changes
(who has signed, where staff show it) stays live.
"""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from wagtail.models import Revision, Site

from letters.models import Letterhead
from signatories.models import Invitation, Signature, SignOn
from tests.support.signing import (
    approved_revision,
    make_members,
    open_new_sign_on,
    sign,
    sign_data,
    token_for,
)

# The queries of each request, as the test database counts them (savepoints included, the
# email job queued after commit not: it is one INSERT more in production).
# Whether the letter has published translations, which signers may read it in, comes with the
# link; only a letter that has some asks for them.
OPENING = 10  # the link, recording the first opening (locked, chained), the site, its letterhead
READING = 3  # the link (with whether the organization answered), the site and its letterhead
READING_ANSWERED = 4  # READING and the organization's response
SIGNING = 12  # the link; before the lock, the reasons for review (the organizations the line
# may name, the authorized signers on file, the lines that stand: selectors.ReviewLookups, as
# the review queue reads a page's); under the sign-on's lock: the sign-on, the invitation, what
# stands and the last position, the signature (no savepoint: what stands was read under the
# lock), the invitation, the event, the chain's head
REPEATING = 5  # a second answer: refused before any lock, the page shows the answer that stands
# (an answer reads whether the letter is translated only when its page shows the letter again)
LISTED = 9  # READING, the record's head (which the tally's counts are kept by), the tally
# behind "signed so far", the circulated revision and its list


def url(invitation: Invitation) -> str:
    return reverse("signatories:sign", args=[token_for(invitation)])


def sign_on_with(prior: int, **options) -> tuple[SignOn, list[Invitation]]:
    """An open sign-on with `prior` signatures already, and the invitations still to answer."""
    sign_on = open_new_sign_on(make_members(prior + 3), **options)
    invitations = list(sign_on.invitations.select_related("organization", "sign_on").order_by("pk"))
    for invitation in invitations[:prior]:
        sign(invitation)
    return sign_on, invitations[prior:]


@pytest.mark.parametrize("prior", [3, 50])
def test_it_opens_and_reads_the_sign_page_in_a_few_queries(
    db, client, prior, django_assert_max_num_queries
):
    _, (first, second, _) = sign_on_with(prior)
    assert client.get(url(first)).status_code == 200  # renders the letter into the cache
    with django_assert_max_num_queries(OPENING):
        response = client.get(url(second))
    assert response.status_code == 200
    assert b"We write about widgets." in response.content
    second.refresh_from_db()
    assert second.opened_at is not None
    with django_assert_max_num_queries(READING):
        again = client.get(url(second))
    assert again.content.count(b"We write about widgets.") == 1
    sign(second)
    with django_assert_max_num_queries(READING_ANSWERED):
        signed = client.get(url(second))
    assert b"has signed" in signed.content


@pytest.mark.parametrize("prior", [3, 50])
def test_it_signs_in_a_few_queries(db, client, prior, django_assert_max_num_queries):
    sign_on, (invitation, *_) = sign_on_with(prior)
    data = sign_data(sign_on, invitation.organization)
    client.get(url(invitation))  # the signer reads the letter first
    with django_assert_max_num_queries(SIGNING):
        response = client.post(url(invitation), data)
    assert response.status_code == 302
    signature = Signature.objects.get(sign_on=sign_on, organization=invitation.organization)
    assert signature.status == Signature.Status.APPROVED
    assert signature.position == prior + 1
    with django_assert_max_num_queries(REPEATING):
        repeat = client.post(url(invitation), data)
    assert repeat.status_code == 409
    assert b"already signed" in repeat.content
    assert Signature.objects.filter(sign_on=sign_on).count() == prior + 1


@pytest.mark.parametrize("prior", [3, 50])
def test_the_page_that_shows_who_signed_reads_them_in_a_few_queries(
    db, client, prior, django_assert_max_num_queries
):
    _, (invitation, *_) = sign_on_with(prior, show_signatories=True)
    client.get(url(invitation))
    with django_assert_max_num_queries(LISTED):
        response = client.get(url(invitation))
    assert f"{prior} organizations have signed so far.".encode() in response.content
    assert response.content.count(b'class="sig"') == prior


def test_the_letter_is_rendered_once_for_every_signer(db, client):
    _, invitations = sign_on_with(0)
    with mock.patch.object(
        Revision, "as_object", autospec=True, side_effect=Revision.as_object
    ) as built:
        pages = [client.get(url(invitation)).content for invitation in invitations]
    assert built.call_count == 1
    assert all(b"We write about widgets." in page for page in pages)


def test_a_new_letterhead_date_format_shows_at_once(db, client):
    revision = approved_revision(letter_date=datetime.date(2026, 3, 12))
    sign_on = open_new_sign_on(make_members(1), revision=revision)
    invitation = sign_on.invitations.get()
    assert b"March 12, 2026" in client.get(url(invitation)).content
    letterhead = Letterhead.for_site(Site.objects.get(is_default_site=True))
    letterhead.date_format = Letterhead.DateFormat.INTERNATIONAL
    letterhead.save()
    page = client.get(url(invitation)).content
    assert b"12 March 2026" in page
    assert b"March 12, 2026" not in page


def test_the_list_of_who_signed_stays_live_under_the_cached_text(db, client):
    _, (first, second, third) = sign_on_with(0, show_signatories=True)
    assert b'class="sig"' not in client.get(url(third)).content
    sign(first)
    page = client.get(url(third)).content
    assert page.count(b'class="sig"') == 1
    assert first.organization.name.encode() in page
    assert b"1 organization has signed so far." in page
    sign(second)
    page = client.get(url(third)).content
    assert page.count(b'class="sig"') == 2
    assert second.organization.name.encode() in page
    assert b"2 organizations have signed so far." in page


# An open letter's people, each through the open link and their own emailed link.
OPEN_READING = 3  # the open link's sign-on and letter (whether it is translated), the site, its
# letterhead
PERSON_SIGNING = 9  # the open link, whether the address answered; under the
# sign-on's lock: the sign-on, the last position, the signature (held by no constraint while
# nobody confirmed it: no savepoint), the event, the chain's head
OWN_READING = 3  # the signature with its sign-on and letter, the site, its letterhead
CONFIRMING = 11  # the signature; before the lock, the exceptions of the rule (a line that
# stands, an organization of that name) and whether another confirmed the address first; under
# it: the sign-on, the signature, its change, the event, the chain's head
# What every other signer waits for, from the sign-on's lock to the commit: PERSON_SIGNING's and
# CONFIRMING's under the lock (in production the email's job is one INSERT more among them).
UNDER_THE_LOCK = {"signing": 5, "confirming": 5}


@pytest.mark.parametrize("prior", [3, 50])
def test_people_sign_and_confirm_an_open_letter_in_a_few_queries(
    db, client, prior, django_assert_max_num_queries
):
    from signatories import selectors, services
    from tests.support.signing import STAFF_ACTOR, with_open_link

    sign_on = with_open_link(
        open_new_sign_on(make_members(3), revision=approved_revision(accepts_individuals=True))
    )
    services.approve_individuals_by_rule(sign_on=sign_on, approve=True, actor=STAFF_ACTOR)
    path = reverse("signatories:open_link", args=[sign_on.token])

    def person(n: int) -> dict[str, str]:
        return {
            "action": "individual",
            "person-person": f"Person {n}",
            "person-title": "",
            "person-affiliation": "",
            "person-signer_email": f"p{n}@example.org",
            "person-text_hash": sign_on.text_hash,
        }

    for n in range(prior):
        # Each from an address of their own: the open link limits each network's signatures.
        assert client.post(path, person(n), REMOTE_ADDR=f"10.{n}.0.1").status_code == 302
    client.get(path)  # the letter rendered once for every signer (see above)
    with django_assert_max_num_queries(OPEN_READING):
        assert client.get(path).status_code == 200
    with django_assert_max_num_queries(PERSON_SIGNING):
        assert client.post(path, person(prior)).status_code == 302
    own = reverse(
        "signatories:signature",
        args=[
            selectors.signature_link_token(
                Signature.objects.get(signer_email_key=f"p{prior}@example.org")
            )
        ],
    )
    with django_assert_max_num_queries(OWN_READING):
        assert client.get(own).status_code == 200
    with django_assert_max_num_queries(CONFIRMING):
        assert client.post(own, {"action": "confirm"}).status_code == 302
    assert Signature.objects.get(signer_email_key=f"p{prior}@example.org").status == "approved"


def test_a_long_list_is_cut_for_signers_and_read_at_most_every_few_seconds(db, client, monkeypatch):
    import time_machine

    from signatories.views import common

    monkeypatch.setattr(common, "LIVE_UP_TO", 2)
    monkeypatch.setattr(common, "SHOWN_TO_SIGNERS", 2)
    _, invitations = sign_on_with(0, show_signatories=True)
    first, second, third = invitations
    with time_machine.travel("2026-12-07 12:00:00 +0000", tick=False) as clock:
        sign(first)
        sign(second)
        page = client.get(url(third)).content.decode()
        # Up to LIVE_UP_TO lines, as they stand: every signature shows at once.
        assert page.count('class="sig"') == 2 and "2 organizations have signed so far." in page
        assert "signatories-cut" not in page
        sign(third)
        page = client.get(url(third)).content.decode()
        assert "3 organizations have signed so far." in page
        # Past it, the page prints the first lines and says how many there are.
        assert page.count('class="sig"') == 2
        assert "The list above shows the first 2 of 3 lines" in page
        Signature.objects.filter(invitation=third).update(display_name="Renamed Since")
        SignOn.objects.filter(pk=third.sign_on_id).update(event_count=99)
        # Read again at most every few seconds, however the sign-on changes meanwhile.
        clock.shift(2)
        assert "3 organizations have signed so far." in client.get(url(third)).content.decode()
        clock.shift(common.REFRESHED_EVERY)
        Signature.objects.filter(invitation=first).update(status=Signature.Status.WITHDRAWN)
        assert "2 organizations have signed so far." in client.get(url(third)).content.decode()


def test_signed_so_far_follows_the_setting_not_the_kept_counts(db, client):
    """The counts kept for signers' pages (views.common.as_it_stands) hold no setting: "signed so
    far" goes with staff's choice at once, while the goal's progress stays."""
    sign_on, (first, _, third) = sign_on_with(0, show_signatories=True, goal_organizations=3)
    sign(first)
    client.get(url(third))  # the first opening is an event of its own
    page = client.get(url(third)).content.decode()
    assert "1 organization has signed so far." in page and "<progress" in page
    SignOn.objects.filter(pk=sign_on.pk).update(show_signatories=False)
    page = client.get(url(third)).content.decode()
    assert "signed so far" not in page and "<progress" in page


def _under_the_lock(sql: list[str]) -> list[str]:
    """The statements from the sign-on's row lock to the end of its transaction."""
    start = next(
        i for i, q in enumerate(sql) if "FOR UPDATE" in q and '"signatories_signon"' in q[:60]
    )
    end = next(i for i in range(start, len(sql)) if sql[i].startswith("COMMIT"))
    return sql[start:end]


@pytest.mark.django_db(transaction=True)
def test_a_person_signs_and_confirms_with_little_held_under_the_lock(
    client, deferring_backend, monkeypatch
):
    """Every signer of the sign-on waits for its lock: what can be read before it is, and the
    email's job is queued in the same transaction where the queue is the database's (as in
    production), with no second commit after it."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from signatories import selectors, services
    from signatories.services import core
    from tests.support.database import ensure_wagtail_site
    from tests.support.signing import STAFF_ACTOR, with_open_link

    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's row locks (run with DATABASE_URL=postgres://…)")
    ensure_wagtail_site()
    sign_on = with_open_link(
        open_new_sign_on(make_members(3), revision=approved_revision(accepts_individuals=True))
    )
    services.approve_individuals_by_rule(sign_on=sign_on, approve=True, actor=STAFF_ACTOR)
    path = reverse("signatories:open_link", args=[sign_on.token])
    data = {
        "action": "individual",
        "person-person": "Zoë Ångström",
        "person-title": "",
        "person-affiliation": "",
        "person-signer_email": "zoe@example.org",
        "person-text_hash": sign_on.text_hash,
    }
    # The test backend stands for the database's queue; each job notes whether it came in the
    # change's transaction.
    monkeypatch.setattr(core, "queued_in_database", lambda job, alias: True)
    in_transaction: list[bool] = []
    enqueue = deferring_backend.enqueue

    def noting(task, args, kwargs):
        in_transaction.append(transaction.get_connection().in_atomic_block)
        return enqueue(task, args, kwargs)

    monkeypatch.setattr(deferring_backend, "enqueue", noting)
    before = len(deferring_backend.results)  # the sign-on's own jobs
    with CaptureQueriesContext(connection) as signing:
        assert client.post(path, data).status_code == 302
    signature = Signature.objects.get(signer_email_key="zoe@example.org")
    own = reverse("signatories:signature", args=[selectors.signature_link_token(signature)])
    with CaptureQueriesContext(connection) as confirming:
        assert client.post(own, {"action": "confirm"}).status_code == 302

    for step, queries in [("signing", signing), ("confirming", confirming)]:
        sql = [q["sql"] for q in queries.captured_queries]
        held = _under_the_lock(sql)
        assert len(held) == UNDER_THE_LOCK[step], (step, held)
        # Nothing is written after the commit.
        after = sql[sql.index(held[-1]) + 1 :]
        assert not [q for q in after if q.startswith(("INSERT", "UPDATE"))], (step, after)
    assert [(r.task.name, r.args) for r in deferring_backend.results[before:]] == [
        ("send_signature_email", [signature.pk, "confirm"]),
        ("send_signature_email", [signature.pk, "approved"]),
    ]
    assert in_transaction == [True, True]


def test_jobs_are_queued_in_the_transaction_only_where_the_queue_is_the_database():
    from types import SimpleNamespace

    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db.backend import DatabaseBackend

    from signatories.services.core import queued_in_database

    def job(backend):
        return SimpleNamespace(get_backend=lambda: backend(alias="background", params={}))

    assert queued_in_database(job(DatabaseBackend), "default")
    assert not queued_in_database(job(DatabaseBackend), "elsewhere")
    assert not queued_in_database(job(ImmediateBackend), "default")
