"""Staff at 100,000 signatures (issue 20; run with `make bench`): one sign-on with 100,000
individuals (most approved, thousands waiting for review, some unconfirmed, withdrawn or
rejected) and 2,000 invited organizations (some answered), each signature with its event in the
sign-on's keyed chain, as the services would have left them.

Measured through gunicorn as `make serve` runs it (2 workers, DEBUG off, PostgreSQL and Redis)
with a staff session, the median of RUNS requests each: the tracker, its page 50, the review
queue, the queue filtered to one sign-on's individuals, and the CSV export's first byte and last.
Figures, not pass/fail timings; the targets are printed beside them.
"""

import signal
import statistics
import time
from pathlib import Path

import pytest
import requests
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from coalition.crm.demo import generate_members
from coalition.crm.models import Contact, Organization
from signatories.models import Action, Invitation, Signature, SignOn
from tests.production import collected_and_served, production_env, require_production_stack
from tests.support.signing import approved_revision, make_members, open_new_sign_on, with_open_link
from tests.support.signing_at_scale import individual, status_of, with_events

pytestmark = pytest.mark.bench

INDIVIDUALS = 100_000
ORGANIZATIONS = 2_000

RUNS = 5
LISTING_TARGET_MS = 200
BATCH = 5_000


def build_sign_on() -> SignOn:
    """The sign-on of the benchmark, committed (gunicorn reads it)."""
    sign_on = with_open_link(
        open_new_sign_on(make_members(), revision=approved_revision(accepts_individuals=True))
    )
    generate_members(organizations=ORGANIZATIONS, contacts=ORGANIZATIONS, seed=20)
    contacts = list(
        Contact.objects.exclude(organization__invitations__sign_on=sign_on)
        .select_related("organization")
        .order_by("organization_id", "pk")
    )
    first_contacts = list({c.organization_id: c for c in reversed(contacts)}.values())
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                sign_on=sign_on,
                organization=contact.organization,
                contact=contact,
                name=contact.name,
                email=contact.email,
                sent_at=sign_on.opened_at,
                opened_at=sign_on.opened_at if i % 3 == 0 else None,
            )
            for i, contact in enumerate(first_contacts[:ORGANIZATIONS])
        ]
    )
    answered = []
    for i, invitation in enumerate(invitations[: ORGANIZATIONS // 2]):
        organization = invitation.organization
        declined = i % 10 == 0
        answered.append(
            Signature(
                sign_on=sign_on,
                letter_id=sign_on.letter_id,
                invitation=invitation,
                organization=organization,
                response=Signature.Response.DECLINED if declined else Signature.Response.SIGNED,
                status=Signature.Status.PENDING_REVIEW
                if i % 10 == 1
                else Signature.Status.APPROVED,
                display_name=organization.name,
                sort_key=organization.sort_name,
                signer_name=invitation.name,
                signer_email=invitation.email,
                signer_email_key=invitation.email.lower(),
                text_hash=sign_on.text_hash,
                confirmed_at=sign_on.opened_at,
            )
        )
    with_events(sign_on, answered, Action.SIGNED)
    for start in range(0, INDIVIDUALS, BATCH):
        with_events(
            sign_on,
            [
                individual(sign_on, number, status_of(number))
                for number in range(start, min(INDIVIDUALS, start + BATCH))
            ],
            Action.INDIVIDUAL_SIGNED,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return SignOn.objects.get(pk=sign_on.pk)


def _timed(session: requests.Session, url: str) -> tuple[float, float, int]:
    """Milliseconds to the first byte of the body and to the last, and the bytes."""
    started = time.perf_counter()
    with session.get(url, stream=True, timeout=600) as response:
        assert response.status_code == 200, (url, response.status_code)
        chunks = response.iter_content(chunk_size=65536)
        size = len(next(chunks, b""))
        first = (time.perf_counter() - started) * 1000
        size += sum(len(chunk) for chunk in chunks)
    return first, (time.perf_counter() - started) * 1000, size


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_staff_listings(staff, bench_row, tmp_path: Path) -> None:
    require_production_stack()
    started = time.perf_counter()
    sign_on = build_sign_on()
    signatures = Signature.objects.filter(sign_on=sign_on).count()
    print(
        f"\nStaff at scale, {connection.vendor}: one sign-on of {signatures:,} signatures and "
        f"{sign_on.invitations.count():,} invitations, {sign_on.event_count:,} events, built in "
        f"{time.perf_counter() - started:.0f} s"
    )
    # The admin is open to staff with a second factor only, as in production.
    TOTP.activate(staff, generate_totp_secret())
    client = Client()
    client.force_login(staff)
    env = production_env(SECRET_KEY=settings.SECRET_KEY, STATIC_ROOT=str(tmp_path / "static"))
    server, base = collected_and_served(env, tmp_path / "gunicorn.log")
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    tracker = reverse("signatories_admin:tracker", args=[sign_on.pk])
    review = reverse("signatories_admin:review")
    listings = {
        "tracker": tracker,
        "tracker, page 50": f"{tracker}?page=50",
        "tracker, waiting for staff review, page 2": f"{tracker}?column=review&page=2",
        "review queue": review,
        "review queue, this sign-on's individuals, page 20": (
            f"{review}?sign_on={sign_on.pk}&kind=individual&page=20"
        ),
    }
    section = (
        f"Staff listings, one sign-on of {INDIVIDUALS:,} individuals and {ORGANIZATIONS:,} "
        f"invited organizations (gunicorn, 2 workers, {connection.vendor}, median of {RUNS})"
    )
    print(f"\n  {'page':<52} {'median ms':>10} {'KiB':>6}")
    try:
        for label, path in listings.items():
            for _ in range(2):  # both workers have read their templates
                _timed(session, base + path)
            runs = [_timed(session, base + path) for _ in range(RUNS)]
            ms = statistics.median(run[1] for run in runs)
            print(f"  {label:<52} {ms:10.0f} {runs[0][2] // 1024:6d}")
            bench_row(section, label, f"p50 {ms:.0f} ms", f"under {LISTING_TARGET_MS} ms")
        export = reverse("signatories_admin:export", args=[sign_on.pk, "csv"])
        runs = [_timed(session, base + export) for _ in range(RUNS)]
        first = statistics.median(run[0] for run in runs)
        total = statistics.median(run[1] for run in runs)
        print(
            f"  CSV export: first byte {first:.0f} ms, all {total / 1000:.1f} s, "
            f"{runs[0][2] // 1024:,} KiB"
        )
        bench_row(
            section,
            f"CSV export of {signatures:,} signatures",
            f"first byte {first:.0f} ms, all {total / 1000:.1f} s",
            "streamed",
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert Organization.objects.count() >= ORGANIZATIONS
