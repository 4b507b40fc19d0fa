"""200 organizations sign at once, through the production server.

`make bench` with DATABASE_URL set to PostgreSQL and Redis at 127.0.0.1:6379 (or
SIGNING_REDIS_URL). The server is the command `make serve` runs: gunicorn with 2 workers, DEBUG
off, psycopg's pool, the cache and the rate limits in Redis, and the task worker beside it
sending each "signed" email to a mail server that keeps them (tests/support/smtp_sink.py), behind
one trusted proxy so that each organization signs from an address of its own. 20 clients each
open their organization's link and sign, then every organization tries again at once. Prints the
latencies and what the server and PostgreSQL spent per request; the assertions are the
invariants: all signed, none lost or doubled, every repeat refused, the event chain intact, one
email each sent by the worker.
"""

import datetime
import os
import re
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Contact, Membership, Organization
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.models import Signature, SignOn
from tests.factories import CoalitionFactory, make_letter
from tests.production import (
    cpu_seconds,
    gunicorn_processes,
    http_request,
    postgres_backends,
    start_make_serve,
    stop_make_serve,
)
from tests.support.database import ensure_wagtail_site
from tests.support.smtp_sink import SmtpSink

REDIS_URL = os.environ.get("SIGNING_REDIS_URL", "redis://127.0.0.1:6379/3")
ORGANIZATIONS = 200
CLIENTS = 20
TARGET_P95 = 0.250
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HASH = re.compile(r'name="text_hash" value="([0-9a-f]{64})"')


def _setup() -> tuple[SignOn, list[tuple[str, Organization]]]:
    """An open sign-on of ORGANIZATIONS members, and one more to warm the server up with."""
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
            for i in range(ORGANIZATIONS + 1)
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
    invitations = sign_on.invitations.select_related("organization").order_by("organization_id")
    # Each signer's own link, as their invitation email carries it.
    return sign_on, [(selectors.invitation_link_token(i), i.organization) for i in invitations]


def _serve(tmp_path: Path, sink: SmtpSink) -> tuple[subprocess.Popen[bytes], str]:
    """The command `make serve` runs, its task worker sending the emails to `sink`."""
    return start_make_serve(
        tmp_path / "serve.log",
        CACHE_URL=REDIS_URL,
        # The event chain and the links are keyed with the test process's secret.
        SECRET_KEY=settings.SECRET_KEY,
        # Behind a load balancer: each organization signs from its own address (X-Forwarded-For).
        TRUSTED_PROXY_COUNT="1",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
    )


# The form each organization's page gave it first, sent again by a repeat (a second tab): once
# signed, the page shows the signature and a link to withdraw it, not the form.
FORMS: dict[str, tuple[str, str]] = {}


def _sign(
    base: str, token: str, organization: Organization, address: str, text_hash: str
) -> dict[str, object]:
    """Open the link and sign, as the organization's person does; the two latencies and status."""
    path = reverse("signatories:sign", args=[token])
    proxy = {"X-Forwarded-For": address}
    started = time.perf_counter()
    status, text, cookies = http_request(base, "GET", path, headers=proxy)
    got = time.perf_counter() - started
    assert status == 200, status
    shown = HASH.search(text)
    csrf = CSRF.search(text)
    if csrf is not None:
        # With DEBUG off the CSRF cookie is Secure: over plain http the client sends it itself.
        FORMS.setdefault(token, (csrf.group(1), cookies["csrftoken"].value))
    form_token, cookie = FORMS[token]
    data = {
        "csrfmiddlewaretoken": form_token,
        "text_hash": shown.group(1) if shown else text_hash,
        "display_name": organization.name,
        "signer_name": f"Signer of {organization.name}",
        "signer_title": "President",
        "authorized": "on",
        "action": "sign",
    }
    started = time.perf_counter()
    status, _, _ = http_request(
        base, "POST", path, headers={**proxy, "Cookie": f"csrftoken={cookie}"}, data=data
    )
    return {"get": got, "post": time.perf_counter() - started, "status": status}


def _percentiles(seconds: list[float]) -> str:
    cuts = statistics.quantiles(seconds, n=100)
    return (
        " ".join(
            f"{name} {value * 1000:>5.0f}"
            for name, value in (("p50", cuts[49]), ("p95", cuts[94]), ("p99", cuts[98]))
        )
        + f"  max {max(seconds) * 1000:>5.0f} ms"
    )


@pytest.mark.bench
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_200_organizations_sign_at_once(tmp_path, bench_row):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    except Exception as error:
        pytest.skip(f"needs Redis at {REDIS_URL} ({error})")
    sign_on, links = _setup()
    (warm_token, warm_organization), links = links[0], links[1:]
    sink = SmtpSink()
    server, base = _serve(tmp_path, sink)
    try:
        # Both workers load their templates and connections before the clock starts.
        for _ in range(6):
            _sign(base, warm_token, warm_organization, "192.0.2.1", sign_on.text_hash)
        # The warm-up's own "signed" email, sent before the count starts.
        sink.wait_for(1, timeout=60)
        mailed_before = sink.count()
        workers, backends = gunicorn_processes(server), postgres_backends()
        cpu_before = cpu_seconds(workers), cpu_seconds(backends)
        signers = [
            (token, organization, f"198.51.100.{n}")
            for n, (token, organization) in enumerate(links, start=1)
        ]

        def attempt(signer: tuple[str, Organization, str]) -> dict[str, object]:
            return _sign(base, *signer, sign_on.text_hash)

        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            first = list(pool.map(attempt, signers))
            # Every organization then tries again at once: each must be refused, none doubled.
            repeats = list(pool.map(attempt, signers))
        elapsed = time.perf_counter() - started
        backends |= postgres_backends()
        server_cpu = cpu_seconds(workers) - cpu_before[0]
        database_cpu = cpu_seconds(backends) - cpu_before[1]
        sink.wait_for(mailed_before + ORGANIZATIONS, timeout=120)
    finally:
        stop_make_serve(server)
        sink.close()

    organizations = [organization.pk for _, organization in links]
    signed = Signature.objects.filter(
        sign_on=sign_on,
        organization__in=organizations,
        response="signed",
        status__in=Signature.ACTIVE_STATUSES,
    )
    per_org = list(signed.values_list("organization_id", flat=True))
    doubled = len(per_org) - len(set(per_org))
    lost = ORGANIZATIONS - len(set(per_org))
    chain_problems = selectors.verify_event_chain(sign_on=sign_on)
    mailed = sink.count() - mailed_before
    statuses = [r["status"] for r in first]
    repeat_statuses = [r["status"] for r in repeats]
    gets = [float(r["get"]) for r in first + repeats]
    signing = [float(r["post"]) for r in first]
    refused = [float(r["post"]) for r in repeats]
    requests_made = len(gets) + len(signing) + len(refused)
    print(
        f"\n`make serve` (gunicorn, 2 workers, and its task worker), PostgreSQL (pool), Redis, "
        f"DEBUG off; {CLIENTS} concurrent "
        f"clients; {ORGANIZATIONS} organizations open their link and sign, then all try again:"
        f"\n  signed {len(set(per_org))}, lost {lost}, doubled {doubled}; first POSTs "
        f"{statuses.count(302)} x 302, repeats {repeat_statuses.count(409)} x 409; chain intact: "
        f"{chain_problems == []}; {mailed} emails sent by the worker"
        f"\n  {'sign page GET':<20} {_percentiles(gets)}"
        f"\n  {'POST, signing (302)':<20} {_percentiles(signing)}"
        f"\n  {'POST, repeat (409)':<20} {_percentiles(refused)}"
        f"\n  {'POST, all':<20} {_percentiles(signing + refused)}"
        f"\n  wall time {elapsed:.1f} s for {requests_made} requests ({requests_made / elapsed:.0f}"
        f"/s); CPU per request: gunicorn {server_cpu / requests_made * 1000:.1f} ms, PostgreSQL "
        f"{database_cpu / requests_made * 1000:.1f} ms"
        f"\n  target: POST p95 under {TARGET_P95 * 1000:.0f} ms on a {os.cpu_count()}-core machine "
        f"(load average {load_before:.1f} before the run: other work on it slows every figure)"
    )
    section = (
        f"An invited sign-on through `make serve` (2 web workers and the task worker), "
        f"{CLIENTS} concurrent clients"
    )
    bench_row(
        section, f"{ORGANIZATIONS} organizations sign", f"lost {lost}, doubled {doubled}", "0, 0"
    )
    bench_row(section, "sign page GET", _percentiles(gets), "")
    bench_row(
        section, "POST, signing", _percentiles(signing), f"p95 under {TARGET_P95 * 1000:.0f} ms"
    )
    bench_row(section, "POST, repeat refused", _percentiles(refused), "")
    assert doubled == 0
    assert lost == 0
    assert statuses.count(302) == ORGANIZATIONS
    assert repeat_statuses.count(409) == ORGANIZATIONS
    assert chain_problems == []
    # One "signed" email each, sent by the worker rather than inside the request.
    assert mailed == ORGANIZATIONS
