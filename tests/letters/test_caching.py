"""Published pages and PDFs cost a cache read per reader, answer 304, and go stale on a change;
a page is keyed by the parameters its view reads, entries expire and are bounded, and a private
page is never stored and makes the cached ones stale when its privacy changes."""

import os
import random
import string
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from letters import caching
from letters.archive import find_letters
from letters.caching import LOCAL, PAGE_PARAMETERS, invalidate_public_pages, parameters_of
from letters.models import Letterhead, LetterIndexPage
from letters.signatory_list import PAGE_SIZE
from signatories.models import Signature
from signatories.services import Actor, add_signatory, publish_correction
from tests.factories import (
    OrganizationFactory,
    SignatureFactory,
    letter_index,
    make_letter,
    publish,
)
from tests.letters.test_frontend_cache import cdn, paths  # noqa: F401 (a fixture)
from tests.production import ROOT
from tests.support.pdf import body

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
    page = client.get(large.url).content.decode()
    assert "1821 signatories" in page
    assert page.count('class="sig"') == PAGE_SIZE  # a page of the list at a time


# ---------------------------------------------------------------------------------------------
# The key: the parameters each view reads, and no others

REDIS_URL = os.environ.get("PAGE_CACHE_TEST_URL", "redis://127.0.0.1:6379/7")


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def public_addresses(letter) -> list[str]:
    organization = letter.signatures.select_related("organization").first().organization
    return [
        letter.url,
        f"{letter.url}pdf/",
        f"{letter.url}pdf/v1/",
        f"{letter.url}signatories.csv",
        f"{letter.url}signatories.json",
        f"{letter.url}letter.json",
        f"{letter.url}embed/",
        "/letters/feed.atom",
        "/letters/",
        f"/organizations/{organization.slug}/",
    ]


def test_a_page_asked_with_parameters_its_view_does_not_read_is_the_stored_one(client, letter):
    first = client.get(letter.url)

    for query in ("?utm_source=newsletter", "?page=2&x=1", "?q=widgets", "?year=2025&year=1999"):
        assert queries_of(client, letter.url + query) == 0, query
        assert client.get(letter.url + query).content == first.content


def test_the_archive_is_keyed_by_its_filters_in_one_order(client, letter):
    first = client.get("/letters/?year=2025&coalition=nobody")
    assert first.status_code == 200

    for same in (
        "/letters/?coalition=nobody&year=2025",
        "/letters/?coalition=nobody&year=2025&utm_source=x&fbclid=y",
        "/letters/?year=1999&year=2025&coalition=+nobody+&page=",
    ):
        assert queries_of(client, same) == 0, same
    assert queries_of(client, "/letters/?year=2024&coalition=nobody") > 0
    assert queries_of(client, "/letters/?year=2025&coalition=nobody&page=2") > 0


def test_a_search_is_rendered_each_time_and_never_stored(client, letter):
    client.get("/letters/?q=widgets")
    assert queries_of(client, "/letters/?q=widgets") > 0
    # Blank, it searches nothing: the archive as it is stored.
    client.get("/letters/")
    assert queries_of(client, "/letters/?q=+") == 0


def test_a_view_never_sees_the_parameters_it_does_not_read(client, letter):
    # The first to ask stores the page: what it added must not be in the page everyone is served.
    feed = client.get("/letters/feed.atom?utm_source=spam").content.decode()
    addressee = "The+Honorable+Jane+Doe"  # its first line: a filter of the archive
    archive = client.get(f"/letters/?recipient={addressee}&utm_source=spam").content.decode()

    assert "spam" not in feed
    assert "Clear the filters" in archive
    assert "spam" not in archive


@pytest.fixture
def parameters_read(monkeypatch) -> list[str]:
    """The name of every GET parameter read from a request while the test runs."""
    read: list[str] = []
    for method in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(QueryDict, method)

        def recording(self, key, *args, _original=original, **kwargs):
            read.append(key)
            return _original(self, key, *args, **kwargs)

        monkeypatch.setattr(QueryDict, method, recording)
    return read


def test_every_public_view_reads_only_the_parameters_declared_for_it(
    client, letter, parameters_read
):
    for url in public_addresses(letter):
        parameters_read.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        body(response)
        declared = set(parameters_of(url))
        assert set(parameters_read) <= declared, (url, set(parameters_read) - declared)


def test_the_archive_reads_only_the_parameters_declared_for_it(letter):
    read = []

    class Recording(dict):
        def get(self, key, default=None):
            read.append(key)
            return super().get(key, default)

        def __getitem__(self, key):
            read.append(key)
            return super().__getitem__(key)

    index = LetterIndexPage.objects.get()
    find_letters(index, Recording(), letterhead=Letterhead(), per_page=20)

    assert read
    assert set(read) <= set(PAGE_PARAMETERS[index.url])


@contextmanager
def pages_in_redis(settings):
    """The page cache in Redis, as in production, under a prefix of this test's own."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"needs Redis at {REDIS_URL} ({error}); set PAGE_CACHE_TEST_URL to another")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    try:
        yield lambda: [key.decode() for key in client.scan_iter(f"{prefix}:*")], client
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def random_query(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(1, 12)))

    return "&".join(f"{word()}={word()}" for _ in range(rng.randint(1, 4)))


def test_300_requests_with_random_query_strings_leave_a_handful_of_entries(
    client, letter, settings
):
    addresses = [letter.url, "/letters/", "/letters/feed.atom", f"{letter.url}signatories.csv"]
    with pages_in_redis(settings) as (keys, redis):
        for url in addresses:
            client.get(url)
        LOCAL.forget()  # every request below asks Redis
        stored = keys()
        rng = random.Random(15)

        with CaptureQueriesContext(connection) as queries:
            for _ in range(300):
                response = client.get(f"{rng.choice(addresses)}?{random_query(rng)}")
                assert response.status_code == 200

        assert len(queries) == 0, "a request with a random query string was rendered"
        assert sorted(keys()) == sorted(stored)
        assert len(stored) == len(addresses)
        for key in stored:
            assert 0 < redis.ttl(key) <= caching.TIMEOUT
        # The generation lives with the rate limits, which are never evicted: not among pages.
        assert cache.get(caching.GENERATION_KEY) is not None
        assert not any(caching.GENERATION_KEY in key for key in stored)


# ---------------------------------------------------------------------------------------------
# Bounds: what an entry and the cache may hold


def test_entries_expire_long_before_a_day():
    assert caching.TIMEOUT <= 15 * 60


def test_a_page_larger_than_the_bound_is_served_but_not_stored(
    client, letter, monkeypatch, django_capture_on_commit_callbacks
):
    size = len(client.get(letter.url).content)
    monkeypatch.setattr(caching, "MAX_ENTRY_BYTES", size - 1)
    with django_capture_on_commit_callbacks(execute=True):
        invalidate_public_pages()

    client.get(letter.url)

    assert queries_of(client, letter.url) > 0
    assert queries_of(client, "/letters/") > 0  # smaller: stored on the first
    assert queries_of(client, "/letters/") == 0


def test_a_page_cache_that_cannot_be_reached_costs_a_render_not_an_error(
    client, letter, settings, caplog
):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    LOCAL.forget()

    first, second = client.get(letter.url), client.get(letter.url)

    assert first.status_code == second.status_code == 200
    assert letter.title in second.content.decode()
    assert "The page cache refused" in caplog.text


def test_an_older_generations_pages_leave_this_processs_memory_at_once(
    client, letter, django_capture_on_commit_callbacks
):
    client.get(letter.url)
    assert LOCAL.pages

    with django_capture_on_commit_callbacks(execute=True):
        invalidate_public_pages()

    assert not LOCAL.pages


def test_pages_have_a_cache_of_their_own_when_page_cache_url_is_set():
    # The settings module alone, read afresh from the environment.
    show = (
        "from coalition.project.settings import CACHES as c; "
        "print(c['default']['LOCATION'], c['pages']['LOCATION'])"
    )
    env = {**os.environ, "CACHE_URL": "redis://127.0.0.1:6379/0"}

    def settings_with(**more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", show],
            cwd=ROOT,
            env={**env, **more},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert settings_with().stdout.split() == ["redis://127.0.0.1:6379/0"] * 2
    apart = settings_with(PAGE_CACHE_URL="redis://127.0.0.1:6380/0").stdout.split()
    assert apart == ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0"]
    wrong = settings_with(PAGE_CACHE_URL="memcached://127.0.0.1:11211")
    assert wrong.returncode != 0
    assert "PAGE_CACHE_URL must be a Redis URL" in wrong.stderr


def test_in_development_pages_and_limits_share_one_memory_store_emptied_at_once():
    caches["pages"].set("page", 1)
    cache.clear()
    assert caches["pages"].get("page") is None


# ---------------------------------------------------------------------------------------------
# Privacy: a private page is never stored, and a change of privacy makes pages stale at once


def test_login_required_on_the_archive_makes_every_cached_address_private_at_once(
    client, letter, django_capture_on_commit_callbacks
):
    addresses = public_addresses(letter)
    for url in addresses:
        body(client.get(url))
    assert all(queries_of(client, url) == 0 for url in addresses if "/pdf/" not in url)

    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=letter_index(), restriction_type=PageViewRestriction.LOGIN
        )

    for url in (letter.url, f"{letter.url}pdf/", f"{letter.url}pdf/v1/", "/letters/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    for name in ("signatories.csv", "signatories.json", "letter.json", "embed/"):
        assert client.get(f"{letter.url}{name}").status_code == 404, name
    feed = client.get("/letters/feed.atom").content.decode()
    assert letter.title not in feed
    organization_page = client.get(addresses[-1]).content.decode()
    assert letter.url not in organization_page


def test_a_private_page_and_everything_under_its_address_is_never_stored(client, letter):
    PageViewRestriction.objects.create(
        page=letter_index(), restriction_type=PageViewRestriction.LOGIN
    )
    key_count = len(LOCAL.pages)

    for url in public_addresses(letter)[:-1]:  # the organization's page is not under it
        for _ in range(2):
            response = client.get(url)
            assert response.status_code != 200 or url == "/letters/feed.atom", url

    assert len(LOCAL.pages) == key_count
    assert queries_of(client, "/letters/feed.atom") > 0


def test_a_letter_shared_with_a_password_is_never_stored(client, letter):
    PageViewRestriction.objects.create(
        page=letter, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    for _ in range(2):
        response = client.get(letter.url)
        assert letter.title not in response.content.decode().split("<body", 1)[-1]

    assert not LOCAL.pages
    with CaptureQueriesContext(connection) as queries:
        client.get(letter.url)
    assert len(queries) > 0


def test_privacy_set_and_removed_in_the_admin_makes_the_cached_pages_stale_each_time(
    staff, letter, client, django_capture_on_commit_callbacks
):
    from django.test import Client

    staff_client = Client()
    staff_client.force_login(staff)
    archive = letter_index()
    privacy = f"/admin/pages/{archive.pk}/privacy/"
    assert client.get(letter.url).status_code == 200  # stored

    with django_capture_on_commit_callbacks(execute=True):
        made = staff_client.post(privacy, {"restriction_type": "login"})
    assert made.status_code == 200, made.content[:500]
    assert PageViewRestriction.objects.filter(page=archive).exists()
    assert client.get(letter.url).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(privacy, {"restriction_type": "none"})
    assert not PageViewRestriction.objects.exists()
    assert client.get(letter.url).status_code == 200


@pytest.mark.parametrize("change", ["type", "deleted"])
def test_a_restriction_changed_or_deleted_by_code_moves_the_generation(
    change, django_capture_on_commit_callbacks
):
    restriction = PageViewRestriction.objects.create(
        page=letter_index(), restriction_type=PageViewRestriction.LOGIN
    )
    before = caching.generation()

    with django_capture_on_commit_callbacks(execute=True):
        if change == "type":
            restriction.restriction_type = PageViewRestriction.GROUPS
            restriction.save()
        else:
            restriction.delete()

    assert caching.generation() == before + 1


def test_a_letter_moved_under_another_archive_moves_the_generation(
    letter, django_capture_on_commit_callbacks
):
    other = (
        letter_index()
        .get_parent()
        .add_child(instance=LetterIndexPage(title="Members only", slug="members"))
    )
    before = caching.generation()

    with django_capture_on_commit_callbacks(execute=True):
        letter.move(other, pos="last-child")

    assert caching.generation() > before


def test_privacy_on_the_archive_purges_the_cdn_of_its_letters(
    cdn,  # noqa: F811
    letter,
    django_capture_on_commit_callbacks,
):
    cdn.clear()

    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=letter_index(), restriction_type=PageViewRestriction.LOGIN
        )

    assert {
        "/letters/",
        "/letters/cached/",
        "/letters/cached/pdf/",
        "/letters/cached/pdf/v1/",
        "/letters/cached/signatories.csv",
        "/letters/cached/signatories.json",
        "/letters/cached/letter.json",
        "/letters/cached/embed/",
        "/letters/feed.atom",
    } <= paths(cdn)
