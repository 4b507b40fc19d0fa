"""One way to sign in: no door anywhere takes a password.

Every URL the project serves is found with Django's URL resolver (Wagtail's, allauth's and ours),
so a door added later is tried without being listed here: none shows a password field, none
signs anyone in for a username and a password that would once have been right, none gives a
signed-in person a password. Nobody's account keeps one, however it is set.
"""

import functools
import itertools
import re
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from tests.factories import StaffFactory, letter_index, make_letter

pytestmark = pytest.mark.django_db

SECRET = "correct-horse-battery-staple"
NEW_SECRET = "a-brand-new-long-password-1"
PASSWORD_FIELD = re.compile(r"<input\b[^>]*\btype=[\"']?password\b", re.IGNORECASE)
# Values tried for each part of a path that varies, until the URL's own pattern matches.
SAMPLES = ["987654", "x", "x/", "MQ", "00000000-0000-0000-0000-000000000000"]
# What a form that takes a password would be sent: every name Django, Wagtail and allauth use.
SIGN_IN_FIELDS = {
    "username": "legacy",
    "login": "legacy@example.org",
    "email": "legacy@example.org",
    "password": SECRET,
}
NEW_PASSWORD_FIELDS = {
    "oldpassword": SECRET,
    "old_password": SECRET,
    "password": SECRET,
    "password1": NEW_SECRET,
    "password2": NEW_SECRET,
    "new_password1": NEW_SECRET,
    "new_password2": NEW_SECRET,
    "password_new_password1": NEW_SECRET,
    "password_new_password2": NEW_SECRET,
}


def every_route() -> Iterator[tuple[str, str]]:
    """Each URL pattern the project serves, as (a path it matches, the view's name)."""
    yield from _walk(get_resolver().url_patterns, "")


def _walk(patterns: list, prefix: str) -> Iterator[tuple[str, str]]:
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, regex)
        elif isinstance(entry, URLPattern):
            yield "/" + _a_path_matching(regex), entry.lookup_str


def _a_path_matching(regex: str) -> str:
    for template, params in normalize(regex):
        for values in itertools.product(SAMPLES, repeat=len(params)):
            path = template % dict(zip(params, values, strict=True))
            if re.fullmatch(regex, path):
                return path
    raise AssertionError(f"No sample path matches {regex!r}: add a value to SAMPLES.")


@functools.cache
def routes() -> list[tuple[str, str]]:
    return sorted(set(every_route()))


def test_the_resolver_finds_every_door_we_know_of():
    views = {view for _, view in routes()}
    paths = {path for path, _ in routes()}

    assert len(routes()) > 250
    assert "django.contrib.auth.views.LoginView" in views  # Wagtail's front-end login
    assert "wagtail.admin.views.account.LoginView" in views  # the admin's
    assert "wagtail.views.authenticate_with_password" in views
    assert "wagtail.documents.views.serve.authenticate_with_password" in views
    assert "allauth.account.views._reauthenticate.ReauthenticateView" in views
    assert "/_util/login/" in paths


@pytest.fixture
def legacy(db):
    """A superuser whose row still holds a password hash from before: the one a password form
    would have accepted, with the address enrolled as allauth has it."""
    user = StaffFactory(username="legacy", email="legacy@example.org")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    hashed = PBKDF2PasswordHasher().encode(SECRET, "legacysalt")
    get_user_model().objects.filter(pk=user.pk).update(password=hashed)
    user.refresh_from_db()
    return user


def offers_a_password_field(response) -> bool:
    if response.streaming or "html" not in response.get("Content-Type", ""):
        return False
    return bool(PASSWORD_FIELD.search(response.content.decode(errors="replace")))


def test_no_door_asks_for_a_password_or_signs_anyone_in_with_one(legacy):
    anonymous = Client(raise_request_exception=False)
    asking, signed_in = [], []

    for path, view in routes():
        if offers_a_password_field(anonymous.get(path)):
            asking.append((path, view))
        anonymous.post(path, SIGN_IN_FIELDS)
        if "_auth_user_id" in anonymous.session:
            signed_in.append((path, view))
            anonymous.logout()

    assert asking == []
    assert signed_in == []


def test_no_door_gives_a_signed_in_person_a_password(legacy):
    client = Client(raise_request_exception=False)
    asking, reauthenticated = [], []

    for path, view in routes():
        client.force_login(legacy)
        if offers_a_password_field(client.get(path)):
            asking.append((path, view))
        client.post(path, NEW_PASSWORD_FIELDS)
        methods = client.session.get("account_authentication_methods", [])
        if any(record.get("method") == "password" for record in methods):
            reauthenticated.append((path, view))

    assert asking == []
    assert reauthenticated == []
    stored = get_user_model().objects.values_list("password", flat=True)
    assert all(password.startswith("!") or password == legacy.password for password in stored)


def test_wagtails_front_end_login_sends_to_the_code_login_keeping_next(client, legacy):
    response = client.get("/_util/login/?next=/letters/private/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/?next=/letters/private/"
    response = client.post("/_util/login/", {"username": "legacy", "password": SECRET})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_allauths_password_reauthentication_sends_to_the_code(client, legacy):
    client.force_login(legacy)

    response = client.get("/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/")

    assert response.status_code == 302
    assert response["Location"] == (
        "/accounts/reauthenticate/code/?next=/accounts/2fa/totp/activate/"
    )


def test_no_backend_accepts_a_password_left_from_before(legacy):
    assert authenticate(username="legacy", password=SECRET) is None
    assert authenticate(email="legacy@example.org", password=SECRET) is None
    assert authenticate(username="legacy@example.org", password=SECRET) is None
    assert not legacy.check_password(SECRET)


def test_a_password_set_by_code_is_not_kept(legacy):
    legacy.set_password(NEW_SECRET)
    legacy.save()

    legacy.refresh_from_db()
    assert not legacy.has_usable_password()
    assert not legacy.check_password(NEW_SECRET)
    assert authenticate(username="legacy", password=NEW_SECRET) is None
    made = get_user_model().objects.create_user("made", "made@example.org", password=NEW_SECRET)
    assert not made.has_usable_password()


def test_permissions_are_still_read_through_the_backend(db):
    from django.contrib.auth.models import Group, Permission

    editor = get_user_model().objects.create_user("editor", "editor@example.org")
    group = Group.objects.create(name="Door testers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(group)

    assert editor.has_perm("wagtailadmin.access_admin")
    assert not editor.has_perm("wagtailcore.add_page")


def test_changepassword_gives_nobody_a_password(legacy):
    with pytest.raises(CommandError, match="no password"):
        call_command("changepassword", "legacy")


# Page and document privacy: signing in, never a shared password


def test_a_page_for_signed_in_readers_sends_them_to_the_code_login(client):
    letter = make_letter(slug="members-only")
    PageViewRestriction.objects.create(page=letter, restriction_type=PageViewRestriction.LOGIN)

    response = client.get(letter.url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/code/?next={letter.url}"


def test_page_privacy_offers_no_shared_password(staff_client):
    archive = letter_index()

    page = staff_client.get(f"/admin/pages/{archive.pk}/privacy/").json()["html"]

    assert 'value="login"' in page
    assert 'value="password"' not in page
    assert not PASSWORD_FIELD.search(page)


def test_collection_privacy_offers_no_shared_password(staff_client):
    collection = Collection.get_first_root_node().add_child(name="Board papers")

    page = staff_client.get(f"/admin/collections/{collection.pk}/privacy/").json()["html"]

    assert 'value="login"' in page
    assert 'value="password"' not in page
    assert not PASSWORD_FIELD.search(page)


def test_a_page_shared_with_a_password_before_opens_with_none(client):
    letter = make_letter(slug="shared-before")
    restriction = PageViewRestriction.objects.create(
        page=letter, restriction_type=PageViewRestriction.PASSWORD, password=SECRET
    )

    response = client.get(letter.url)
    assert not offers_a_password_field(response)
    assert "nothing on this site opens with a shared password" in response.content.decode()

    door = f"/_util/authenticate_with_password/{restriction.pk}/{letter.pk}/"
    response = client.post(door, {"password": SECRET, "return_url": letter.url})
    assert response.status_code == 403
    assert not offers_a_password_field(response)
    assert PageViewRestriction.passed_view_restrictions_session_key not in client.session


def test_a_document_collection_shared_with_a_password_before_opens_with_none(client):
    collection = Collection.get_first_root_node().add_child(name="Shared before")
    restriction = CollectionViewRestriction.objects.create(
        collection=collection,
        restriction_type=CollectionViewRestriction.PASSWORD,
        password=SECRET,
    )

    response = client.post(
        f"/documents/authenticate_with_password/{restriction.pk}/",
        {"password": SECRET, "return_url": "/documents/1/x.pdf"},
    )

    assert response.status_code == 403
    assert not offers_a_password_field(response)
    assert CollectionViewRestriction.passed_view_restrictions_session_key not in client.session
