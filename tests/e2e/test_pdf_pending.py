"""A reader who opens a letter's PDF while the worker is still making it, in Chromium: the page
that says so meets WCAG 2.2 AA as axe-core checks it (it never reloads under the reader), asks
again in the background, and opens the PDF once it is there."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from letters import public_page
from letters.versions import attach_publication_pdf
from tests.factories import make_letter, publish
from tests.support.database import ensure_wagtail_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def test_the_page_waits_accessibly_and_opens_the_pdf_once_it_is_made(
    page: Page, live_server, deferring_backend, monkeypatch
):
    monkeypatch.setattr(public_page, "PDF_RETRY_SECONDS", 1)
    ensure_wagtail_site()
    letter = publish(make_letter(live=False))  # its PDF job queued, and not run
    publication = letter.publications.get()
    address = f"{live_server.url}{letter.url}pdf/"

    response = page.goto(address)

    assert response is not None and response.status == 503
    expect(page.get_by_role("heading", name="The PDF is being prepared")).to_be_visible()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    assert results.response["violations"] == [], results.generate_report()
    # Still waiting: asked again in the background, and the page stays where the reader is.
    with page.expect_response(lambda r: r.url == address and r.request.method == "HEAD"):
        pass
    expect(page.get_by_role("heading", name="The PDF is being prepared")).to_be_visible()

    attach_publication_pdf(publication=publication)

    with page.expect_response(
        lambda r: r.url == address and r.request.method == "GET" and r.status == 200,
        timeout=15_000,
    ) as opened:
        pass
    assert opened.value.headers["content-type"] == "application/pdf"
