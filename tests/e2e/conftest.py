"""Playwright drives Debian's Chromium: a browser downloaded by `playwright install` is not used."""

import os
import shutil
from typing import Any

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        message = "No Chromium found on PATH: install it with `apt-get install chromium`."
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: a browser test never skips there
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
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
