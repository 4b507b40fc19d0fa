"""The page editor's preview side panel frames the letter from the admin's own origin.

A site-wide `frame-ancestors 'none'` on the preview response blanks the panel (issue 8, finding 2).
"""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.factories import make_letter
from tests.support.database import ensure_wagtail_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PREVIEW_FRAME = "#w-preview-iframe"


@pytest.fixture
def letter():
    ensure_wagtail_site()
    return make_letter(live=False)


@pytest.fixture
def framing_refusals(staff_page: Page) -> list[str]:
    """What Chromium logs when a response refuses to be framed (CSP or X-Frame-Options)."""
    refusals: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "frame-ancestors" in message.text or "X-Frame-Options" in message.text:
            refusals.append(message.text)

    staff_page.on("console", record)
    return refusals


def open_preview_panel(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Toggle preview").click()
    expect(page.locator(PREVIEW_FRAME)).to_be_visible()


def test_the_preview_panel_shows_the_letter_as_a_web_page(
    staff_page: Page, live_server, letter, framing_refusals
) -> None:
    page = staff_page
    open_preview_panel(page, f"{live_server.url}/admin/pages/{letter.pk}/edit/")

    frame = page.frame_locator(PREVIEW_FRAME)
    expect(frame.get_by_role("heading", name="A joint letter on widgets")).to_be_visible()
    expect(frame.get_by_text("We write about widgets.")).to_be_visible()
    assert framing_refusals == []


def test_the_preview_panel_shows_the_letter_as_the_pdf(
    staff_page: Page, live_server, letter, framing_refusals
) -> None:
    page = staff_page
    open_preview_panel(page, f"{live_server.url}/admin/pages/{letter.pk}/edit/")
    expect(page.frame_locator(PREVIEW_FRAME).get_by_text("We write about widgets.")).to_be_visible()

    with page.expect_response(lambda r: "mode=pdf" in r.url) as preview:
        page.get_by_label("Preview mode").select_option("pdf")
    assert preview.value.headers["content-type"] == "application/pdf"

    # Chromium's PDF viewer draws the pages on a canvas, out of a test's reach. What shows that the
    # PDF displays is the panel's frame holding the PDF, with the viewer inside it; a response that
    # refuses to be framed leaves Chromium's error page (chrome-error://chromewebdata/) instead.
    panel_frame = page.locator(f'{PREVIEW_FRAME}[src*="mode=pdf"]')
    expect(panel_frame).to_have_count(1)
    frame = panel_frame.element_handle().content_frame()
    frame.wait_for_load_state()
    assert "/edit/preview/?" in frame.url
    assert frame.evaluate("document.contentType") == "application/pdf"
    # The viewer attaches its frame a moment after the document loads: wait for it, up to 15 s.
    for _ in range(150):
        if any(child.url.startswith("chrome-extension://") for child in frame.child_frames):
            break
        page.wait_for_timeout(100)
    assert [c.url for c in frame.child_frames if c.url.startswith("chrome-extension://")], (
        f"no PDF viewer in the panel's frame; its children: {[c.url for c in frame.child_frames]}"
    )
    assert framing_refusals == []
