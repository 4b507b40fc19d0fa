"""The first day of an installation: a migrated database is the coalition's site, with its letter
archive at /letters/ (letters migration 0014), and `manage.py createstaff EMAIL` makes the first
staff account, who signs in by emailed code and is then asked for a second factor."""

import importlib
import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail.models import Page, Site, WorkflowPage

from letters.models import LetterIndexPage
from letters.services import REVIEW_WORKFLOW_NAME

pytestmark = pytest.mark.django_db

first_day = importlib.import_module("letters.migrations.0014_first_day_pages")
WELCOME = first_day.WELCOME_TITLE


def site_home() -> Page:
    return Site.objects.get(is_default_site=True).root_page


def as_wagtail_leaves_it() -> Page:
    """The tree as Wagtail's own migrations leave it: the root and its welcome page alone."""
    LetterIndexPage.objects.all().delete()
    home = site_home()
    home.title = home.draft_title = WELCOME
    home.save(update_fields=["title", "draft_title"])
    return home


# The site a migrated database serves


def test_a_migrated_database_serves_an_empty_archive_at_letters(client):
    response = client.get("/letters/")

    assert response.status_code == 200
    assert "No letters have been published yet." in response.content.decode()


def test_the_front_door_leads_to_the_archive_and_nothing_says_welcome(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/letters/"
    home = site_home()
    assert home.title == settings.WAGTAIL_SITE_NAME
    assert "Welcome" not in client.get("/letters/").content.decode()


def test_the_archive_is_live_and_letters_under_it_go_through_internal_review():
    index = LetterIndexPage.objects.get()

    assert index.live and index.url == "/letters/"
    assert index.get_parent().pk == site_home().pk
    assert WorkflowPage.objects.get(page=index).workflow.name == REVIEW_WORKFLOW_NAME


def test_without_a_live_archive_the_home_is_still_the_sites_own(client):
    LetterIndexPage.objects.get().unpublish()

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{settings.WAGTAIL_SITE_NAME}</h1>" in html
    assert 'class="site-header"' in html  # the site's layout, not Wagtail's bare page


def test_the_migration_makes_the_archive_on_the_tree_wagtail_leaves():
    as_wagtail_leaves_it()

    first_day.first_day_pages(apps, None)

    index = LetterIndexPage.objects.get()
    assert (index.url, index.live, index.title) == ("/letters/", True, "Letters")
    assert WorkflowPage.objects.get(page=index).workflow.name == REVIEW_WORKFLOW_NAME
    assert site_home().title == settings.WAGTAIL_SITE_NAME
    # The tree fields it wrote by hand are those treebeard keeps.
    assert Page.find_problems() == ([], [], [], [], [])


def test_the_migration_runs_once():
    first_day.first_day_pages(apps, None)

    assert LetterIndexPage.objects.count() == 1
    assert Page.objects.count() == 3


def test_a_database_with_pages_of_its_own_is_left_alone():
    home = as_wagtail_leaves_it()
    home.add_child(instance=Page(title="About us", slug="about"))

    first_day.first_day_pages(apps, None)

    assert not LetterIndexPage.objects.exists()
    assert site_home().title == WELCOME


def test_the_demos_letterhead_names_the_home_after_its_coalition():
    from signatories.management.commands.load_demo import Command

    Command().letterhead()

    assert site_home().title == "Digital Trade Coalition"


# createstaff: the first staff account


def make_staff(*arguments: str) -> str:
    out = StringIO()
    call_command("createstaff", *arguments, stdout=out)
    return out.getvalue()


def test_createstaff_makes_a_superuser_without_a_password_and_says_how_to_sign_in(settings):
    settings.STAFF_MFA_REQUIRED = True

    said = make_staff("first@example.org")

    user = get_user_model().objects.get(email="first@example.org")
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, True, True)
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("first@example.org", True, False)
    assert f"{settings.SITE_URL}/accounts/login/code/" in said
    assert "no password" in said
    assert (
        f"second factor (an authenticator app, a security key or a passkey) at {settings.SITE_URL}/accounts/2fa/"
        in said
    )


def test_the_staff_member_signs_in_by_code_and_is_then_asked_for_a_second_factor(
    client, mailoutbox, settings
):
    settings.STAFF_MFA_REQUIRED = True
    make_staff("first@example.org")

    response = client.post("/accounts/login/code/", {"email": "first@example.org"})
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mailoutbox[-1].body).group(0)
    response = client.post(response["Location"], {"code": code})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/")["Location"] == "/accounts/2fa/"


def test_createstaff_with_groups_makes_staff_with_those_groups_alone():
    said = make_staff("editor@example.org", "--group", "Editors", "--group", "Publishers")

    user = get_user_model().objects.get(email="editor@example.org")
    assert user.is_staff and not user.is_superuser
    assert sorted(user.groups.values_list("name", flat=True)) == ["Editors", "Publishers"]
    assert user.has_perm("wagtailadmin.access_admin")
    assert "in Editors, Publishers" in said


def test_an_address_in_another_script_is_kept_readable_and_matched_however_it_is_spelled(
    client, mailoutbox
):
    make_staff("Jane@XN--BCHER-KVA.example")

    user = get_user_model().objects.get()
    assert user.email == "Jane@bücher.example"
    with pytest.raises(CommandError, match="exists already"):
        make_staff("jane@bücher.example")
    # The address as the person types it to sign in reaches the account.
    response = client.post("/accounts/login/code/", {"email": "jane@bücher.example"})
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["jane@bücher.example"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "the following arguments are required: EMAIL"),
        (["not an address"], "Email: “not an address” is not an email address."),
        (["josé@example.org"], "Email: “josé@example.org” is not an email address."),
        (["staff@example.org"], "an account with the address staff@example.org exists already"),
        (["STAFF@Example.org"], "an account with the address STAFF@example.org exists already"),
        (
            ["new@example.org", "--group", "Editors", "--group", "Wizards"],
            "Group: there is no group “Wizards” (the groups are: ",
        ),
    ],
)
def test_createstaff_says_what_is_wrong_and_makes_nothing(staff, arguments, message):
    users = get_user_model().objects.count()

    with pytest.raises(CommandError) as raised:
        call_command("createstaff", *arguments)

    assert message in str(raised.value)
    assert get_user_model().objects.count() == users
