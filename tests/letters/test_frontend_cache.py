"""A CDN in front of the public pages is purged, through Wagtail's frontend cache, when a letter
is published or corrected: its page, its PDFs and data files, the archive and the feed."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from signatories.services import Actor, add_signatory, publish_correction
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish

pytestmark = pytest.mark.django_db
STAFF = Actor.system("staff@example.org")
SITE = "https://letters.example.org"


class PurgeRecorder(BaseHTTPRequestHandler):
    """A caching proxy's purge endpoint, as Varnish or nginx answer Wagtail's HTTPBackend."""

    purged: list[tuple[str, str, str]]

    def do_PURGE(self) -> None:
        self.purged.append((self.command, self.headers["Host"], self.path))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def cdn(settings) -> Iterator[list[tuple[str, str, str]]]:
    purged: list[tuple[str, str, str]] = []
    handler = type("Recorder", (PurgeRecorder,), {"purged": purged})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SITE_URL = SITE
    settings.WAGTAILFRONTENDCACHE = {
        "proxy": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": f"http://127.0.0.1:{server.server_port}",
        }
    }
    try:
        yield purged
    finally:
        server.shutdown()
        server.server_close()


def paths(purged: list[tuple[str, str, str]]) -> set[str]:
    """What was purged on the public site (SITE_URL), whatever the proxy's own address is.

    Wagtail's own handler also purges a published page, at the Wagtail Site's hostname.
    """
    return {path for _, host, path in purged if host == "letters.example.org"}


def test_publication_purges_the_letter_its_pdf_its_data_the_archive_and_the_feed(
    cdn, django_capture_on_commit_callbacks
):
    letter = make_letter(live=False, slug="purged")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Widget Makers"))

    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)

    assert {
        "/letters/purged/",
        "/letters/purged/pdf/",
        "/letters/purged/pdf/v1/",
        "/letters/purged/signatories.csv",
        "/letters/purged/signatories.json",
        "/letters/purged/letter.json",
        "/letters/purged/embed/",
        "/letters/",
        "/letters/feed.atom",
    } <= paths(cdn)
    assert all(method == "PURGE" for method, _, _ in cdn)


def test_a_correction_purges_the_new_versions_pdf_too(cdn, django_capture_on_commit_callbacks):
    letter = make_letter(live=False, slug="corrected")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Widget Makers"))
    with django_capture_on_commit_callbacks(execute=True):
        publish(letter)
    add_signatory(letter=letter, display_name="Latecomers", reason="By email.", actor=STAFF)
    cdn.clear()

    with django_capture_on_commit_callbacks(execute=True):
        publish_correction(letter=letter, note="Adds Latecomers.", actor=STAFF)

    assert {
        "/letters/corrected/",
        "/letters/corrected/pdf/",
        "/letters/corrected/pdf/v2/",
        "/letters/",
    } <= paths(cdn)


def test_nothing_is_purged_before_the_change_is_committed(cdn, django_capture_on_commit_callbacks):
    letter = make_letter(live=False, slug="uncommitted")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish(letter)

    assert paths(cdn) == set()
    for callback in callbacks:
        callback()
    assert "/letters/uncommitted/" in paths(cdn)


def test_without_a_frontend_cache_nothing_is_sent(settings, django_capture_on_commit_callbacks):
    settings.WAGTAILFRONTENDCACHE = {}
    letter = make_letter(live=False, slug="alone")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish(letter)

    assert not any("purge" in getattr(c, "func", c).__name__ for c in callbacks)
