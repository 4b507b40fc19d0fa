import io

from wagtail.models import WorkflowState

from letters import demo
from letters.models import LetterPage


def test_the_demo_leaves_a_letter_in_review_and_runs_twice(db, staff) -> None:
    out = io.StringIO()
    demo.load(out)
    demo.load(out)
    letter = LetterPage.objects.get(slug=demo.DRAFT_SLUG)
    assert not letter.live
    assert letter.get_workflow().name == "Internal review"
    state = WorkflowState.objects.get(object_id=str(letter.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert "is awaiting internal review" in out.getvalue()
