"""Member CRM at scale: 10,000 organizations and 50,000 contacts (run with `make bench`).

Prints the import time of a 10,000-organization file and the latency and query count of every
listing, search and organization page. Figures, not pass/fail timings.
"""

import csv
import io
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.demo import generate_members
from coalition.imports import import_members
from coalition.models import Coalition, Organization

ORGANIZATIONS = 10_000
CONTACTS = 50_000
RUNS = 7


def members_file(count: int, coalition: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "name",
            "acronym",
            "kind",
            "country",
            "website",
            "tags",
            "contact_name",
            "contact_email",
            "contact_title",
            "authorized_signer",
            "coalition",
            "tier",
        ]
    )
    for i in range(count):
        writer.writerow(
            [
                f"Imported Association Number {i}",
                f"IAN{i}",
                "trade association",
                "US",
                f"https://ian{i}.example.org",
                "imported",
                f"Person {i}",
                f"person{i}@ian{i}.example.org",
                "Director",
                "yes" if i % 3 == 0 else "no",
                coalition,
                "member",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def measure(client, url: str, params: dict | None = None) -> tuple[float, int]:
    """Median latency in milliseconds over RUNS requests, and the queries of one request."""
    timings = []
    queries = 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params or {})
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        queries = len(captured)
    return statistics.median(timings), queries


@pytest.mark.bench
@pytest.mark.django_db
def test_bench_crm(staff_client):
    print()
    print(f"database: {connection.vendor}")
    started = time.perf_counter()
    counts = generate_members(organizations=ORGANIZATIONS, contacts=CONTACTS, seed=7)
    print(f"generate_members: {counts} in {time.perf_counter() - started:.1f} s")

    org = Organization.objects.filter(interactions__isnull=False).first()
    coalition = Coalition.objects.order_by("pk").first()
    pages = {
        "organizations": ("coalition_organizations:index", {}),
        "organizations page 100": ("coalition_organizations:index", {"p": 100}),
        "organizations search 'association'": (
            "coalition_organizations:index",
            {"q": "association"},
        ),
        "organizations search contact email": (
            "coalition_organizations:index",
            {"q": org.contacts.first().email},
        ),
        "organizations filter coalition+tier": (
            "coalition_organizations:index",
            {"coalition": coalition.pk, "tier": "steering"},
        ),
        "organizations filter country+kind+tag": (
            "coalition_organizations:index",
            {"country": "DE", "kind": "ngo", "tag": "ai"},
        ),
        "contacts": ("coalition_contacts:index", {}),
        "contacts search": ("coalition_contacts:index", {"q": "smith"}),
        "memberships": ("coalition_memberships:index", {}),
        "interactions": ("coalition_interactions:index", {}),
        "coalitions": ("coalition_coalitions:index", {}),
    }
    print(f"{'page':45} {'median ms':>10} {'queries':>8}")
    for label, (name, params) in pages.items():
        ms, queries = measure(staff_client, reverse(name), params)
        print(f"{label:45} {ms:10.1f} {queries:8d}")
    ms, queries = measure(staff_client, reverse("coalition_organizations:inspect", args=[org.pk]))
    print(f"{'organization page':45} {ms:10.1f} {queries:8d}")
    started = time.perf_counter()
    response = staff_client.get(reverse("coalition_organizations:index"), {"export": "csv"})
    size = len(b"".join(response.streaming_content))
    print(
        f"{'organizations CSV export (all 10,000)':45} {(time.perf_counter() - started) * 1000:10.1f}"
        f"  ({size // 1024} KiB)"
    )

    data = members_file(ORGANIZATIONS, coalition.name)
    started = time.perf_counter()
    report = import_members(data=data, filename="members.csv", dry_run=True)
    dry = time.perf_counter() - started
    assert report.ok, report.errors[:5]
    started = time.perf_counter()
    report = import_members(data=data, filename="members.csv", dry_run=False)
    real = time.perf_counter() - started
    assert report.ok, report.errors[:5]
    print(
        f"import of {ORGANIZATIONS:,} organizations ({len(data) // 1024} KiB CSV): "
        f"dry run {dry:.1f} s, real run {real:.1f} s; {report.summary()}"
    )
