"""Published pages and PDFs cost a cache read per reader, answer 304, and go stale on a change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.caching import invalidate_public_pages
from signatories.models import Signature
from signatories.services import Actor, add_signatory, publish_correction
from tests.conftest import body
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish

pytestmark = pytest.mark.django_db
STAFF = Actor.system("staff@example.org")


@pytest.fixture
def letter(django_capture_on_commit_callbacks):
    letter = make_letter(live=False, slug="cached")
    for i in range(3):
        SignatureFactory(letter=letter, organization=OrganizationFactory(name=f"Signer {i}"))
    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)
    return letter


def test_a_cached_page_costs_no_query_and_answers_304(client, letter, django_assert_num_queries):
    first = client.get(letter.url)
    assert first.status_code == 200
    etag = first["ETag"]
    with django_assert_num_queries(0):
        second = client.get(letter.url)
        not_modified = client.get(letter.url, headers={"if-none-match": etag})
        since = client.get(letter.url, headers={"if-modified-since": first["Last-Modified"]})
    assert second.content == first.content
    assert second["ETag"] == etag
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert since.status_code == 304
    # The strict policy is still sent on a hit: it is added on the way out.
    assert "frame-ancestors 'none'" in second["Content-Security-Policy"]
    assert second["X-Frame-Options"] == "DENY"


def test_a_correction_makes_every_cached_page_stale(
    client, letter, django_capture_on_commit_callbacks
):
    client.get(letter.url)
    client.get("/letters/")
    add_signatory(letter=letter, display_name="Latecomers", reason="By email.", actor=STAFF)
    assert "Latecomers" not in client.get(letter.url).content.decode()  # not published yet
    with django_capture_on_commit_callbacks(execute=True):
        publish_correction(letter=letter, note="Adds Latecomers.", actor=STAFF)
    page = client.get(letter.url).content.decode()
    assert "Latecomers" in page and "Adds Latecomers." in page


def test_publication_makes_the_archive_stale(client, letter, django_capture_on_commit_callbacks):
    assert "Another letter" not in client.get("/letters/").content.decode()
    other = make_letter(live=False, slug="another", title="Another letter")
    with django_capture_on_commit_callbacks(execute=True):
        publish(other)
    assert "Another letter" in client.get("/letters/").content.decode()


def test_a_visitor_with_a_session_is_served_fresh(client, staff, letter):
    client.get(letter.url)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(letter.url)
    assert response.status_code == 200
    assert len(queries) > 0


def test_the_pdf_is_streamed_from_storage_with_its_hash_as_etag(client, letter):
    publication = letter.publications.get()
    versioned = client.get(f"{letter.url}pdf/v1/")
    assert versioned.streaming
    pdf = body(versioned)  # read now: the next request closes this one's file
    assert versioned["ETag"] == f'"{publication.pdf_sha256}"'
    assert versioned["Content-Length"] == str(publication.pdf_size)
    assert "immutable" in versioned["Cache-Control"]
    assert "max-age=31536000" in versioned["Cache-Control"]
    latest = client.get(f"{letter.url}pdf/")
    assert "immutable" not in latest["Cache-Control"]
    assert body(latest) == pdf
    with CaptureQueriesContext(connection) as queries:
        again = body(client.get(f"{letter.url}pdf/v1/"))
        not_modified = client.get(
            f"{letter.url}pdf/v1/", headers={"if-none-match": f'"{publication.pdf_sha256}"'}
        )
    assert len(queries) == 0
    assert again == pdf
    assert not_modified.status_code == 304


def test_an_unknown_version_is_not_found(client, letter):
    assert client.get(f"{letter.url}pdf/v9/").status_code == 404


def test_a_miss_costs_the_same_queries_for_10_and_1821_signatories(
    client, django_capture_on_commit_callbacks
):
    def published_with(count: int, slug: str):
        letter = make_letter(live=False, slug=slug, title=slug)
        organizations = [OrganizationFactory.build(name=f"{slug} {i}") for i in range(count)]
        for organization in organizations:
            organization.save()
        Signature.objects.bulk_create(
            Signature(
                letter=letter,
                organization=organization,
                display_name=organization.printed_name,
                position=i,
                status=Signature.Status.APPROVED,
            )
            for i, organization in enumerate(organizations)
        )
        publish(letter)  # the PDF job is not run: the page does not need it
        return letter

    small, large = published_with(10, "ten"), published_with(1821, "many")

    def miss(url: str) -> int:
        client.get(url)  # per-process caches warm (site root paths)
        with django_capture_on_commit_callbacks(execute=True):
            invalidate_public_pages()  # the page itself is stale: rendered again
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    assert miss(small.url) == miss(large.url)
    assert client.get(large.url).content.decode().count('class="sig"') == 1821
