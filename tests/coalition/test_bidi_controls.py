"""Bidirectional controls in names: refused, wherever a name comes in, with a message naming them.

U+202E RIGHT-TO-LEFT OVERRIDE makes "Widget\u202esrekaM" show as "WidgetMakers": a name on a
letter, in the review queue or in a list that reads as something it is not. One validator
(coalition.core.validators) is used by the CRM's models and forms, the member import, the signer's
input and import_letter.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset

from coalition.core.validators import bidi_control_problem, validate_no_bidi_controls
from coalition.crm.models import Contact, Organization
from tests.factories import OrganizationFactory
from tests.support.crm import organization_post

RLO = "\u202e"
OVERRIDE = (
    "contains U+202E RIGHT-TO-LEFT OVERRIDE, which can make a name read differently from what it is"
)
CONTROLS = {
    "\u202a": "U+202A LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "U+202B RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "U+202C POP DIRECTIONAL FORMATTING",
    "\u202d": "U+202D LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "U+2066 LEFT-TO-RIGHT ISOLATE",
    "\u2067": "U+2067 RIGHT-TO-LEFT ISOLATE",
    "\u2068": "U+2068 FIRST STRONG ISOLATE",
    "\u2069": "U+2069 POP DIRECTIONAL ISOLATE",
}


@pytest.mark.parametrize("character", CONTROLS)
def test_each_embedding_override_and_isolate_is_refused_by_name(character: str) -> None:
    assert bidi_control_problem(f"Widget{character} Makers") == (
        f"contains {CONTROLS[character]}, which can make a name read differently from what it is"
    )
    with pytest.raises(ValidationError) as refused:
        validate_no_bidi_controls(f"Widget{character} Makers")
    assert refused.value.messages == [f"This {bidi_control_problem(character)}: remove it."]


@pytest.mark.parametrize(
    "name",
    [
        "جمعية ABC\u200f (الأردن)",  # a right-to-left mark keeps the brackets where they belong
        "\u200eACME\u200e Widgets",  # a left-to-right mark
        "اتحاد\u061c 2024",  # an Arabic letter mark
        "איגוד היצרנים",
        "Widget Makers",
    ],
)
def test_names_in_any_script_and_the_direction_marks_are_accepted(name: str) -> None:
    assert bidi_control_problem(name) is None
    validate_no_bidi_controls(name)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "acronym", "display"])
def test_an_organization_refuses_one_in_its_names(field: str) -> None:
    organization = OrganizationFactory.build(**{field: f"Widget{RLO}srekaM"})
    with pytest.raises(ValidationError) as refused:
        organization.full_clean()
    assert refused.value.message_dict[field] == [f"This {OVERRIDE}: remove it."]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "title"])
def test_a_contact_refuses_one_in_its_name_and_title(field: str) -> None:
    contact = Contact(organization=OrganizationFactory(), name="Ann Lee", email="ann@example.org")
    setattr(contact, field, f"Ann{RLO} Lee")
    with pytest.raises(ValidationError) as refused:
        contact.full_clean()
    assert refused.value.message_dict[field] == [f"This {OVERRIDE}: remove it."]


@pytest.mark.django_db
def test_the_staff_form_shows_the_message_and_saves_nothing(manager_client) -> None:
    response = manager_client.post(
        reverse("coalition_organizations:add"),
        organization_post(name="Widget Makers", display=f"Widget{RLO}srekaM"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["display"] == [f"This {OVERRIDE}: remove it."]
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_the_staff_form_refuses_one_in_a_contacts_name(manager_client) -> None:
    data = organization_post(
        name="Widget Makers",
        contacts=inline_formset(
            [{"name": f"Ann{RLO} Lee", "email": "ann@widgets.example", "title": "", "phone": ""}]
        ),
    )
    response = manager_client.post(reverse("coalition_organizations:add"), data)
    assert response.status_code == 200
    assert f"This {OVERRIDE}: remove it." in response.text
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_the_member_import_lists_it_by_row_and_column() -> None:
    from coalition.crm.imports import import_members

    data = (
        "name,display,contact_name,contact_email\r\n"
        "Widget Makers,,Ann Lee,ann@widgets.example\r\n"
        f"Gadget Guild,Gadget{RLO} Guild,Bob\u2067 Lee,bob@gadgets.example\r\n"
    ).encode()
    report = import_members(data=data, filename="members.csv", dry_run=True)
    assert report.errors == [
        f"Row 3, column display: {OVERRIDE}; remove it.",
        "Row 3, column contact_name: contains U+2067 RIGHT-TO-LEFT ISOLATE, which can make a "
        "name read differently from what it is; remove it.",
    ]


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("display_name", "The name as it will print"),
        ("signer_name", "Your name"),
        ("signer_title", "Your title"),
    ],
)
def test_the_signers_input_refuses_one_naming_the_field(field: str, label: str) -> None:
    from signatories.inputs import InvalidInput, Signing

    data = {
        "display_name": "Widget Makers",
        "signer_name": "Pat Signer",
        "signer_title": "President",
        "authorized": "on",
        field: f"Widget{RLO}srekaM",
    }
    with pytest.raises(InvalidInput) as refused:
        Signing.clean(data, organization_name="Widget Makers")
    assert refused.value.errors == {field: f"{label}: {OVERRIDE}; remove it."}


def test_a_stranger_asking_to_sign_and_an_individual_are_refused_too() -> None:
    from signatories.inputs import IndividualSigning, InvalidInput, OrganizationRequest

    with pytest.raises(InvalidInput) as refused:
        OrganizationRequest.clean(
            {
                "organization_name": f"Widget{RLO}srekaM",
                "acronym": "WM",
                "display_name": "Widget Makers",
                "signer_name": "Pat Signer",
                "signer_title": "President",
                "signer_email": "pat@widgets.example",
                "authorized": "on",
            }
        )
    assert refused.value.errors == {
        "organization_name": f"The organization name: {OVERRIDE}; remove it."
    }
    with pytest.raises(InvalidInput) as refused:
        IndividualSigning.clean(
            {"person": "Ann Lee", "affiliation": f"Uni{RLO}", "signer_email": "ann@uni.example"}
        )
    assert refused.value.errors == {"affiliation": f"Affiliation: {OVERRIDE}; remove it."}


def test_a_comment_to_staff_may_quote_right_to_left_text_as_written() -> None:
    from signatories.inputs import Signing

    signing = Signing.clean(
        {
            "display_name": "Widget Makers",
            "signer_name": "Pat Signer",
            "authorized": "on",
            "comment": "Our name in Arabic: \u2067اتحاد\u2069.",  # noqa: RUF001
        },
        organization_name="Widget Makers",
    )
    assert "\u2067" in signing.comment


@pytest.mark.django_db
def test_the_sign_page_says_so_and_records_nothing(client) -> None:
    from signatories.models import Signature
    from tests.support.signing import make_members, open_new_sign_on, sign_data, token_for

    sign_on = open_new_sign_on(make_members(1))
    invitation = sign_on.invitations.get()
    response = client.post(
        reverse("signatories:sign", args=[token_for(invitation)]),
        sign_data(sign_on, invitation.organization, signer_name=f"Pat{RLO} Signer"),
    )
    assert response.status_code == 400
    assert f"Your name: {OVERRIDE}; remove it." in response.text
    assert not Signature.objects.exists()


@pytest.mark.django_db
def test_import_letter_lists_each_by_its_path() -> None:
    from signatories.interchange import LetterDocumentError, import_letter

    document = {
        "body": [{"type": "paragraph", "text": "We write."}],
        "signatories": [
            {"name": "Widget Makers", "signer": f"Pat{RLO} Signer"},
            {"person": "Ann Lee", "affiliation": "Uni\u2066versity"},
        ],
    }
    with pytest.raises(LetterDocumentError) as refused:
        import_letter(document=document)
    assert refused.value.problems == [
        f"$.signatories[0].signer: {OVERRIDE}; remove it",
        "$.signatories[1].affiliation: contains U+2066 LEFT-TO-RIGHT ISOLATE, which can make a "
        "name read differently from what it is; remove it",
    ]
    assert not Organization.objects.exists()
