"""The sign-on as its people meet it in a browser: their own links, a colleague asked to sign,
a stranger confirming a request by email, and a signer told of a change to the text."""

import re

import pytest
from playwright.sync_api import Page, expect

from signatories import services
from signatories.models import Action, Signature, SignOn
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
)
from tests.support.database import ensure_wagtail_site
from tests.support.signing import (
    LINK,
    SIGNATURE_LINK,
    STAFF_ACTOR,
    approved_change,
    individual_approved,
    open_sign_on_to,
    widget_makers,
)

OPEN_LINK = "/sign/open/{}/"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def links_by_recipient(mailoutbox: list, pattern: re.Pattern[str] = LINK) -> dict[str, str]:
    return {
        email.to[0]: match.group(1)
        for email in mailoutbox
        if (match := pattern.search(email.body)) is not None
    }


@pytest.fixture
def sign_on(mailoutbox) -> SignOn:
    """Two members, Widget Makers with its director and its press officer, and Gadget Guild."""
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Digital Trade Coalition")
    widgets = widget_makers(coalition)
    gadgets = OrganizationFactory(name="Gadget Guild", acronym="")
    MembershipFactory(coalition=coalition, organization=gadgets)
    ContactFactory(
        organization=widgets,
        name="Pete Press",
        title="Press Officer",
        email="pete@widgets.example.org",
        is_authorized_signer=False,
    )
    ContactFactory(
        organization=gadgets,
        name="Bo Guild",
        email="bo@gadgets.example.org",
        is_authorized_signer=True,
    )
    return open_sign_on_to(coalition)


def test_each_person_has_a_link_and_a_colleague_asked_to_sign_answers_first(
    page: Page, live_server, sign_on, mailoutbox
):
    links = links_by_recipient(mailoutbox)
    assert set(links) == {
        "ann@widgets.example.org",
        "pete@widgets.example.org",
        "bo@gadgets.example.org",
    }
    greeting = {m.to[0]: m.body.splitlines()[0] for m in mailoutbox}
    assert greeting["pete@widgets.example.org"] == "Dear Pete Press,"

    # The press officer may not sign: he passes the request to the general counsel.
    page.goto(live_server.url + links["pete@widgets.example.org"])
    expect(page.get_by_role("heading", name="A joint letter on widgets")).to_be_visible()
    expect(page.get_by_role("link", name="Sign or decline")).to_be_visible()
    expect(page.get_by_text("does not list you as someone who may sign")).to_be_visible()
    expect(page.get_by_label("Your name", exact=True).first).to_have_value("Pete Press")
    forward = page.get_by_role("form", name="Or pass it to a colleague who may sign")
    forward.get_by_label("Your colleague's name").fill("Cara Counsel")
    forward.get_by_label("Your colleague's email address").fill("cara@widgets.example.org")
    forward.get_by_label("A note to them").fill("Could you sign this for us?")
    forward.get_by_role("button", name="Send them a link").click()
    expect(page.get_by_text("Cara Counsel has been sent a link of their own")).to_be_visible()

    forwarded = [m for m in mailoutbox if m.to == ["cara@widgets.example.org"]]
    assert len(forwarded) == 1
    assert forwarded[0].subject.startswith("Pete Press asks you to sign")
    assert "Could you sign this for us?" in forwarded[0].body
    cara_link = LINK.search(forwarded[0].body).group(1)

    colleague = page.context.browser.new_page()
    colleague.goto(live_server.url + cara_link)
    form = colleague.get_by_role("form", name="Sign for Widget Makers")
    expect(form.get_by_label("Your name")).to_have_value("Cara Counsel")
    form.get_by_label("Your title").fill("General Counsel")
    form.get_by_label("I am authorized to sign on behalf of Widget Makers").check()
    form.get_by_role("button", name="Sign the letter").click()
    expect(colleague.get_by_role("heading", name="Thank you for signing")).to_be_visible()
    colleague.close()

    # The director opens her own link later: the organization has answered.
    page.goto(live_server.url + links["ann@widgets.example.org"])
    expect(
        page.get_by_role("heading", name="Widget Makers has signed, pending review")
    ).to_be_visible()
    expect(page.get_by_text("The first answer for the organization stands")).to_be_visible()
    expect(page.get_by_role("button", name="Sign the letter")).to_have_count(0)

    signature = Signature.objects.get(organization__name="Widget Makers")
    assert signature.signer_email == "cara@widgets.example.org"
    assert signature.status == Signature.Status.PENDING_REVIEW
    assert signature.invitation.forwarded_by.email == "pete@widgets.example.org"
    assert sign_on.events.filter(action=Action.FORWARDED).count() == 1


def test_a_request_through_the_open_link_is_confirmed_by_email_then_approved(
    staff_page: Page, live_server, sign_on, mailoutbox
):
    token = services.issue_open_link(sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True)
    visitor = staff_page.context.browser.new_page()
    visitor.goto(live_server.url + OPEN_LINK.format(token))
    form = visitor.get_by_role("form", name="Sign for an organization")
    form.get_by_label("Organization name").fill("Société des Robots Québécois")
    form.get_by_label("Acronym").fill("SRQ")
    form.get_by_label("Name as it will print on the letter").fill(
        "Société des Robots Québécois (SRQ)"
    )
    form.get_by_label("Your name").fill("Zoë Tremblay")
    form.get_by_label("Your title").fill("Directrice générale")
    form.get_by_label("Your email address").fill("zoe@robots.example.org")
    form.get_by_label("I am authorized to sign on behalf of this organization").check()
    form.get_by_role("button", name="Ask to sign for the organization").click()
    expect(visitor.get_by_role("heading", name="Check your email to confirm")).to_be_visible()

    # Nothing reaches staff before the address is confirmed.
    staff_page.goto(live_server.url + "/admin/sign-ons/review/")
    expect(staff_page.get_by_text("Nothing waits for review.")).to_be_visible()

    confirmation = [m for m in mailoutbox if m.to == ["zoe@robots.example.org"]]
    assert len(confirmation) == 1
    assert "member of the coalition" not in confirmation[0].body
    visitor.goto(live_server.url + SIGNATURE_LINK.search(confirmation[0].body).group(1))
    expect(visitor.get_by_role("heading", name="Confirm your request to sign")).to_be_visible()
    visitor.get_by_role("button", name="Confirm").click()
    expect(visitor.get_by_text("your address is confirmed")).to_be_visible()
    visitor.close()

    staff_page.goto(live_server.url + "/admin/sign-ons/review/")
    panel = staff_page.locator("section", has_text="Société des Robots Québécois (SRQ)")
    expect(panel.get_by_text("is not in the CRM yet")).to_be_visible()
    panel.get_by_role("button", name="Approve").click()
    expect(staff_page.get_by_text("Approved 1 signature: “Société des Robots")).to_be_visible()

    signature = Signature.objects.get(signer_email="zoe@robots.example.org")
    assert signature.status == Signature.Status.APPROVED
    assert signature.organization.status == "active"


def test_a_material_change_reaches_a_signer_from_the_open_link(
    page: Page, live_server, sign_on, mailoutbox
):
    person = individual_approved(sign_on)
    revision = approved_change(
        sign_on.letter, [{"type": "paragraph", "value": "<p>We write about better widgets.</p>"}]
    )
    mailoutbox.clear()
    services.recirculate_sign_on(
        sign_on=sign_on,
        revision=revision,
        material=True,
        note="We narrowed the ask.",
        actor=STAFF_ACTOR,
    )

    to_jane = [m for m in mailoutbox if m.to == ["jane@uni.example.org"]]
    assert len(to_jane) == 1
    assert to_jane[0].subject.startswith("Please reconfirm your signature")
    assert "{+better +}" in to_jane[0].body
    # Organizations that had not answered get the new text too.
    assert {m.to[0] for m in mailoutbox} >= {"ann@widgets.example.org", "bo@gadgets.example.org"}

    page.goto(live_server.url + SIGNATURE_LINK.search(to_jane[0].body).group(1))
    expect(page.get_by_role("heading", name="Please reconfirm your signature")).to_be_visible()
    expect(page.locator(".text-changes ins", has_text="better")).to_be_visible()
    page.get_by_role("button", name="Reconfirm the signature").click()
    expect(page.get_by_text("The signature is reconfirmed on the new text.")).to_be_visible()
    person.refresh_from_db()
    assert person.status == Signature.Status.APPROVED
