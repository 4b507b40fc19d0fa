"""Demo content for the letters app: internal review on the archive, a second letter awaiting it.

Idempotent: `load_demo` may call `load(stdout)` on every run.
"""

import datetime
from typing import Protocol

from django.contrib.auth import get_user_model
from django.db import transaction

from coalition.crm.models import Coalition

from .models import LetterPage
from .services import assign_review_workflow, ensure_letter_archive

DRAFT_SLUG = "cross-border-data-flows"
DRAFT_BODY = [
    {
        "type": "paragraph",
        "value": "<p>The undersigned associations write to urge the Department to make the free "
        "flow of data across borders a <b>priority</b> in every trade negotiation this year.</p>",
    },
    {
        "type": "section",
        "value": {
            "heading": "Our recommendations:",
            "numbered": True,
            "items": [
                "<p>Oppose forced data localization in trade agreements;</p>",
                "<p>Protect source code and algorithms from forced disclosure; and</p>",
                "<p>Work with allies on <i>interoperable</i> privacy frameworks.</p>",
            ],
        },
    },
    {
        "type": "paragraph",
        "value": '<p>Our members stand ready to help; see <a href="https://example.org/data">'
        "our joint statement</a> for the evidence.</p>",
    },
]


class Output(Protocol):
    """Where a demo says what it did: a command's stdout, or a StringIO in tests."""

    def write(self, text: str) -> object: ...


@transaction.atomic
def load(stdout: "Output") -> None:
    """Assign internal review to the archive and leave a second letter in review."""
    index = ensure_letter_archive()
    workflow = assign_review_workflow(index=index)
    stdout.write(f"Letters under {index.url} go through the “{workflow.name}” workflow\n")

    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    letter = LetterPage.objects.child_of(index).filter(slug=DRAFT_SLUG).first()
    if letter is None:
        letter = LetterPage(
            title="Joint letter on cross-border data flows",
            slug=DRAFT_SLUG,
            coalition=Coalition.objects.filter(slug="digital-trade-coalition").first(),
            letter_date=datetime.date.today(),
            recipients="The Honorable Jane Roe\nSecretary of Commerce\n"
            "1401 Constitution Avenue NW\nWashington, DC 20230",
            salutation="Dear Secretary Roe:",
            body=DRAFT_BODY,
            closing="Respectfully,",
            signatory_style=LetterPage.SignatoryStyle.SIGNERS,
            owner=staff,
            live=False,
        )
        index.add_child(instance=letter)
        letter.save_revision(user=staff, log_action=True)
        stdout.write(f"Drafted “{letter.title}”\n")
    if not letter.workflow_in_progress and not letter.circulation_approvals.exists():
        workflow.start(letter, staff)
        stdout.write(f"“{letter.title}” is awaiting internal review\n")
