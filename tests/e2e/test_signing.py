import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from letters.services import approve_for_circulation
from signatories import services
from signatories.models import Signature
from tests.e2e.conftest import ensure_wagtail_site
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    make_letter,
)

LINK = re.compile(r"http://[^/\s]+(/sign/[A-Za-z0-9_-]{43}/)")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def invitation_links(mailoutbox) -> dict[str, str]:
    ensure_wagtail_site()
    coalition = CoalitionFactory(name="Digital Trade Coalition")
    for name, email in (
        ("Widget Makers", "ann@widgets.example.org"),
        ("Gadget Guild", "bo@gadgets.example.org"),
    ):
        org = OrganizationFactory(name=name, acronym="")
        MembershipFactory(coalition=coalition, organization=org)
        ContactFactory(organization=org, email=email, is_authorized_signer=True)
    letter = make_letter(live=False)
    approve_for_circulation(revision=letter.latest_revision, user=None)
    actor = services.Actor.system("staff@example.org")
    sign_on = services.create_sign_on(
        revision=letter.latest_revision,
        deadline=timezone.now() + datetime.timedelta(days=3),
        coalitions=[coalition],
        actor=actor,
    )
    services.open_sign_on(sign_on=sign_on, actor=actor)  # commits: the invitations are emailed
    return {email.to[0]: LINK.search(email.body).group(1) for email in mailoutbox}


def test_a_contact_signs_from_the_emailed_link_and_another_declines(
    page: Page, live_server, invitation_links, mailoutbox
):
    page.goto(live_server.url + invitation_links["ann@widgets.example.org"])
    expect(page.get_by_role("heading", name="A joint letter on widgets")).to_be_visible()
    expect(page.get_by_text("We write about widgets.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"closes in 3 days, on .* ET"))).to_be_visible()
    expect(page.get_by_label("Name as it will print on the letter")).to_have_value("Widget Makers")
    form = page.get_by_role("form", name="Sign for Widget Makers")
    form.get_by_label("Your name").fill("Ann Signer")
    form.get_by_label("Your title").fill("President")
    form.get_by_label("Your email address").fill("ann@widgets.example.org")
    form.get_by_label("I am authorized to sign on behalf of Widget Makers").check()
    form.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_role("heading", name="Thank you for signing")).to_be_visible()
    expect(page.get_by_text("Widget Makers", exact=True)).to_be_visible()

    other = page.context.browser.new_page()
    other.goto(live_server.url + invitation_links["bo@gadgets.example.org"])
    form = other.get_by_role("form", name="Or decline")
    form.get_by_label("Your name").fill("Bo Decliner")
    form.get_by_label("Your email address").fill("bo@gadgets.example.org")
    form.get_by_label("Reason").fill("Not our issue")
    form.get_by_role("button", name="Decline to sign").click()
    expect(other.get_by_role("heading", name="Your response is recorded")).to_be_visible()
    other.close()

    responses = dict(Signature.objects.values_list("signer_name", "response"))
    assert responses == {"Ann Signer": "signed", "Bo Decliner": "declined"}
    assert any(m.subject.startswith("Thank you for signing") for m in mailoutbox)
