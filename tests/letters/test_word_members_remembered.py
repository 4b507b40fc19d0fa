"""The members a Word import recognizes among a draft's signatories are remembered with the
letter: when staff open its sign-on later, from the letter's link on the page that opens
sign-ons, they are ticked in advance."""

import html
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from letters.models import LetterPage, RecognizedMembers
from letters.services import approve_for_circulation
from letters.word_samples import sample_plain_lines_letter_docx
from tests.factories import OrganizationFactory


def test_members_recognized_on_import_are_ticked_when_the_sign_on_opens_later(
    staff_client, letter
) -> None:
    members = [OrganizationFactory(name="ANSOL", acronym=""), OrganizationFactory(name="Alvatal")]
    staff_client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("plain.docx", sample_plain_lines_letter_docx())},
    )
    draft = LetterPage.objects.exclude(pk=letter.pk).get()
    remembered = RecognizedMembers.objects.get(letter=draft)
    assert sorted(remembered.organization_ids) == sorted(m.pk for m in members)
    # Days later, after review: the letter is approved, and staff come to open its sign-on.
    approval = approve_for_circulation(revision=draft.save_revision(), user=None)
    page = staff_client.get(reverse("signatories_admin:open"))
    listed = html.unescape(page.content.decode())
    assert re.search(
        rf'<a href="\?approval={approval.pk}">{re.escape(draft.title)}</a>, approved .*: the 2 '
        "members its Word import recognized among the signatories are ticked",
        listed,
    )
    picked = staff_client.get(f"{reverse('signatories_admin:open')}?approval={approval.pk}")
    form = picked.context["form"]
    assert form["approval"].value() == approval.pk
    assert sorted(int(pk) for pk in form["organizations"].value()) == sorted(m.pk for m in members)


def test_ids_that_are_not_numbers_are_left_out(staff_client, letter) -> None:
    """A superscript two is a digit to str.isdigit(), and no number to int()."""
    url = reverse("signatories_admin:open")
    response = staff_client.get(f"{url}?organizations=²&organizations=abc&approval=٣")
    assert response.status_code == 200
    assert not response.context["form"]["organizations"].value()
