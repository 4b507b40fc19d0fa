"""The review workflow's words: its final approval approves for circulation and publishes nothing,
and the buttons and the message after say so."""

import re

import pytest
from django.urls import reverse
from wagtail.models import Page, Workflow

from letters.models import CirculationApproval, LetterIndexPage
from letters.services import REVIEW_WORKFLOW_NAME, assign_review_workflow
from tests.factories import make_letter
from tests.support.letters import edit_form_data


@pytest.fixture
def in_review(db, staff):
    """A draft letter submitted to internal review."""
    letter = make_letter(live=False)
    assign_review_workflow(index=letter.get_parent().specific)
    letter.save_revision(user=staff)
    letter.get_workflow().start(letter, staff)
    return letter


def action_buttons(html: str) -> list[str]:
    """The labels of the editor's workflow action buttons."""
    found = re.findall(
        r"data-workflow-action-name=\"[a-z]+\"[^>]*>\s*(?:<svg.*?</svg>)?([^<]*)<", html, re.S
    )
    return [" ".join(label.split()) for label in found]


def test_the_editor_offers_approval_for_circulation_not_publishing(staff_client, in_review):
    html = staff_client.get(
        reverse("wagtailadmin_pages:edit", args=[in_review.pk])
    ).content.decode()

    assert action_buttons(html) == [
        "Request changes",
        "Approve for circulation",
        "Approve for circulation, with a comment",
    ]
    assert "and Publish" not in html


def test_the_message_after_approving_says_nothing_was_published(staff_client, in_review):
    url = reverse("wagtailadmin_pages:edit", args=[in_review.pk])
    data = edit_form_data(
        in_review, **{"action-workflow-action": "true", "workflow-action-name": "approve"}
    )

    response = staff_client.post(url, data, follow=True)

    assert response.redirect_chain
    said = [str(message) for message in response.context["messages"]]
    assert said == [
        "“A joint letter on widgets”: the reviewed revision is approved for circulation, and can "
        "go out for signature from Sign-ons → Open a sign-on. Nothing was published."
    ]
    assert "has been updated" not in response.content.decode()
    in_review.refresh_from_db()
    assert not in_review.live
    assert CirculationApproval.objects.filter(letter=in_review).exists()


def test_other_pages_keep_wagtails_words(staff_client, staff):
    """Only a letter's approval changes meaning: any other page is published by it."""
    home = Page.objects.get(depth=2)
    archive = home.add_child(instance=LetterIndexPage(title="Other", slug="other", live=False))
    archive.save_revision(user=staff)
    Workflow.objects.get(name=REVIEW_WORKFLOW_NAME).start(archive, staff)

    html = staff_client.get(reverse("wagtailadmin_pages:edit", args=[archive.pk])).content.decode()

    assert "Approve and Publish" in action_buttons(html)
