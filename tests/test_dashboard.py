"""The secretariat's desk: the admin's home page shows the work at hand, in a fixed number of
queries, and the sidebar leads to letters and sign-ons directly."""

import json

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.text import capfirst

from letters.models import LetterPage
from letters.services import assign_review_workflow
from signatories import dashboard, selectors, services
from signatories.models import SignOn
from tests.factories import UserFactory, make_letter
from tests.signatories.test_tally import every_state  # noqa: F401 (a fixture)
from tests.support.signing import (
    STAFF_ACTOR,
    approved_revision,
    decline,
    make_members,
    open_new_sign_on,
    sign,
)

pytestmark = pytest.mark.django_db


def dashboard_page(client) -> BeautifulSoup:
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def open_sign_ons(count: int) -> list[SignOn]:
    """`count` open sign-ons on letters of their own, to the same three members."""
    members = make_members(3)
    return [
        open_new_sign_on(
            members,
            days=3 + i,
            revision=approved_revision(title=f"Letter number {i}", slug=f"letter-{i}"),
        )
        for i in range(count)
    ]


def test_each_open_sign_on_shows_its_progress_deadline_and_review_count(staff_client):
    first, second = open_sign_ons(2)
    invitations = list(first.invitations.select_related("sign_on", "organization").order_by("pk"))
    sign(invitations[0])
    sign(invitations[1], display_name="Another Name Entirely")  # held for review
    decline(invitations[2], reason="Not our issue")

    page = dashboard_page(staff_client)

    row = page.find(id=f"sign-on-{first.pk}")
    link = row.find("a")
    assert link.get_text(strip=True) == "Letter number 0"
    assert link["href"] == reverse("signatories_admin:tracker", args=[first.pk])
    bar = row.find("progress")
    assert (bar["value"], bar["max"]) == ("1", "3")
    label = row.find("label", attrs={"for": bar["id"]})
    assert label.get_text(" ", strip=True) == "1 of 3 invited organizations signed"
    assert "1 declined" in row.get_text(" ", strip=True)
    assert row.find("time").get_text(strip=True) == capfirst(selectors.deadline_words(first))
    assert row.find(class_="waiting-for-review").get_text(strip=True) == "1 waiting"
    assert row.find(class_="waiting-for-signer").get_text(strip=True) == "None"

    other = page.find(id=f"sign-on-{second.pk}")
    assert (other.find("progress")["value"], other.find("progress")["max"]) == ("0", "3")
    assert other.find(class_="waiting-for-review").get_text(strip=True) == "None"
    # Soonest deadline first.
    rows = page.find(id="open-sign-on-list").find("tbody").find_all("tr")
    assert [r["id"] for r in rows] == [f"sign-on-{first.pk}", f"sign-on-{second.pk}"]


def test_the_numbers_are_the_trackers_in_every_state(every_state):  # noqa: F811
    sign_on = every_state.sign_on
    counts = selectors.tally(sign_on)

    [progress] = selectors.progress_of([sign_on])

    assert progress.invited == counts.totals["total"] == 8
    assert progress.signed == counts.totals["signed"] == 1
    assert progress.declined == counts.totals["declined"] == 1
    assert progress.printed == counts.printed == 3
    assert progress.waiting_for_review == counts.waiting_for_review == 2
    assert progress.waiting_for_review == selectors.review_queue().count()
    assert progress.waiting_for_signer == counts.waiting_for_signer == 2


def test_the_review_queue_total_links_to_the_queue(staff_client):
    first, second = open_sign_ons(2)
    sign(first.invitations.select_related("sign_on", "organization").first(), display_name="X")
    sign(second.invitations.select_related("sign_on", "organization").first(), display_name="Y")
    services.close_sign_on(sign_on=second, actor=STAFF_ACTOR)  # still to be reviewed once closed

    total = dashboard_page(staff_client).find(id="review-queue-total")

    assert total.get_text(" ", strip=True).startswith("2 signatures wait for review.")
    assert total.find("a")["href"] == reverse("signatories_admin:review")


def test_closed_sign_ons_wait_to_be_published(staff_client):
    first, second = open_sign_ons(2)
    services.close_sign_on(sign_on=second, actor=STAFF_ACTOR)

    page = dashboard_page(staff_client)

    assert page.find(id="open-sign-on-list").find(id=f"sign-on-{first.pk}") is not None
    assert page.find(id="open-sign-on-list").find(id=f"sign-on-{second.pk}") is None
    to_publish = page.find(id="sign-ons-to-publish")
    assert to_publish.find("a")["href"] == reverse("signatories_admin:tracker", args=[second.pk])


def test_with_nothing_open_the_panel_says_so(staff_client):
    panel = dashboard_page(staff_client).find(id="open-sign-ons-section")

    text = panel.get_text(" ", strip=True)
    assert "No sign-on is open." in text
    assert "No signature waits for review." in text


def test_letters_awaiting_internal_review_are_listed(staff_client, staff):
    letter = make_letter(live=False, title="A letter to review", slug="to-review")
    assign_review_workflow(index=letter.get_parent().specific)
    letter.get_workflow().start(letter, staff)
    make_letter(live=False, title="A draft nobody submitted", slug="not-submitted")

    panel = dashboard_page(staff_client).find(id="letters-in-review-list")

    [row] = panel.find("tbody").find_all("tr")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[:3] == ["A letter to review", "Internal review", staff.email]
    assert row.find("a")["href"] == reverse("wagtailadmin_pages:edit", args=[letter.pk])


def test_stock_welcome_and_site_summary_are_gone(staff_client, staff):
    letter = make_letter(live=False, title="A letter to review", slug="to-review")
    assign_review_workflow(index=letter.get_parent().specific)
    letter.get_workflow().start(letter, staff)

    page = dashboard_page(staff_client)
    text = page.get_text(" ", strip=True)

    assert "Welcome to your new Wagtail site" not in text
    assert page.find(class_="w-summary") is None  # "6 Pages", "0 Images", "0 Documents"
    # The letter shows once, in the letters panel: not again under "your pages in a workflow".
    assert page.find(id="user-objects-in-workflow-moderation-section") is None
    assert "Your pages and snippets in a workflow" not in text


def test_a_staff_member_without_sign_on_permission_sees_no_sign_on_panel(client):
    editor = UserFactory(username="editor")
    editor.groups.add(Group.objects.get(name="Editors"))
    open_sign_ons(1)
    client.force_login(editor)

    page = dashboard_page(client)

    assert page.find(id="open-sign-ons-section") is None
    assert page.find(id="letters-in-review-section") is not None


@pytest.mark.parametrize("count", [1, 20])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    count, staff_client, django_assert_max_num_queries
):
    sign_ons = open_sign_ons(count)
    for sign_on in sign_ons:
        invitation = sign_on.invitations.select_related("sign_on", "organization").first()
        sign(invitation, display_name="Held for review")
    staff_client.get(reverse("wagtailadmin_home"))  # the session and Wagtail's caches, warmed

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        page = dashboard_page(staff_client)

    assert len(page.find(id="open-sign-on-list").find("tbody").find_all("tr")) == count


def submit_for_review(count: int, user) -> None:
    for i in range(count):
        letter = make_letter(live=False, title=f"Draft number {i}", slug=f"draft-{i}")
        assign_review_workflow(index=letter.get_parent().specific)
        letter.get_workflow().start(letter, user)


@pytest.mark.parametrize("count", [1, 20])
def test_the_panels_run_a_fixed_number_of_queries(count, rf, staff, django_assert_max_num_queries):
    for sign_on in open_sign_ons(count):
        sign(sign_on.invitations.select_related("sign_on", "organization").first())
    submit_for_review(count, staff)
    request = rf.get("/admin/")
    request.user = staff

    # The sign-ons with their letters (published ones with holds for staff among them, by a
    # subquery), their invitations, their responses.
    with django_assert_max_num_queries(3):
        sign_ons = dashboard.SignOnsPanel(request).render_html({})
    # The workflow states with their tasks and who asked, and the letters.
    with django_assert_max_num_queries(2):
        letters = dashboard.LettersInReviewPanel(request).render_html({})

    assert sign_ons.count("<progress") == count
    assert letters.count("Internal review") == count


# The dashboard of a superuser with the stock panels kept (awaiting your review, recent edits,
# locked pages) and ours, whatever the number of sign-ons.
DASHBOARD_QUERIES = 16


def sidebar_menu(client) -> dict[str, list[str]]:
    """The sidebar's top-level items, each with the labels of its submenu (as Wagtail sends them
    to its script)."""
    page = dashboard_page(client)
    props = json.loads(page.find(id="wagtail-sidebar-props").string)
    [main_menu] = [m for m in props["modules"] if m["_type"] == "wagtail.sidebar.MainMenuModule"]
    menu = {}
    for item in main_menu["_args"][0]:
        attributes, *children = item["_args"]
        submenu = children[0] if children and isinstance(children[0], list) else []
        menu[attributes["label"]] = [child["_args"][0]["label"] for child in submenu]
    return menu


def test_letters_and_sign_ons_sit_at_the_top_of_the_sidebar(staff_client):
    menu = sidebar_menu(staff_client)

    assert list(menu)[:4] == ["Pages", "Letters", "Sign-ons", "Coalition"]
    assert menu["Letters"] == ["All letters", "New letter", "Import from Word"]
    assert menu["Sign-ons"] == ["All sign-ons", "Open a sign-on", "Review queue", "Who listens"]
    assert "Import from Word" not in menu  # now under Letters


def test_all_letters_lists_every_letter_and_new_letter_goes_to_the_archive(staff_client):
    draft = make_letter(live=False, title="Draft on widgets", slug="draft")
    published = make_letter(title="Published on gadgets", slug="gadgets")

    listing = staff_client.get(reverse("letter_listing:index"))
    new = staff_client.get(reverse("letter_listing:choose_parent"))

    assert listing.status_code == 200
    text = BeautifulSoup(listing.content, "html.parser").get_text(" ", strip=True)
    assert draft.title in text and published.title in text
    # One archive: straight to the new letter form under it.
    assert new.status_code == 302
    assert new["Location"] == reverse(
        "wagtailadmin_pages:add", args=["letters", "letterpage", draft.get_parent().pk]
    )
    assert LetterPage.objects.count() == 2
