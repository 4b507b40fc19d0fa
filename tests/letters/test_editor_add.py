"""The editor's add view, for every page type under every parent it may have: it opens, and a
draft saves. None of it used to be requested: creating a letter answered 500."""

import pytest
from django.urls import reverse
from wagtail.models import Page, get_page_models
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from letters.models import LetterIndexPage, LetterPage
from tests.factories import letter_index


def _parents_of(model: type[Page]) -> list[Page]:
    """Every page that may hold a new page of this type, one of each type."""
    parents = []
    for parent_model in model.allowed_parent_page_models():
        found = parent_model.objects.order_by("pk").first()
        if found is not None and model.can_create_at(found):
            parents.append(found)
    return parents


def _creatable() -> list[type[Page]]:
    return [model for model in get_page_models() if model.is_creatable]


@pytest.mark.parametrize("model", _creatable(), ids=lambda m: m._meta.label)
def test_the_add_view_opens_under_every_parent_it_may_have(staff_client, model) -> None:
    letter_index()
    parents = _parents_of(model)
    if model is LetterIndexPage:
        LetterIndexPage.objects.all().delete()  # at most one per parent: make room for another
        parents = _parents_of(model)
    assert parents, f"no parent in the test site may hold a {model._meta.label}"
    for parent in parents:
        url = reverse(
            "wagtailadmin_pages:add",
            args=[model._meta.app_label, model._meta.model_name, parent.pk],
        )
        response = staff_client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_a_new_letter_saves_as_a_draft_and_opens_in_the_editor(staff_client) -> None:
    index = letter_index()
    url = reverse("wagtailadmin_pages:add", args=["letters", "letterpage", index.pk])
    data = nested_form_data(
        {
            "title": "A new letter on widgets",
            "slug": "new-letter-on-widgets",
            "coalition": "",
            "letter_date": "",
            "dateline": "",
            "recipients": "The Honorable Jane Doe",
            "salutation": "Dear Secretary Doe:",
            "body": streamfield([("paragraph", rich_text("<p>We write about widgets.</p>"))]),
            "closing": "Sincerely,",
            "cc": "",
            "footnotes": "",
            "signatory_order": "alphabetical",
            "signatory_style": "organizations",
            "group_signatories": "on",
            "comments": inline_formset([]),
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    letter = LetterPage.objects.get(slug="new-letter-on-widgets")
    assert not letter.live
    edit = staff_client.get(reverse("wagtailadmin_pages:edit", args=[letter.pk]))
    assert edit.status_code == 200
