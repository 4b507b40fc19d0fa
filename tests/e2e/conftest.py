"""Playwright drives Debian's Chromium: a browser downloaded by `playwright install` is not used."""

import os
import shutil
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if CHROMIUM is None:
        message = "No Chromium found on PATH: install it with `apt-get install chromium`."
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: a browser test never skips there
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def staff_page(page: Any, live_server: Any) -> Any:
    """The browser holds a staff member's session, as if they had logged in by code."""
    from django.conf import settings
    from django.test import Client

    from tests.factories import StaffFactory

    client = Client()
    client.force_login(StaffFactory(username="editor", email="editor@example.org"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return page


def ensure_wagtail_site() -> None:
    """The root page, home page and default site that Wagtail's migrations create.

    A transactional test before this one flushes the database, migration data included.
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale, Page, Site

    if Site.objects.filter(is_default_site=True).exists():
        return
    ContentType.objects.clear_cache()  # the cached ids went with the flush
    Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=Page(title="Home", slug="home"))
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


def open_sign_on_to(coalition: object, *, accepts_individuals: bool = True) -> object:
    """A letter approved for circulation, opened to every contact of the coalition's members."""
    import datetime

    from django.utils import timezone

    from letters.services import approve_for_circulation
    from signatories import services
    from signatories.models import SignOn
    from tests.factories import make_letter

    staff = services.Actor.system("staff@example.org")
    letter = make_letter(live=False, accepts_individuals=accepts_individuals)
    approve_for_circulation(revision=letter.latest_revision, user=None)
    sign_on = services.create_sign_on(
        revision=letter.latest_revision,
        deadline=timezone.now() + datetime.timedelta(days=3),
        coalitions=[coalition],
        recipients=SignOn.Recipients.ALL,
        actor=staff,
    )
    return services.open_sign_on(sign_on=sign_on, actor=staff)  # commits: invitations emailed
