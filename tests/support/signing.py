"""The sign-on, built through its services as staff and signers would: a coalition of members with
contacts, an approved letter, a sign-on open to them, and each person's answer."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from wagtail.models import Revision

from coalition.crm.models import Organization
from letters.models import LetterPage
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.inputs import (
    Declining,
    IndividualSigning,
    OrganizationRequest,
    Signing,
    Withdrawing,
)
from signatories.models import Invitation, Signature, SignOn
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
    """A coalition of `count` organizations, each with an authorized primary contact."""
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


def widget_makers(coalition: object) -> Organization:
    """Widget Makers, a member of the coalition, with its director Ann as authorized signer."""
    widgets = OrganizationFactory(name="Widget Makers", acronym="")
    MembershipFactory(coalition=coalition, organization=widgets)
    ContactFactory(
        organization=widgets,
        name="Ann Director",
        title="President",
        email="ann@widgets.example.org",
        is_authorized_signer=True,
    )
    return widgets


def approved_revision(**letter_fields) -> Revision:
    """A new letter's revision, approved for circulation."""
    letter = make_letter(live=False, **letter_fields)
    revision = letter.latest_revision
    approve_for_circulation(revision=revision, user=None)
    return revision


def approved_change(letter: LetterPage, body: list[dict]) -> Revision:
    """A new revision of the letter with this body, approved for circulation."""
    letter.body = body
    revision = letter.save_revision()
    approve_for_circulation(revision=revision, user=None)
    return revision


def open_for_signing(
    revision: Revision, *, days: int = 3, actor: services.Actor = STAFF_ACTOR, **audience
) -> SignOn:
    """A sign-on of the revision, due in `days`, opened to the audience (invitations and all)."""
    sign_on = services.create_sign_on(
        revision=revision,
        deadline=timezone.now() + datetime.timedelta(days=days),
        actor=actor,
        **audience,
    )
    return services.open_sign_on(sign_on=sign_on, actor=actor)


def open_new_sign_on(
    members: Members, *, days: int = 3, actor: services.Actor = STAFF_ACTOR, **options
) -> SignOn:
    revision = options.pop("revision", None) or approved_revision()
    return open_for_signing(
        revision, days=days, actor=actor, coalitions=[members.coalition], **options
    )


def open_sign_on_to(coalition: object, *, accepts_individuals: bool = True) -> SignOn:
    """A letter approved for circulation, opened to every contact of the coalition's members."""
    return open_for_signing(
        approved_revision(accepts_individuals=accepts_individuals),
        coalitions=[coalition],
        recipients=SignOn.Recipients.ALL,
    )


def with_open_link(sign_on: SignOn) -> SignOn:
    """The sign-on with its open link issued (taking requests from outside), its token kept."""
    sign_on.token = services.issue_open_link(
        sign_on=sign_on, actor=STAFF_ACTOR, accepts_requests=True
    )
    return sign_on


def token_for(invitation: Invitation) -> str:
    """The invited person's link token, as their emails carry it."""
    return selectors.invitation_link_token(invitation)


def sign(
    invitation: Invitation,
    *,
    text_hash: str | None = None,
    actor: services.Actor = SIGNER,
    **signing,
) -> Signature:
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


def withdraw(signature: Signature, *, reason: str = "", actor: services.Actor = SIGNER):
    return services.withdraw_signature(
        signature=signature, withdrawing=Withdrawing(reason=reason), actor=actor
    )


def ask_to_sign(sign_on: SignOn, *, actor: services.Actor = SIGNER, **overrides) -> Signature:
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


def individual_approved(sign_on: SignOn, *, actor: services.Actor = STAFF_ACTOR) -> Signature:
    """Jane Doe, signing in her own name through the open link, confirmed and approved."""
    services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
    person = services.sign_as_individual(
        sign_on=sign_on,
        signing=IndividualSigning(
            person="Jane Doe", title="Professor", signer_email="jane@uni.example.org"
        ),
        text_hash=sign_on.text_hash,
        actor=actor,
    )
    services.confirm_signature(signature=person, actor=actor)
    services.approve_signature(signature=person, actor=actor)
    return person


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


def open_form_data(approval, members: Members, **overrides) -> dict:
    """What the staff form that opens a sign-on POSTs: five days to sign, authorized signers."""
    deadline = timezone.localtime(timezone.now() + datetime.timedelta(days=5))
    data = {
        "approval": approval.pk,
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "coalitions": [members.coalition.pk],
        "recipients": SignOn.Recipients.SIGNERS,
        "auto_approve_authorized": "on",
    }
    data.update(overrides)
    return data
