"""The organization and contact listings read well on a 1280 x 800 screen.

A name broken mid-word is found by the line boxes of each of its words: a word that the browser
laid out on two lines has client rectangles at two heights. Hyphens and spaces are where a name
may break, so the words are the runs between them. Email addresses may break anywhere, as long as
the table fits the screen.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
)
from tests.support.database import ensure_wagtail_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Words of each text node in the cells, as the browser laid them out: those on two lines.
BROKEN_WORDS = """
(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\-\\u2010\\u2013\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set(
          [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))
        );
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}
"""
NAME_CELLS = {
    "coalition_organizations:index": "table.listing tbody td:not(.coalition-email)",
    "coalition_contacts:index": "table.listing tbody td:not(.coalition-email)",
}

LONG_NAMES = [
    ("Computer & Communications Industry Association", "CCIA"),
    ("Information Technology Industry Council", "ITI"),
    ("Internationale Vereinigung der Telekommunikationsunternehmen", "IVT"),
    ("Bundesverband Informationswirtschaft, Telekommunikation und neue Medien", "Bitkom"),
    ("Asociación Latinoamericana de Internet", "ALAI"),
]
PEOPLE = [
    (
        "Maximiliane Wolkenstein-Rodeneck",
        "maximiliane.wolkenstein-rodeneck@telekommunikation.example.org",
    ),
    (
        "Bartholomew Featherstonehaugh",
        "bartholomew.featherstonehaugh@communications-industry.example.org",
    ),
    (
        "Konstantinos Papadimitropoulos",
        "konstantinos.papadimitropoulos@informationtechnology.example.org",
    ),
    (
        "Srinivasaraghavan Venkataraman",
        "srinivasaraghavan.venkataraman@internet-latinoamericana.example.org",
    ),
    (
        "Guðmundur Sigurðardóttirsson",
        "gudmundur.sigurdardottirsson@bundesverband-informationswirtschaft.example",
    ),
]


@pytest.fixture
def members() -> None:
    """Members with long names, several coalitions, and contacts with long names and addresses."""
    ensure_wagtail_site()
    coalitions = [
        CoalitionFactory(name=name)
        for name in ("Digital Trade Coalition", "Global Data Alliance", "Open Internet Forum")
    ]
    for (name, acronym), (person, email) in zip(LONG_NAMES, PEOPLE, strict=True):
        organization = OrganizationFactory(name=name, acronym=acronym, country="DE")
        for coalition in coalitions:
            MembershipFactory(organization=organization, coalition=coalition, tier="steering")
        ContactFactory(
            organization=organization,
            name=person,
            email=email,
            title="Senior Vice President, Government Affairs and Public Policy",
            is_authorized_signer=True,
        )


@pytest.fixture
def staff_page(staff_page: Page) -> Page:
    """A 1280 x 800 browser window holding a staff user's session."""
    staff_page.set_viewport_size({"width": 1280, "height": 800})
    return staff_page


@pytest.mark.parametrize("listing", NAME_CELLS)
def test_no_name_in_the_listing_breaks_mid_word_at_1280_pixels(
    members, staff_page: Page, live_server, listing
):
    staff_page.goto(live_server.url + reverse(listing))
    rows = staff_page.locator("table.listing tbody tr")
    assert rows.count() == len(LONG_NAMES)

    assert staff_page.evaluate(BROKEN_WORDS, NAME_CELLS[listing]) == []
    # The check sees breaks where there are some: an email address in a narrow column is one.
    if listing == "coalition_contacts:index":
        assert staff_page.evaluate(BROKEN_WORDS, "td.coalition-email")
    # Every column on the screen: nothing to scroll sideways for.
    overflow = staff_page.evaluate(
        "() => document.querySelector('table.listing').getBoundingClientRect().right"
        " - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_the_contact_listing_says_yes_and_no(members, staff_page: Page, live_server):
    staff_page.goto(live_server.url + reverse("coalition_contacts:index"))
    first = staff_page.locator("table.listing tbody tr").first.locator("td")
    cells = [text.strip() for text in first.all_inner_texts()]
    assert cells[-3:] == ["Yes", "No", "No"]
    assert "True" not in staff_page.locator("table.listing").inner_text()
