"""Issue 10: the admin has a content security policy, and Wagtail's admin works under it.

Chromium reports every refusal of a policy on the console ("… violates the following Content
Security Policy directive …"), so a page that works and logs none of them works under the policy.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

import pytest
from django.db import connection
from playwright.sync_api import ConsoleMessage, Error, Page, expect
from wagtail.admin.models import EditingSession
from wagtail.models import Collection

from signatories.models import SignOn
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    make_letter,
)
from tests.support.database import ensure_wagtail_site
from tests.support.signing import open_sign_on_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PREVIEW_FRAME = "#w-preview-iframe"


@pytest.fixture
def database_turns(live_server) -> Iterator[AbstractContextManager[object]]:
    """On SQLite, the browser's requests and the test's own queries take turns.

    The live server's request threads share the test's in-memory database connection, which
    fails a query that overlaps another's ("database table is locked", a 500), and the editor
    overlaps them: a preview update runs while "Save draft" writes, autosave and the editing
    session's pings run beside both, and the session is released as the page unloads. Django's
    documentation warns of it for a live server on in-memory SQLite. As the site is served, each
    request has a connection of its own and waits for the write lock (WAL and a 20 s busy
    timeout on SQLite), as on PostgreSQL here, where nothing need take turns.

    Yields what the test holds around its own queries while the browser is on the page.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield nullcontext()
        return
    server = live_server.thread.httpd
    application = server.get_app()
    turn = threading.Lock()

    def in_turn(environ: dict, start_response) -> list[bytes]:
        with turn:
            result = application(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()  # request_finished, in turn too

    server.set_app(in_turn)
    yield turn
    server.set_app(application)


@pytest.fixture
def staff_page(staff_page: Page, database_turns) -> Iterator[Page]:
    """The staff member's browser, which has said all it will to the server when the test ends.

    The database is emptied after the test: the editing session that the editor releases as it
    unloads (a beacon, which nothing in the browser waits for) would meet that on SQLite's
    shared connection ("database table is locked"), or a database that is gone.
    """
    yield staff_page
    staff_page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    staff_page.goto("about:blank")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with database_turns:
            if not EditingSession.objects.exists():
                break
        staff_page.wait_for_timeout(50)


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
    staff_page: Page, live_server, refusals: list[str], database_turns
) -> None:
    # The editor as staff use it, autosave and editing-session pings included.
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
    # Typed once the editor has the focus: keys pressed while the new block mounts go nowhere.
    expect(editor).to_be_focused()
    page.keyboard.type("A paragraph added in the browser.")
    expect(editor).to_have_text("A paragraph added in the browser.")
    expect(preview.get_by_text("A paragraph added in the browser.")).to_be_visible(timeout=15_000)

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("has been updated")).to_be_visible()

    with database_turns:  # the editor, open again, still pings and previews
        letter.refresh_from_db()
        saved = letter.get_latest_revision_as_object()
    assert "A paragraph added in the browser." in str(saved.body.raw_data)
    assert refusals == []
