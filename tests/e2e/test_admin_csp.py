"""Issue 10: the admin has a content security policy, and Wagtail's admin works under it.

Chromium reports every refusal of a policy on the console ("… violates the following Content
Security Policy directive …"), so a page that works and logs none of them works under the policy.
"""

import pytest
from django.db import connection
from playwright.sync_api import ConsoleMessage, Error, Page, expect
from wagtail.models import Collection

from signatories.models import SignOn
from tests.e2e.conftest import ensure_wagtail_site, open_sign_on_to
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    make_letter,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PREVIEW_FRAME = "#w-preview-iframe"


@pytest.fixture
def sign_on() -> SignOn:
    """A coalition of two members with a contact each, and a sign-on open to it."""
    ensure_wagtail_site()
    if Collection.get_first_root_node() is None:  # a transactional test before flushed it
        Collection.add_root(name="Root")
    coalition = CoalitionFactory(name="Digital Trade Coalition")
    for name in ("Widget Makers", "Gadget Guild"):
        organization = OrganizationFactory(name=name, acronym="")
        MembershipFactory(coalition=coalition, organization=organization)
        ContactFactory(organization=organization, is_authorized_signer=True)
    return open_sign_on_to(coalition)


@pytest.fixture
def refusals(staff_page: Page) -> list[str]:
    """What the browser refused under a policy, and any script that failed."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    def failed(error: Error) -> None:
        found.append(f"script error: {error.message}")

    staff_page.on("console", console)
    staff_page.on("pageerror", failed)
    return found


def has_admin_policy(response) -> None:
    directives = response.headers["content-security-policy"].split(";")
    policy = dict(d.strip().split(" ", 1) for d in directives)
    assert policy["script-src"] == "'self' 'unsafe-inline'"  # no script from another origin
    assert policy["connect-src"] == "'self'"
    assert policy["object-src"] == "'none'"


def test_the_dashboard_and_listings_work_under_the_policy(
    staff_page: Page, live_server, sign_on: SignOn, refusals: list[str]
) -> None:
    page = staff_page
    has_admin_policy(page.goto(f"{live_server.url}/admin/"))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()

    has_admin_policy(page.goto(f"{live_server.url}/admin/coalition/organizations/"))
    expect(page.get_by_role("link", name="Widget Makers")).to_be_visible()
    page.get_by_role("textbox", name="Search term").fill("Gadget")
    expect(page.get_by_role("link", name="Gadget Guild")).to_be_visible()
    expect(page.get_by_role("link", name="Widget Makers")).to_have_count(0)

    has_admin_policy(page.goto(f"{live_server.url}/admin/sign-ons/{sign_on.pk}/"))
    expect(page.get_by_text("Widget Makers").first).to_be_visible()

    has_admin_policy(page.goto(f"{live_server.url}/admin/images/multiple/add/"))
    expect(page.get_by_text("Drag and drop images into this area")).to_be_visible()

    assert refusals == []


def test_the_page_editor_adds_a_block_previews_and_saves_under_the_policy(
    staff_page: Page, live_server, refusals: list[str], settings
) -> None:
    if connection.vendor == "sqlite":
        # The live server's request threads share one in-memory SQLite connection, which fails
        # requests that overlap ("database table is locked"): Wagtail's autosave and editing
        # session pings run beside each preview update. On PostgreSQL they run too.
        settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
        settings.WAGTAIL_EDITING_SESSION_PING_INTERVAL = 600_000
    ensure_wagtail_site()
    letter = make_letter(live=False)
    page = staff_page
    # The editor compares the form with a copy it takes 2 s after loading ("w-unsaved:watch-edits"):
    # an edit typed before then is in the copy, and nothing tells the preview that it changed.
    page.add_init_script(
        "document.addEventListener('w-unsaved:watch-edits', () => { window.watchingEdits = true; })"
    )
    has_admin_policy(page.goto(f"{live_server.url}/admin/pages/{letter.pk}/edit/"))
    page.wait_for_function("() => window.watchingEdits === true")

    page.get_by_role("button", name="Toggle preview").click()
    preview = page.frame_locator(PREVIEW_FRAME)
    expect(preview.get_by_text("We write about widgets.")).to_be_visible()

    page.get_by_role("button", name="Insert a block").last.click()
    page.get_by_role("option", name="Paragraph").click()
    # The new block's own editor, once it is there: the last editor on the page may be another
    # field's while the new one mounts.
    editor = page.get_by_role("region", name="Paragraph *", exact=True).get_by_role("textbox")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.type("A paragraph added in the browser.")
    expect(preview.get_by_text("A paragraph added in the browser.")).to_be_visible(timeout=15_000)

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("has been updated")).to_be_visible()

    letter.refresh_from_db()
    saved = letter.get_latest_revision_as_object()
    assert "A paragraph added in the browser." in str(saved.body.raw_data)
    assert refusals == []
