"""Internal review: approving a letter approves its revision for circulation and publishes nothing."""

import pytest
from django.urls import reverse
from wagtail.models import Page, Workflow, WorkflowPage, WorkflowState

from letters.models import CirculationApproval, LetterIndexPage
from letters.services import (
    REVIEW_WORKFLOW_NAME,
    LetterError,
    approve_for_circulation,
    assign_review_workflow,
)
from tests.factories import make_letter


@pytest.fixture
def draft(db):
    letter = make_letter(live=False)
    assign_review_workflow(index=letter.get_parent().specific)
    return letter


def approve_current_task(workflow_state: WorkflowState, user) -> None:
    workflow_state.refresh_from_db()
    workflow_state.current_task_state.specific.approve(user=user, comment="Reads well.")


def test_the_migration_creates_the_internal_review_workflow(db) -> None:
    workflow = Workflow.objects.get(name=REVIEW_WORKFLOW_NAME)
    assert workflow.active
    assert [task.name for task in workflow.tasks] == [REVIEW_WORKFLOW_NAME]
    assert [g.name for g in workflow.tasks[0].specific.groups.all()] == ["Moderators"]


def test_letters_under_the_archive_go_through_internal_review(draft) -> None:
    assert draft.get_workflow().name == REVIEW_WORKFLOW_NAME
    assert WorkflowPage.objects.get(page=draft.get_parent()).workflow.name == REVIEW_WORKFLOW_NAME


def test_assigning_the_workflow_twice_keeps_one_assignment(draft) -> None:
    index = draft.get_parent().specific
    assign_review_workflow(index=index)
    assert WorkflowPage.objects.filter(page=index).count() == 1


def test_final_approval_marks_the_revision_approved_without_publishing(draft, staff) -> None:
    revision = draft.save_revision(user=staff)
    state = draft.get_workflow().start(draft, staff)
    approve_current_task(state, staff)

    state.refresh_from_db()
    draft.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert not draft.live
    assert draft.live_revision is None
    assert draft.has_unpublished_changes
    approval = CirculationApproval.objects.get()
    assert approval.revision == revision
    assert approval.letter.pk == draft.pk
    assert approval.approved_by == staff


def test_a_published_letter_stays_as_published_when_a_new_draft_is_approved(staff) -> None:
    letter = make_letter(live=True)
    assign_review_workflow(index=letter.get_parent().specific)
    live_revision = letter.live_revision
    letter.salutation = "Dear Secretary Roe:"
    new_revision = letter.save_revision(user=staff)
    state = letter.get_workflow().start(letter, staff)
    approve_current_task(state, staff)

    letter.refresh_from_db()
    assert letter.live_revision == live_revision
    assert letter.salutation == "Dear Secretary Doe:"
    assert CirculationApproval.objects.get().revision == new_revision


def test_approving_through_the_admin_does_not_publish(draft, staff, staff_client) -> None:
    draft.save_revision(user=staff)
    state = draft.get_workflow().start(draft, staff)
    task_state = state.current_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[draft.pk, "approve", task_state.pk])
    response = staff_client.post(url, {"comment": ""})
    assert response.status_code in {200, 302}
    draft.refresh_from_db()
    assert not draft.live
    assert CirculationApproval.objects.filter(letter=draft).count() == 1


def test_other_pages_still_publish_when_their_workflow_finishes(db, staff) -> None:
    root = Page.objects.get(depth=1)
    page = root.add_child(instance=LetterIndexPage(title="Other archive", slug="other", live=False))
    page.save_revision(user=staff)
    state = Workflow.objects.get(name=REVIEW_WORKFLOW_NAME).start(page, staff)
    approve_current_task(state, staff)
    page.refresh_from_db()
    assert page.live
    assert not CirculationApproval.objects.exists()


def test_only_letter_revisions_can_be_approved(db, staff) -> None:
    root = Page.objects.get(depth=1)
    page = root.add_child(instance=LetterIndexPage(title="Archive", slug="archive-2"))
    with pytest.raises(LetterError, match="Only letter revisions"):
        approve_for_circulation(revision=page.save_revision(), user=staff)


def test_approving_twice_keeps_one_approval(draft, staff) -> None:
    revision = draft.save_revision(user=staff)
    first = approve_for_circulation(revision=revision, user=staff)
    assert approve_for_circulation(revision=revision, user=None) == first
    assert CirculationApproval.objects.count() == 1
