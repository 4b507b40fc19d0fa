"""Fixtures for the sign-on: a coalition of members with contacts, an approved letter, a sign-on."""

import datetime
import re
from dataclasses import dataclass

import pytest
from django.utils import timezone

from coalition.crm.models import Membership
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.inputs import Declining, OrganizationRequest, Signing, Withdrawing
from signatories.models import Invitation, SignOn
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    make_letter,
)

LINK = re.compile(r"http://[^/\s]+(/sign/[A-Za-z0-9_-]{43}/)")
# A signer's link to their own signature: confirm, reconfirm, withdraw.
SIGNATURE_LINK = re.compile(r"http://[^/\s]+(/sign/s/[A-Za-z0-9_-]{43}/)")
STAFF_ACTOR = services.Actor.system("staff@example.org")
SIGNER = services.Actor(label="signer", ip_address="203.0.113.9", user_agent="Test/1.0")


@dataclass
class Members:
    coalition: object
    organizations: list
    contacts: list


def make_members(count: int = 3, *, tiers: tuple = ("lead", "steering", "member")) -> Members:
    coalition = CoalitionFactory(name="Digital Trade Coalition", slug="dtc")
    organizations, contacts = [], []
    for i in range(count):
        org = OrganizationFactory(name=f"Association of Widget Makers {i}", acronym=f"AWM{i}")
        MembershipFactory(coalition=coalition, organization=org, tier=tiers[i % len(tiers)])
        contacts.append(
            ContactFactory(
                organization=org,
                name=f"Pat Signer {i}",
                email=f"pat{i}@awm{i}.example.org",
                is_authorized_signer=True,
                is_primary=True,
            )
        )
        organizations.append(org)
    return Members(coalition=coalition, organizations=organizations, contacts=contacts)


def approved_revision(**letter_fields):
    letter = make_letter(live=False, **letter_fields)
    revision = letter.latest_revision
    approve_for_circulation(revision=revision, user=None)
    return revision


def open_new_sign_on(
    members: Members, *, days: int = 3, actor: services.Actor = STAFF_ACTOR, **options
) -> SignOn:
    revision = options.pop("revision", None) or approved_revision()
    sign_on = services.create_sign_on(
        revision=revision,
        deadline=timezone.now() + datetime.timedelta(days=days),
        coalitions=[members.coalition],
        actor=actor,
        **options,
    )
    return services.open_sign_on(sign_on=sign_on, actor=actor)


def token_for(invitation: Invitation) -> str:
    """The invited person's link token, as their emails carry it."""
    return selectors.invitation_link_token(invitation)


@pytest.fixture
def members(db) -> Members:
    return make_members()


@pytest.fixture
def sign_on(members: Members) -> SignOn:
    return open_new_sign_on(members)


@pytest.fixture
def invitations(sign_on: SignOn) -> list[Invitation]:
    return list(sign_on.invitations.select_related("organization").order_by("organization__name"))


@pytest.fixture
def tokens(invitations: list[Invitation]) -> list[str]:
    return [token_for(invitation) for invitation in invitations]


def sign(
    invitation: Invitation,
    *,
    text_hash: str | None = None,
    actor: services.Actor = SIGNER,
    **signing,
):
    """Sign through the service as the invited person, for their organization."""
    fields = {
        "display_name": invitation.organization.printed_name,
        "signer_name": "Pat Signer",
        "signer_title": "President",
        **signing,
    }
    return services.sign_letter(
        invitation=invitation,
        signing=Signing(**fields),
        text_hash=invitation.sign_on.text_hash if text_hash is None else text_hash,
        actor=actor,
    )


def decline(invitation: Invitation, *, reason: str = "", actor: services.Actor = SIGNER):
    return services.decline_letter(
        invitation=invitation,
        declining=Declining(signer_name="Pat Signer", reason=reason),
        actor=actor,
    )


def withdraw(signature, *, reason: str = "", actor: services.Actor = SIGNER):
    return services.withdraw_signature(
        signature=signature, withdrawing=Withdrawing(reason=reason), actor=actor
    )


def ask_to_sign(sign_on: SignOn, *, actor: services.Actor = SIGNER, **overrides):
    """An organization outside the audience asks through the open link (not confirmed yet)."""
    fields = {
        "organization_name": "Robot Makers Guild",
        "display_name": "Robot Makers Guild",
        "signer_name": "Sam Rivera",
        "signer_title": "Director",
        "signer_email": "sam@robots.example.org",
        **overrides,
    }
    return services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest(**fields),
        text_hash=sign_on.text_hash,
        actor=actor,
    )


def sign_data(sign_on: SignOn, organization, **overrides) -> dict:
    """What the invited person's page POSTs to sign."""
    data = {
        "action": "sign",
        "display_name": organization.printed_name,
        "signer_name": "Pat Signer",
        "signer_title": "President",
        "authorized": "on",
        "comment": "",
        "text_hash": sign_on.text_hash,
    }
    data.update(overrides)
    return data


__all__ = ["LINK", "SIGNATURE_LINK", "SIGNER", "STAFF_ACTOR", "Members", "Membership"]
