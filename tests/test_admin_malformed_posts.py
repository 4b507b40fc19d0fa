"""Staff forms posted incomplete: 400 with a message that says so, never a 500, nothing saved.

Wagtail reads a StreamField's structure from the fields it counts on ("body-count", then
"body-0-type" …): without them its editor, preview, snippet and settings forms raised
MultiValueDictKeyError. A browser sends the whole form; a form sent before its page has loaded,
or by a tool, may not.
"""

import json

import pytest
from django.urls import reverse
from wagtail.models import Site

from coalition.crm.models import Organization
from letters.models import LetterPage
from tests.factories import ContactFactory, OrganizationFactory, make_letter

INCOMPLETE = "The form arrived incomplete"

EMPTY: dict[str, str] = {}
WITHOUT_COUNTS = {"title": "A letter", "slug": "a-letter", "name": "Widget Makers"}
COUNT_NOT_A_NUMBER = {**WITHOUT_COUNTS, "body-count": "many"}
COUNTED_BLOCKS_MISSING = {**WITHOUT_COUNTS, "body-count": "2"}
POSTS = {
    "empty": EMPTY,
    "without counts": WITHOUT_COUNTS,
    "count not a number": COUNT_NOT_A_NUMBER,
    "counted blocks missing": COUNTED_BLOCKS_MISSING,
}


@pytest.fixture
def letter(db) -> LetterPage:
    return make_letter(live=False)


def page_forms(letter: LetterPage) -> dict[str, str]:
    index = letter.get_parent()
    return {
        "editor": reverse("wagtailadmin_pages:edit", args=[letter.pk]),
        "editor's preview": reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk]),
        "new letter": reverse("wagtailadmin_pages:add", args=["letters", "letterpage", index.pk]),
        "new letter's preview": reverse(
            "wagtailadmin_pages:preview_on_add", args=["letters", "letterpage", index.pk]
        ),
    }


def other_forms(letter: LetterPage) -> dict[str, str]:
    organization = OrganizationFactory()
    contact = ContactFactory(organization=organization)
    site = Site.objects.get(is_default_site=True)
    return {
        "organization": reverse("coalition_organizations:edit", args=[organization.pk]),
        "new organization": reverse("coalition_organizations:add"),
        "contact": reverse("coalition_contacts:edit", args=[contact.pk]),
        "new contact": reverse("coalition_contacts:add"),
        "letterhead": reverse("wagtailsettings:edit", args=["letters", "letterhead", site.pk]),
    }


@pytest.mark.parametrize("post", POSTS, ids=list(POSTS))
@pytest.mark.parametrize(
    "form", ["editor", "editor's preview", "new letter", "new letter's preview"]
)
def test_a_page_form_posted_incomplete_answers_400_and_saves_nothing(
    staff_client, letter, form: str, post: str
) -> None:
    revisions = letter.revisions.count()
    pages = LetterPage.objects.count()
    response = staff_client.post(page_forms(letter)[form], POSTS[post])
    if "preview" in form:
        if post == "empty":
            # Wagtail's own answer to nothing posted: no preview, nothing stored.
            assert response.status_code == 200
            assert response.json() == {"is_valid": False, "is_available": False}
            return
        # What the preview panel reads: it shows the preview as unavailable.
        assert response.status_code == 400
        answer = response.json()
        assert answer["is_valid"] is False
        assert answer["is_available"] is False
        assert answer["error"].startswith(INCOMPLETE)
        assert "“body" in answer["error"]
    else:
        assert response.status_code == 400
        assert INCOMPLETE in response.text
        assert "“body" in response.text  # the field that is missing, named
        assert "Open the form again" in response.text
    assert letter.revisions.count() == revisions
    assert LetterPage.objects.count() == pages


@pytest.mark.parametrize("post", POSTS, ids=list(POSTS))
@pytest.mark.parametrize(
    "form", ["organization", "new organization", "contact", "new contact", "letterhead"]
)
def test_a_snippet_or_settings_form_posted_incomplete_never_answers_500(
    staff_client, letter, form: str, post: str
) -> None:
    url = other_forms(letter)[form]
    organizations = Organization.objects.count()
    response = staff_client.post(url, POSTS[post])
    # These have no StreamField: Django's forms and formsets say what is missing on the form.
    assert response.status_code in (200, 400), response.status_code
    assert Organization.objects.count() == organizations


def test_the_whole_form_is_still_saved(staff_client, letter) -> None:
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    data = nested_form_data(
        {
            "title": letter.title,
            "slug": letter.slug,
            "body": streamfield([("paragraph", rich_text("We write again."))]),
        }
    )
    response = staff_client.post(reverse("wagtailadmin_pages:edit", args=[letter.pk]), data)
    assert response.status_code == 302
    letter.refresh_from_db()
    assert "We write again." in json.dumps(letter.get_latest_revision().content)


def test_a_field_that_is_not_the_forms_is_no_incomplete_form(staff_client, letter) -> None:
    """Only the errors of a form's own structure are taken for an incomplete form."""
    from coalition.core.middleware import _form_field_missing

    assert _form_field_missing(KeyError("anything")) is None
    assert _form_field_missing(ValueError("anything")) is None
