"""What the sign-on app holds back from Wagtail's own doors, written where it changes.

Wagtail's doors (the editor's Publish, scheduled publishing, bulk actions, the API) may publish a
letter only the first time, and only without a sign-on: a letter out for sign-on is published
from its tracker once the sign-on has closed, and a published letter changes only by a dated
correction, beside the earlier versions. The letters app reads the hold (letters.publishing); it
is written here at each change of a sign-on's status and at each publication.
"""

from dataclasses import dataclass

from letters import publishing
from letters.models import LetterPage
from signatories.models import SignOn


@dataclass(frozen=True)
class Hold:
    message: str
    url_name: str
    url_args: tuple[int, ...]
    label: str


def hold_for(letter: LetterPage) -> Hold | None:
    """The hold a letter needs now, from its sign-on and its versions; None if it needs none."""
    if letter.publications.exists():
        return Hold(
            message=f"“{letter.title}” is published: a change to it (a typo, a late signature, "
            "a withdrawal) is published as a dated correction, beside the earlier versions.",
            url_name="signatories_admin:corrections",
            url_args=(letter.pk,),
            label="Publish a correction",
        )
    sign_on = letter.sign_ons.exclude(status=SignOn.Status.CANCELLED).first()
    if sign_on is None:
        return None
    return Hold(
        message=f"“{letter.title}” is out for sign-on ({sign_on.get_status_display().lower()}): "
        "it is published from the sign-on's tracker once the sign-on has closed, with the "
        "signatories who agreed to the circulated text.",
        url_name="signatories_admin:tracker",
        url_args=(sign_on.pk,),
        label="Go to the sign-on's tracker",
    )


def keep_hold(letter: LetterPage) -> Hold | None:
    """Write the hold the letter needs now (or release it), and return it."""
    needed = hold_for(letter)
    if needed is None:
        publishing.release(letter)
    else:
        publishing.hold(
            letter,
            needed.message,
            url_name=needed.url_name,
            url_args=needed.url_args,
            label=needed.label,
        )
    return needed
