"""200 organizations sign within a minute, through the real views of a live server.

Run with `make bench` (set DATABASE_URL to a PostgreSQL database). Prints figures; the only
assertions are the invariants: nothing lost, nothing doubled.
"""

import datetime
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coalition.models import Contact, Membership, Organization
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.models import Signature
from tests.e2e.conftest import ensure_wagtail_site
from tests.factories import CoalitionFactory, make_letter

ORGANIZATIONS = 200
WORKERS = 20
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HASH = re.compile(r'name="text_hash" value="([0-9a-f]{64})"')


def _setup() -> tuple[object, list[tuple[str, Organization]]]:
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Bench Coalition")
    organizations = Organization.objects.bulk_create(
        [
            Organization(
                name=f"Bench Org {i:03}",
                name_key=f"benchorg{i:03}",
                sort_name=f"Bench Org {i:03}",
                slug=f"bench-org-{i:03}",
            )
            for i in range(ORGANIZATIONS)
        ]
    )
    Membership.objects.bulk_create(
        [Membership(coalition=coalition, organization=o) for o in organizations]
    )
    Contact.objects.bulk_create(
        [
            Contact(
                organization=o,
                name=f"Signer {i}",
                email=f"s{i}@bench.example.org",
                is_authorized_signer=True,
            )
            for i, o in enumerate(organizations)
        ]
    )
    letter = make_letter(live=False)
    approve_for_circulation(revision=letter.latest_revision, user=None)
    actor = services.Actor.system("bench")
    sign_on = services.create_sign_on(
        revision=letter.latest_revision,
        deadline=timezone.now() + datetime.timedelta(days=1),
        coalitions=[coalition],
        actor=actor,
    )
    services.open_sign_on(sign_on=sign_on, actor=actor)
    invitations = list(sign_on.invitations.select_related("organization").order_by("pk"))
    # Each signer's own link, as their invitation email carries it.
    return sign_on, [(selectors.invitation_link_token(i), i.organization) for i in invitations]


@pytest.mark.bench
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_200_organizations_sign_within_a_minute(live_server, settings, caplog):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    # The 200 refused repeats are expected; don't log a "Conflict" line for each.
    caplog.set_level("ERROR", logger="django.request")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sign_on, tokens = _setup()
    latencies: list[float] = []

    def sign(item: tuple[str, Organization]) -> int:
        token, org = item
        url = live_server.url + reverse("signatories:sign", args=[token])
        with requests.Session() as session:
            page = session.get(url, timeout=60).text
            data = {
                "csrfmiddlewaretoken": CSRF.search(page).group(1),
                "text_hash": (HASH.search(page) and HASH.search(page).group(1))
                or sign_on.text_hash,
                "display_name": org.name,
                "signer_name": f"Signer of {org.name}",
                "signer_title": "President",
                "authorized": "on",
                "action": "sign",
            }
            started = time.perf_counter()
            status = session.post(url, data=data, timeout=60, allow_redirects=False).status_code
            latencies.append(time.perf_counter() - started)
            return status

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(sign, tokens))
        # Every organization then tries again at once: each must be refused, none doubled.
        repeats = list(pool.map(sign, tokens))
    elapsed = time.perf_counter() - started

    signed = Signature.objects.filter(
        sign_on=sign_on, response="signed", status__in=Signature.ACTIVE_STATUSES
    )
    per_org = signed.values_list("organization_id", flat=True)
    duplicates = len(per_org) - len(set(per_org))
    lost = ORGANIZATIONS - len(set(per_org))
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"\n{ORGANIZATIONS} organizations, {WORKERS} concurrent clients, then {ORGANIZATIONS} repeat POSTs:"
        f"\n  signed: {len(set(per_org))}  duplicates: {duplicates}  lost: {lost}"
        f"\n  first POSTs: {statuses.count(302)} x 302; repeats: {repeats.count(409)} x 409"
        f"\n  wall time: {elapsed:.1f} s for {2 * ORGANIZATIONS} page loads and {2 * ORGANIZATIONS} POSTs"
        f"  ({2 * ORGANIZATIONS / elapsed:.1f} POST/s)"
        f"\n  POST latency: p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms,"
        f" p99 {quantiles[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        f"\n  events: {sign_on.events.filter(action='signed').count()} signed; chain intact: "
        f"{selectors.verify_event_chain(sign_on=sign_on) == []}"
    )
    assert duplicates == 0
    assert lost == 0
    assert statuses.count(302) == ORGANIZATIONS
    assert repeats.count(409) == ORGANIZATIONS
    assert elapsed < 60
