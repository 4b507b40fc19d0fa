"""WCAG 2.2 AA as axe-core checks it in Chromium: the archive, a published letter, the signer's
pages and the public pages beside the letters, each with no violation.

axe checks what a machine can (contrast, names, labels, landmarks, ids, target size); a visible
focus (2.4.7, 2.4.13) and focus not obscured (2.4.11) are the stylesheet's, not checked here.
"""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from letters import passages
from letters.lines import SignatoryLine
from letters.models import LetterIndexPage, LetterPage
from signatories import selectors, services
from signatories.inputs import Commenting
from signatories.interchange import import_letter
from signatories.models import SignOn
from signatories.public_views import EMBED_HEIGHT
from tests.factories import (
    CoalitionFactory,
    OrganizationFactory,
    SignatureFactory,
    make_letter,
    publish,
)
from tests.support.database import ensure_wagtail_site
from tests.support.letters import people, published_with_lines, seed_document
from tests.support.signing import (
    LINK,
    SIGNATURE_LINK,
    STAFF_ACTOR,
    approved_change,
    individual_approved,
    open_sign_on_to,
    widget_makers,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe tags WCAG 2.2's AA rule, target-size, wcag22aa),
# and axe's best practices: the heading order and the landmarks that WCAG's 1.3.1 and 2.4.1 leave
# to judgement.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BEST_PRACTICE = ["best-practice"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_AA + BEST_PRACTICE},
    "resultTypes": ["violations"],
}
SHOWN_NODES = 3
# A phone's width too: what wraps and what shrinks there is what target-size and contrast meet.
NARROW = {"width": 320, "height": 640}


def describe(violation: dict) -> str:
    tags = ", ".join(t for t in violation["tags"] if t in WCAG_AA + BEST_PRACTICE)
    lines = [
        f"  {violation['id']} ({violation['impact']}; {tags}): {violation['help']}"
        f" [{len(violation['nodes'])} element(s)] {violation['helpUrl']}"
    ]
    for node in violation["nodes"][:SHOWN_NODES]:
        lines.append(f"    at {', '.join(str(t) for t in node['target'])}")
        lines.append(f"       {' '.join(node['html'].split())[:200]}")
        if node.get("failureSummary"):
            summary = " ".join(node["failureSummary"].split())
            lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


class Audit:
    """Runs axe on each page visited and reports every page's violations together at the end."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, label: str) -> None:
        wide = self.page.viewport_size
        assert wide is not None
        for size, where in [(wide, f"{wide['width']} px wide"), (NARROW, "320 px wide")]:
            self.page.set_viewport_size(size)
            violations = self.axe.run(self.page, options=AXE_OPTIONS).response["violations"]
            if violations:
                found = "\n".join(describe(violation) for violation in violations)
                self.failures.append(f"{label}, {where} ({self.page.url}):\n{found}")
        self.checked.append(label)

    def assert_clean(self) -> None:
        assert self.checked
        assert not self.failures, "axe-core found violations:\n\n" + "\n\n".join(self.failures)


@pytest.fixture
def audit(page: Page) -> Audit:
    return Audit(page)


def visit(page: Page, url: str) -> None:
    """Open a page that must exist: an answer of 400 or more (a 404 included) fails the test."""
    response = page.goto(url)
    assert response is not None, f"{url} gave no answer"
    assert response.status < 400, f"{url} answered {response.status}"


def emailed_link(mailoutbox: list, to: str, pattern: re.Pattern[str]) -> str:
    [match] = [m for e in mailoutbox if e.to == [to] and (m := pattern.search(e.body))]
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# The archive, a letter, the public pages beside it


@pytest.fixture
def seed_letter() -> LetterPage:
    """The seed letter as published, then corrected with a late signatory."""
    ensure_wagtail_site()
    letter = import_letter(document=seed_document(), publish=True).letter
    services.add_signatory(
        letter=letter,
        organization=OrganizationFactory(name="Late Widget Association", acronym="LWA"),
        display_name="Late Widget Association (LWA)",
        signer_name="Pat Late",
        reason="Signed by email the morning after the deadline.",
        actor=STAFF_ACTOR,
    )
    services.publish_correction(
        letter=letter, note="Adds a signatory who signed by email.", actor=STAFF_ACTOR
    )
    letter.refresh_from_db()
    return letter


def test_the_archive_its_search_and_its_filters(page: Page, live_server, audit, monkeypatch):
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Digital Trade Coalition", slug="dtc")
    for slug, title, day in [
        ("widgets", "A joint letter on widgets", datetime.date(2025, 3, 12)),
        ("gadgets", "On gadget tariffs", datetime.date(2024, 11, 2)),
        ("sprockets", "Sprockets and the single market", datetime.date(2024, 5, 20)),
    ]:
        letter = make_letter(
            live=False, slug=slug, title=title, letter_date=day, coalition=coalition
        )
        for _ in range(2):
            SignatureFactory(letter=letter)
        publish(letter)
    # Three letters over two pages, so that the pagination shows too.
    monkeypatch.setattr(LetterIndexPage, "letters_per_page", 2)

    visit(page, live_server.url + "/letters/")
    expect(page.get_by_role("heading", name="A joint letter on widgets")).to_be_visible()
    expect(page.get_by_role("navigation", name="Pagination")).to_be_visible()
    audit.check("the archive")

    page.get_by_label("Search the letters").fill("zebra")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No letters match “zebra”")).to_be_visible()
    audit.check("a search that finds nothing")

    visit(page, live_server.url + "/letters/")
    page.get_by_label("Year").select_option("2024")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Clear the filters")).to_be_visible()
    audit.check("the archive filtered by year")
    audit.assert_clean()


def test_a_published_letter_with_a_correction(page: Page, live_server, audit, seed_letter):
    visit(page, live_server.url + seed_letter.url)
    expect(page.get_by_role("heading", name="Publication and corrections")).to_be_visible()
    audit.check("the seed letter, corrected")
    audit.assert_clean()


def test_a_long_signatory_list_its_pages_and_its_search(page: Page, live_server, audit):
    ensure_wagtail_site()
    letter = make_letter(live=False, slug="open-letter", title="An open letter")
    published_with_lines(
        letter, [SignatoryLine(text="José Álvarez", detail="Universidad de Sevilla"), *people(1199)]
    )

    visit(page, live_server.url + letter.url)
    pages = page.get_by_role("navigation", name="Pages of the signatory list")
    expect(pages).to_be_visible()
    audit.check("a letter of 1,200 signatories, its first page")

    pages.get_by_role("link", name="Next page of signatories").click()
    expect(page).to_have_url(re.compile(r"/open-letter/\?signatories=2#signatories$"))
    audit.check("its second page")

    page.get_by_label("Find a signatory by name or organization").fill("jose")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 signatory matches “jose”.")).to_be_visible()
    audit.check("a search in the list")

    page.get_by_label("Find a signatory by name or organization").fill("Zebediah")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No signatory matches “Zebediah”.")).to_be_visible()
    audit.check("a search in the list that finds nobody")
    audit.assert_clean()


def test_an_organizations_page(page: Page, live_server, audit, seed_letter):
    visit(page, live_server.url + seed_letter.url)
    links = page.locator("a.sig-link")
    assert links.count() > 0, f"no signatory line on {page.url} links to an organization page"
    href = links.first.get_attribute("href")
    visit(page, live_server.url + href)
    expect(page.get_by_role("heading", name="Letters signed")).to_be_visible()
    audit.check("an organization's page")
    audit.assert_clean()


def test_the_verification_pages(page: Page, live_server, audit, seed_letter):
    visit(page, f"{live_server.url}/verify/")
    audit.check("the verification form")
    page.get_by_label("Or its SHA-256").fill("not a hash")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("A SHA-256 is 64 characters")
    audit.check("the verification form with an error")
    # Not found (404), and said so in words.
    page.goto(f"{live_server.url}/verify/{'0' * 64}/")
    expect(
        page.get_by_role("heading", name="No letter published here has this PDF")
    ).to_be_visible()
    audit.check("a copy not recognised")
    # A version's own page, which its PDF's QR code opens: superseded, signed, its record read.
    visit(page, f"{live_server.url}/verify/{seed_letter.slug}/v1/")
    expect(page.get_by_role("heading", name=re.compile("A superseded version"))).to_be_visible()
    expect(page.locator(".signature-check")).to_contain_text("Valid: signed by")
    audit.check("a version's verification page")
    audit.assert_clean()


def test_the_embeddable_widget(page: Page, live_server, audit, seed_letter):
    visit(page, f"{live_server.url}{seed_letter.url}embed/")
    audit.check("the widget")
    audit.assert_clean()
    # In the iframe the letter page offers (EMBED_HEIGHT high), narrow or wide, all of it shows
    # and nothing scrolls: the link out is inside the frame.
    for width in (280, 400, 800):
        page.set_viewport_size({"width": width, "height": EMBED_HEIGHT})
        assert page.evaluate("document.documentElement.scrollHeight") <= EMBED_HEIGHT, width
        box = page.get_by_role("link", name="Read the letter and who signed it").bounding_box()
        assert box is not None and box["y"] + box["height"] <= EMBED_HEIGHT, width


# ---------------------------------------------------------------------------------------------
# The signer's pages


@pytest.fixture
def sign_on(mailoutbox) -> SignOn:
    """Widget Makers, its director invited, on a letter that takes individuals; open link on."""
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Digital Trade Coalition")
    widget_makers(coalition)
    return open_sign_on_to(coalition)


def test_the_press_preview_of_a_letter_under_embargo(page: Page, live_server, audit, sign_on):
    closed = services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    embargo = services.embargo_sign_on(
        sign_on=closed,
        until=timezone.now() + datetime.timedelta(days=2),
        actor=STAFF_ACTOR,
    )
    preview = services.add_press_preview(
        embargo=embargo, name="Ana Pérez", email="ana@news.example", outlet="", actor=STAFF_ACTOR
    )
    visit(page, f"{live_server.url}/sign/press/{selectors.press_link_token(preview)}/")
    expect(page.get_by_role("note")).to_contain_text("Embargoed until")
    audit.check("the press's preview of a letter under embargo")
    audit.assert_clean()


def test_an_invited_persons_page_its_errors_and_the_thanks(
    page: Page, live_server, audit, sign_on, mailoutbox
):
    own_link = live_server.url + emailed_link(mailoutbox, "ann@widgets.example.org", LINK)
    visit(page, own_link)
    form = page.get_by_role("form", name="Sign for Widget Makers")
    expect(form).to_be_visible()
    audit.check("the invited person's page")

    form.get_by_label("Your name").fill("")
    form.get_by_role("button", name="Sign the letter").click()
    expect(page.locator("#error-summary")).to_be_focused()
    audit.check("the invited person's page with errors")

    form = page.get_by_role("form", name="Sign for Widget Makers")
    form.get_by_label("Your name").fill("Ann Director")
    form.get_by_label("I am authorized to sign on behalf of Widget Makers").check()
    form.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("heading", name="Thank you for signing")).to_be_visible()
    audit.check("the thanks page")

    visit(page, own_link)
    expect(page.get_by_role("heading", name="Widget Makers has signed")).to_be_visible()
    expect(page.get_by_role("form", name="Withdraw the signature")).to_be_visible()
    audit.check("the invited person's page once signed")
    audit.assert_clean()


def test_the_open_link_its_errors_the_confirmation_and_the_signers_page(
    page: Page, live_server, audit, sign_on, mailoutbox
):
    token = services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    visit(page, f"{live_server.url}/sign/open/{token}/")
    expect(page.get_by_role("heading", name="Sign in a personal capacity")).to_be_visible()
    audit.check("the open link, both forms")

    form = page.get_by_role("form", name="Sign for an organization")
    form.get_by_role("button", name="Ask to sign for the organization").click()
    expect(page.locator("#error-summary")).to_be_focused()
    audit.check("the open link with errors")

    form = page.get_by_role("form", name="Sign for an organization")
    form.get_by_label("Organization name").fill("Société des Robots Québécois")
    form.get_by_label("Name as it will print on the letter").fill("Société des Robots Québécois")
    form.get_by_label("Your name").fill("Zoë Tremblay")
    form.get_by_label("Your title").fill("Directrice générale")
    form.get_by_label("Your email address").fill("zoe@robots.example.org")
    form.get_by_label("I am authorized to sign on behalf of this organization").check()
    form.get_by_role("button", name="Ask to sign for the organization").click()
    expect(page.get_by_role("heading", name="Check your email to confirm")).to_be_visible()
    audit.check("the open link's confirmation page")

    visit(
        page, live_server.url + emailed_link(mailoutbox, "zoe@robots.example.org", SIGNATURE_LINK)
    )
    expect(page.get_by_role("heading", name="Confirm your request to sign")).to_be_visible()
    audit.check("the signer's page, unconfirmed")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("your address is confirmed")).to_be_visible()
    audit.check("the signer's page, confirmed")
    audit.assert_clean()


def test_a_signers_page_after_a_material_change(
    page: Page, live_server, audit, sign_on, mailoutbox
):
    individual_approved(sign_on)
    revision = approved_change(
        sign_on.letter,
        [
            {"type": "paragraph", "value": "<p>We write about better widgets.</p>"},
            {"type": "heading", "value": "Our asks"},
            {"type": "bullets", "value": ["<p>Fewer tariffs</p>", "<p>More widgets</p>"]},
        ],
    )
    mailoutbox.clear()
    services.recirculate_sign_on(
        sign_on=sign_on,
        revision=revision,
        material=True,
        note="We narrowed the ask.",
        actor=STAFF_ACTOR,
    )

    visit(page, live_server.url + emailed_link(mailoutbox, "jane@uni.example.org", SIGNATURE_LINK))
    expect(page.locator(".text-changes ins", has_text="better")).to_be_visible()
    audit.check("the signer's page, to reconfirm")
    audit.assert_clean()


def test_a_draft_shared_for_comment_its_passage_page_and_its_errors(
    page: Page, live_server, audit, mailoutbox
):
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Digital Trade Coalition")
    widgets = widget_makers(coalition)
    letter = make_letter(live=False, title="A draft on widgets", slug="draft-widgets")
    [share] = services.share_draft(
        letter=letter, contacts=[widgets.contacts.get()], actor=STAFF_ACTOR
    )
    # One comment already there: the reader's page shows it under its passage, marked.
    _, draft = selectors.latest_draft(letter)
    item = list(passages.passages(draft))[2]
    services.comment_on_draft(
        share=share,
        passage=item.key,
        commenting=Commenting(comment="Name them?", suggestion="Lower tariffs on widgets"),
        text_hash=passages.text_hash(item.text),
        actor=STAFF_ACTOR,
    )
    visit(page, f"{live_server.url}/sign/draft/{selectors.draft_link_token(share)}/")
    expect(page.get_by_role("heading", name="A draft on widgets")).to_be_visible()
    expect(page.locator(".draft-comments ins", has_text="Lower")).to_be_visible()
    audit.check("the reader's page of a shared draft")

    page.get_by_role("link", name="Comment or suggest wording on “We write about widgets.”").click()
    expect(page.get_by_role("heading", name="Your comment")).to_be_visible()
    audit.check("a passage's page")

    page.get_by_label("Suggested wording").fill("We write about <b>widgets</b>.")
    page.get_by_role("button", name="Send to the coalition's staff").click()
    expect(page.locator("#error-summary")).to_be_focused()
    audit.check("a passage's page with errors")

    page.get_by_label("Suggested wording").fill("We write about widgets and gadgets.")
    page.get_by_role("button", name="Send to the coalition's staff").click()
    expect(page.locator(".draft-comments ins", has_text="gadgets")).to_be_visible()
    audit.check("the reader's page after a suggestion")
    audit.assert_clean()
