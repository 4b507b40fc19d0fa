"""The member CRM's records as staff keep them: members with contacts, memberships, tags and
interactions, the staff form's POST, and sign-ons that write to an organization's timeline."""

from django.utils.text import slugify
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from signatories.models import Invitation, Signature, SignOn
from tests.factories import (
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    OrganizationFactory,
)
from tests.support import signing


def make_members(count: int, coalition, *, tag: str = "tech") -> list:
    """`count` organizations, each with two contacts, a membership, a tag and an interaction."""
    orgs = []
    for _ in range(count):
        org = OrganizationFactory(country="US", website="")
        org.tags.add(tag)
        org.save()
        ContactFactory.create_batch(2, organization=org)
        MembershipFactory(organization=org, coalition=coalition)
        InteractionFactory(organization=org)
        orgs.append(org)
    return orgs


def organization_post(**fields) -> dict:
    """What the staff form for an organization POSTs: empty but for `fields`."""
    return nested_form_data(
        {
            "name": "",
            "acronym": "",
            "display": "",
            "sort_name": "",
            "kind": "trade_association",
            "status": "active",
            "country": "",
            "website": "",
            "description": "",
            "tags": "",
            "contacts": inline_formset([]),
            "memberships": inline_formset([]),
            **fields,
        }
    )


def open_sign_on_for(
    *organizations, title: str = "A joint letter on widgets", slug: str = ""
) -> SignOn:
    """An open sign-on of a new letter, inviting these organizations' contacts (events and all)."""
    revision = signing.approved_revision(title=title, slug=slug or slugify(title))
    return signing.open_for_signing(revision, organizations=organizations)


def sign(invitation: Invitation, **fields) -> Signature:
    """Sign through the sign-on's service as the invited person, under their own name."""
    return signing.sign(
        invitation, **{"signer_name": invitation.name, "signer_title": "", **fields}
    )
