"""An open letter at internet scale: 1,000 people sign and confirm through `make serve`.

`make bench` with DATABASE_URL set to PostgreSQL and Redis at 127.0.0.1:6379. The server is the
command `make serve` runs (gunicorn with 2 workers and the task worker beside it, DEBUG off, the
cache and rate limits in Redis), on the test database, behind one trusted proxy so that each
person signs from an address of their own, sending its email to a mail server that accepts every
message at once (tests/support/smtp_sink.py). The sign-on lists people by rule once they confirm.

20 clients sign for 1,000 people (each opens the open link's page and signs); the worker mails
each a link; then the 20 clients confirm for them (each opens their link and presses Confirm).
Prints each step's latencies, the rate of each phase and of the two together, and when the
mail arrived; asserts the invariants: every person signed and listed once, none lost or
doubled, the event chain intact, every confirmation and listing email sent.
"""

import os
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from signatories import selectors, services
from signatories.models import Signature
from tests.production import (
    cpu_seconds,
    descendants,
    flush_redis,
    gunicorn_processes,
    http_request,
    postgres_backends,
    require_production_stack,
    start_make_serve,
    stop_make_serve,
)
from tests.support.signing import (
    SIGNATURE_LINK,
    STAFF_ACTOR,
    approved_revision,
    open_new_sign_on,
    with_open_link,
)
from tests.support.smtp_sink import SmtpSink, text_of

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "1000"))
CLIENTS = 20
TARGET_RATE = 50  # people a second, signing and confirming together
TARGET_P95 = 0.300
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HASH = re.compile(r'name="person-text_hash" value="([0-9a-f]{64})"')
NAMES = [
    "Zoë Ångström",
    "Ηλέκτρα Παππά",
    "Мария Иванова",
    "مريم الحسيني",
    "山田 花子",
    "Seán Ó Dálaigh",
]


def _address(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"}


def _open(base: str, path: str, n: int) -> dict[str, object]:
    """Person n opens a page with a form (the open link's, or their own link's): its latency
    and what the form needs to be sent."""
    started = time.perf_counter()
    status, text, cookies = http_request(base, "GET", path, headers=_address(n))
    took = time.perf_counter() - started
    assert status == 200, (status, text[:500])
    text_hash = HASH.search(text)
    return {
        "get": took,
        "csrf": CSRF.search(text).group(1),
        # With DEBUG off the CSRF cookie is Secure: over plain http the client sends it itself.
        "cookie": f"csrftoken={cookies['csrftoken'].value}",
        "text_hash": text_hash.group(1) if text_hash else "",
    }


def _post(base: str, path: str, n: int, form: dict[str, object], data: dict[str, str]) -> float:
    """Person n sends the form; its latency (a redirect is what succeeds)."""
    started = time.perf_counter()
    status, text, _ = http_request(
        base,
        "POST",
        path,
        headers={**_address(n), "Cookie": str(form["cookie"])},
        data={"csrfmiddlewaretoken": str(form["csrf"]), **data},
    )
    took = time.perf_counter() - started
    assert status == 302, (n, status, text[:500])
    return took


def _signing(n: int, form: dict[str, object]) -> dict[str, str]:
    return {
        "action": "individual",
        "person-person": f"{NAMES[n % len(NAMES)]} {n:05}",
        "person-title": "Citizen",
        "person-affiliation": "",
        "person-signer_email": f"person{n:05}@open.example.org",
        "person-text_hash": str(form["text_hash"]),
    }


def _p(seconds: list[float], q: int) -> float:
    return statistics.quantiles(seconds, n=100)[q - 1] * 1000


def test_1000_people_sign_and_confirm_an_open_letter(members, tmp_path, bench_row):
    require_production_stack()
    revision = approved_revision(accepts_individuals=True)
    sign_on = with_open_link(open_new_sign_on(members, revision=revision))
    services.approve_individuals_by_rule(sign_on=sign_on, approve=True, actor=STAFF_ACTOR)
    path = reverse("signatories:open_link", args=[sign_on.token])
    flush_redis()
    sink = SmtpSink()
    log = tmp_path / "serve.log"
    server, base = start_make_serve(
        log,
        # The links and the event chain are keyed with the test process's secret.
        SECRET_KEY=settings.SECRET_KEY,
        # Behind a load balancer: each person signs from their own address (X-Forwarded-For).
        TRUSTED_PROXY_COUNT="1",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
    )
    people = range(PEOPLE)
    try:
        # The web workers load their templates and connections before the clock starts.
        for n in range(4):
            requests.get(base + path, headers={"X-Forwarded-For": f"192.0.2.{n}"}, timeout=60)
        web = gunicorn_processes(server)
        worker = descendants(server.pid) - web
        load_before = os.getloadavg()[0]
        with ThreadPoolExecutor(CLIENTS) as pool:
            # Each person reads the letter on the open link's page, then signs.
            forms = list(pool.map(lambda n: _open(base, path, n), people))
            backends = postgres_backends()
            cpu = cpu_seconds(web), cpu_seconds(worker), cpu_seconds(backends)
            started, own_cpu = time.monotonic(), time.process_time()
            signing = list(
                pool.map(lambda n: _post(base, path, n, forms[n], _signing(n, forms[n])), people)
            )
            signed_in = time.monotonic() - started
            clients_cpu = time.process_time() - own_cpu
            mailed = sink.wait_for(PEOPLE, timeout=300) - started
            links: dict[str, str] = {}
            for _, message in sink.kept():
                found = SIGNATURE_LINK.search(text_of(message))
                if found:
                    links[message["To"]] = found.group(1)
            own = [links[f"person{n:05}@open.example.org"] for n in people]
            # Each opens the link emailed to them, then presses Confirm.
            pages = list(pool.map(lambda n: _open(base, own[n], n), people))
            started, own_cpu = time.monotonic(), time.process_time()
            confirming = list(
                pool.map(lambda n: _post(base, own[n], n, pages[n], {"action": "confirm"}), people)
            )
            confirmed_in = time.monotonic() - started
            clients_cpu += time.process_time() - own_cpu
            listed_mail = sink.wait_for(2 * PEOPLE, timeout=300) - started
            backends |= postgres_backends()
            used = (
                cpu_seconds(web) - cpu[0],
                cpu_seconds(worker) - cpu[1],
                cpu_seconds(backends) - cpu[2],
            )
    finally:
        stop_make_serve(server)
        sink.close()

    signatures = Signature.objects.filter(sign_on=sign_on, organization__isnull=True)
    keys = list(signatures.values_list("signer_email_key", flat=True))
    approved = signatures.filter(status=Signature.Status.APPROVED).count()
    doubled, lost = len(keys) - len(set(keys)), PEOPLE - len(set(keys))
    chain = selectors.verify_event_chain(sign_on=sign_on)
    both = signed_in + confirmed_in
    steps = {
        "open link page GET": [float(f["get"]) for f in forms],
        "signing POST": signing,
        "own link page GET": [float(p["get"]) for p in pages],
        "confirming POST": confirming,
    }
    per_person = [seconds / PEOPLE * 1000 for seconds in used]
    print(
        f"\n`make serve` (gunicorn, 2 workers, and its task worker), PostgreSQL, Redis, DEBUG off;"
        f" {CLIENTS} concurrent clients, {PEOPLE:,} people, each from an address of their own:"
        f"\n  signed {len(set(keys))}, lost {lost}, doubled {doubled}; listed by rule {approved};"
        f" chain intact: {chain == []}; {sink.count()} emails received"
        f"\n  signing POSTs: {signed_in:.1f} s ({PEOPLE / signed_in:.0f} people/s); the worker's "
        f"last confirmation link arrived {mailed:.1f} s after the first signature"
        f"\n  confirming POSTs: {confirmed_in:.1f} s ({PEOPLE / confirmed_in:.0f} people/s); the "
        f"last 'listed' email {listed_mail:.1f} s after the first confirmation"
        f"\n  both: {both:.1f} s ({PEOPLE / both:.0f} people/s signed and confirmed; target "
        f"{PEOPLE / TARGET_RATE:.0f} s, {TARGET_RATE}/s)"
        f"\n  CPU per person, both POSTs and both emails: web {per_person[0]:.1f} ms, task worker "
        f"{per_person[1]:.1f} ms, PostgreSQL {per_person[2]:.1f} ms; the {CLIENTS} clients (and the "
        f"mail server) in this process, while they POST: {clients_cpu / PEOPLE * 1000:.1f} ms"
        f"\n  load average {load_before:.1f} before the run on {os.cpu_count()} cores"
    )
    section = (
        f"An open letter through `make serve` (2 web workers and the task worker), {PEOPLE:,} "
        f"people, {CLIENTS} clients"
    )
    for step, seconds in steps.items():
        print(f"  {step:<20} p50 {_p(seconds, 50):>5.0f}  p95 {_p(seconds, 95):>5.0f} ms")
        bench_row(
            section,
            f"{step} p50 / p95",
            f"{_p(seconds, 50):.0f} / {_p(seconds, 95):.0f} ms",
            f"p95 under {TARGET_P95 * 1000:.0f} ms",
        )
    bench_row(section, "lost, doubled", f"{lost}, {doubled}", "0, 0")
    bench_row(
        section,
        "signing POSTs, then confirming POSTs",
        f"{signed_in:.1f} s + {confirmed_in:.1f} s = {PEOPLE / both:.0f} people/s",
        f"{PEOPLE / TARGET_RATE:.0f} s or less, {TARGET_RATE}/s",
    )
    bench_row(section, "last confirmation link mailed", f"{mailed:.1f} s after the first", "")
    bench_row(
        section,
        "CPU per person: web, worker, PostgreSQL",
        " / ".join(f"{ms:.1f}" for ms in per_person) + " ms",
        "",
    )
    assert (lost, doubled) == (0, 0), log.read_text()[-3000:]
    assert approved == PEOPLE
    assert chain == []
    assert sink.count() == 2 * PEOPLE
