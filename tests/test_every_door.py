"""Every door for every role: each URL the project serves, as each kind of person, by GET and by
POST with no data and with malformed data, and with impossible values in its path.

Nothing answers 500, and each answers what its role should: anonymous readers and member
contacts never see an admin page; staff without a second factor are sent to enrol; a role
without a permission is refused; the superuser is refused nothing it asks for properly.
The doors come from the URL resolver (tests/support/doors.py), so a new view is covered here
without anyone listing it.
"""

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase
from django.urls import Resolver404, resolve

from tests.support.doors import Door, Filler, doors, page_addresses
from tests.support.world import ROLES, World, build_world

MFA_INDEX = "/accounts/2fa/"
# What a malformed POST carries: NUL, markup, a script, over-long and foreign text, and the
# names of the fields the project's and Wagtail's forms read.
MALFORMED = {
    name: value
    for name, value in (
        ("title", "\x00<script>alert(1)</script>"),
        ("slug", "a" * 3000),
        ("name", "Ελληνικά\u202e"),
        ("email", "not-an-address"),
        ("action", "publish"),
        ("signature", ["x", "-1", "99999999999999999999"]),
        ("body-count", "many"),
        ("deadline", "yesterday"),
        ("next", "//evil.example/"),
        ("id", ["1", "x"]),
        ("format", "../../etc/passwd"),
        ("file", "not a file"),
    )
}


@dataclass
class Tally:
    requests: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unfilled: set[str] = field(default_factory=set)

    def fail(self, line: str) -> None:
        if len(self.failures) < 200:
            self.failures.append(line)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each request's writes are undone: a POST that deletes does not change the next door."""
    try:
        with transaction.atomic():
            yield
            raise _Undo
    except _Undo:
        pass


class _Undo(Exception):
    pass


def client_for(role: str, world: World) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def request(client: Client, method: str, address: str, data: Any, tally: Tally) -> Any:
    """One request, undone afterwards, the client's cookies as they were before it."""
    cookies = SimpleCookie(client.cookies.output(header="", sep="\n"))
    with rolled_back():
        response = client.get(address) if method == "GET" else client.post(address, data or {})
    client.cookies = cookies
    tally.requests += 1
    tally.answers[response.status_code] += 1
    return response


def where(response: Any) -> str:
    return response.get("Location", "") if response.status_code in (301, 302, 303) else ""


# The admin's own assets, the same for everyone: its icons and its translations for scripts.
ADMIN_ASSETS = ("/admin/sprite/", "/admin/jsi18n/")


def is_admin_page(address: str) -> bool:
    return address.startswith("/admin/") and not address.startswith(ADMIN_ASSETS)


def check(role: str, user: Any, method: str, address: str, response: Any, tally: Tally) -> None:
    """What each role should be answered."""
    status = response.status_code
    said = f"{role} {method} {address[:120]} -> {status} {where(response)[:80]}"
    if status >= 500:
        error = getattr(response, "exc_info", None)
        tally.fail(f"{said}: {error[0].__name__}: {str(error[1])[:160]}" if error else said)
        return
    if not is_admin_page(address) or address.startswith(("/admin/login/", "/admin/no-such-door/")):
        return
    if role in ("anonymous", "member"):
        # Never an admin page: sent to sign in, or refused.
        if status == 200:
            tally.fail(f"{said}: an admin page opened to a {role}")
    elif role == "staff_without_mfa":
        if not where(response).startswith(MFA_INDEX):
            tally.fail(f"{said}: not sent to enrol a second factor")
    elif role == "superuser" and status == 403:
        tally.fail(f"{said}: the superuser was refused")
    if where(response).startswith(MFA_INDEX) and role != "staff_without_mfa":
        tally.fail(f"{said}: sent to enrol while holding a second factor")
    needed = required_permission(address)
    if needed and role not in ("anonymous", "member", "staff_without_mfa"):
        holds = user.has_perm(needed)
        # Wagtail answers a refusal in its admin with a redirect to the dashboard, or 403.
        refused = status == 403 or where(response) == "/admin/"
        if holds and refused:
            tally.fail(f"{said}: refused to a {role} who holds {needed}")
        if not holds and status == 200:
            tally.fail(f"{said}: opened to a {role} without {needed}")


def required_permission(address: str) -> str:
    """The permission the project's own view at this address names, if it names one."""
    try:
        match = resolve(address.split("?")[0])
    except Resolver404:
        return ""
    return getattr(match.func, "required_permission", "")


def sweep(role: str, world: World, found: list[Door], *, deep: bool) -> Tally:
    """Every door as one role: GET and empty POST; malformed POST and bad paths when `deep`."""
    tally = Tally()
    filler = Filler(world)
    client = client_for(role, world)
    user = world.users.get(role)
    addresses: list[str] = []
    for door in found:
        address, filled = filler.addresses(door)
        if not filled:
            tally.unfilled.add(door.template)
        addresses.append(address)
    addresses += page_addresses(world)
    for address in addresses:
        for method, data in (("GET", None), ("POST", None)):
            check(role, user, method, address, request(client, method, address, data, tally), tally)
        if deep:
            response = request(client, "POST", address, MALFORMED, tally)
            check(role, user, "POST malformed", address, response, tally)
    if deep:
        for door in found:
            for label, address in filler.variants(door):
                response = request(client, "GET", address, None, tally)
                if response.status_code >= 500 or (response.status_code == 200 and "NUL" in label):
                    error = getattr(response, "exc_info", None)
                    tally.fail(
                        f"{role} GET {door.template} with {label} -> {response.status_code}"
                        + (f": {error[0].__name__}: {str(error[1])[:160]}" if error else "")
                    )
    return tally


@pytest.fixture
def world(db, settings) -> World:
    settings.STAFF_MFA_REQUIRED = True
    # The PDFs are rendered after commit, as the worker would: the letter's PDF doors open.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return build_world()


@pytest.fixture(autouse=True)
def quiet_request_log() -> Iterator[None]:
    """Thousands of 404s and 400s are the point here: the request log would drown the report."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


# Malformed data and impossible paths are tried as the two ends of the range: nobody, and the
# role that reaches furthest into every view.
@pytest.mark.parametrize("role", ROLES)
def test_every_door_answers_each_role_as_it_should(role: str, world: World) -> None:
    found = doors()
    tally = sweep(role, world, found, deep=role in ("anonymous", "superuser"))
    print(
        f"\n{role}: {len(found)} doors, {tally.requests} requests, answers "
        f"{dict(sorted(tally.answers.items()))}, {len(tally.unfilled)} doors without a real value"
    )
    assert not tally.failures, "\n".join(tally.failures)
    assert tally.answers[500] == 0
    # A new kind of path parameter needs a real value in tests/support/doors.py: say which.
    assert not tally.unfilled, f"no real value for the parameters of {sorted(tally.unfilled)}"
