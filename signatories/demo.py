"""Demo content for the sign-on: a letter out for signature, with a link to try signing, one
that went through its sign-on and was published with its signatories (then delivered to its
recipient, who answered), and a draft shared with a member for comment, with a link to comment
on it.

Idempotent: run it again and it reuses the letter and sign-on, printing a fresh link.
Needs the coalition that `load_demo` creates ("digital-trade-coalition").
"""

import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coalition.crm.models import Coalition, Contact, Membership, Organization
from coalition.crm.services import create_contact, create_organization, office_named
from letters import passages
from letters.models import LetterPage, Publication
from letters.services import approve_for_circulation, ensure_letter_archive, unique_slug
from signatories import selectors, services
from signatories.inputs import (
    Commenting,
    Declining,
    Forwarding,
    IndividualSigning,
    OrganizationRequest,
    Signing,
    staff_line,
    staff_text,
)
from signatories.models import DraftShare, Invitation, Recipient, SignOn

TITLE = "Letter on cross-border data flows (out for sign-on)"
BODY: list[dict[str, Any]] = [
    {
        "type": "paragraph",
        "value": "<p>We, the undersigned associations, write to urge that the trade agreement "
        "now under negotiation protect the free flow of data across borders.</p>",
    },
    {"type": "heading", "value": "Our requests"},
    {
        "type": "bullets",
        "value": [
            "<p>Prohibit data localization requirements that serve no legitimate purpose.</p>",
            "<p>Keep the moratorium on customs duties on electronic transmissions.</p>",
        ],
    },
]


class Output(Protocol):
    """Where a demo says what it did: a command's stdout, or a StringIO in tests."""

    def write(self, text: str) -> object: ...


PUBLISHED_TITLE = "Statement on open digital trade rules"
# The letter's own marker: it prints as typed, not numbered again.
PUBLISHED_FOOTNOTES = (
    "* The WTO members' undertaking, renewed since 1998, not to impose customs duties on "
    "electronic transmissions."
)
PUBLISHED_BODY: list[dict[str, Any]] = [
    {
        "type": "paragraph",
        "value": "<p>The undersigned associations support trade rules that keep digital markets "
        "open, predictable and fair for companies of every size.</p>",
    },
    {
        "type": "section",
        "value": {
            "heading": "We ask negotiators to",
            "numbered": True,
            "items": [
                "<p>guarantee the free flow of data with safeguards for privacy;</p>",
                "<p>protect source code from forced disclosure; and</p>",
                "<p>make the moratorium* on customs duties on electronic transmissions permanent.</p>",
            ],
        },
    },
]


def _letter(
    coalition: Coalition,
    title: str = TITLE,
    body: list[dict[str, Any]] = BODY,
    footnotes: str = "",
    *,
    accepts_individuals: bool = False,
) -> LetterPage:
    letter = LetterPage.objects.filter(title=title).first()
    if letter is None:
        index = ensure_letter_archive()
        letter = LetterPage(
            title=title,
            slug=unique_slug(index, title),
            coalition=coalition,
            recipients="The Honorable Trade Representative\nOffice of the Trade Representative",
            salutation="Dear Ambassador:",
            body=body,
            closing="Sincerely,",
            footnotes=footnotes,
            signatory_order=LetterPage.SignatoryOrder.BY_TIER,
            accepts_individuals=accepts_individuals,
            live=False,
        )
        index.add_child(instance=letter)
        letter.save_revision()
    return letter


DEMO_GOAL = 25

DRAFT_TITLE = "Letter on rules for AI in public services (draft for comment)"
DRAFT_BODY: list[dict[str, Any]] = [
    {
        "type": "paragraph",
        "value": "<p>We, the undersigned associations, write about the proposed rules for the use "
        "of artificial intelligence in public services.</p>",
    },
    {"type": "heading", "value": "What we ask"},
    {
        "type": "bullets",
        "value": [
            "<p>Publish an inventory of the systems in use.</p>",
            "<p>Give people a way to ask for a human decision.</p>",
        ],
    },
]


def load(stdout: "Output") -> None:
    """Open a sign-on on a demo letter, record a few responses and print links to try it."""
    coalition = Coalition.objects.filter(slug="digital-trade-coalition").first()
    if coalition is None:
        stdout.write("No demo coalition yet: run `manage.py load_demo` first.\n")
        return
    actor = services.Actor.system("demo")
    with transaction.atomic():
        # Members sign for their associations, and people add their names in a personal capacity.
        letter = _letter(coalition, accepts_individuals=True)
        sign_on = SignOn.objects.filter(letter=letter).exclude(status="cancelled").first()
        if sign_on is None:
            revision = letter.latest_revision
            approve_for_circulation(revision=revision, user=None)
            # At 17:00 in the coalition's time zone, twelve days out, then extended to two
            # weeks: the tracker's record shows the move, and who was told of it.
            five_pm = timezone.localtime().replace(hour=17, minute=0, second=0, microsecond=0)
            sign_on = services.create_sign_on(
                revision=revision,
                deadline=five_pm + datetime.timedelta(days=12),
                coalitions=[coalition],
                message="Please read the draft and respond by the deadline.",
                show_signatories=True,
                # People who confirm their address are listed at once; staff see the exceptions.
                auto_approve_individuals=True,
                reminder_days=[7, 2, 1],
                # "Publish when 25 organizations have signed": the tracker and the signers'
                # pages show how near it is (fewer where the coalition has fewer members).
                goal_organizations=min(
                    DEMO_GOAL, coalition.memberships.filter(left_on__isnull=True).count()
                ),
                actor=actor,
            )
            sign_on = services.open_sign_on(sign_on=sign_on, actor=actor)
            _responses(sign_on, actor)
            sign_on = services.change_deadline(
                sign_on=sign_on, deadline=five_pm + datetime.timedelta(days=14), actor=actor
            )
            stdout.write(f"Opened a sign-on on “{TITLE}”.\n")
        _published_example(coalition, actor, stdout)
        share = _shared_draft(coalition, actor)
        if not Organization.objects.filter(name="Open Markets Forum").exists():
            # After both sign-ons went out: the tracker asks whether to invite it.
            _joins_later(coalition)
    if share is not None:
        link = settings.SITE_URL + reverse(
            "signatories:draft", args=[selectors.draft_link_token(share)]
        )
        stdout.write(f"Comment on the shared draft as {share.name}: {link}\n")
    _print_links(sign_on, actor, stdout)


def _print_links(sign_on: SignOn, actor: services.Actor, stdout: "Output") -> None:
    """The links to try the sign-on with: someone still waiting, the colleague a request was
    passed to, and a fresh open link (its address is shown only when it is made)."""
    waiting = (
        selectors.awaiting_response(sign_on)
        .select_related("organization")
        .order_by("organization__sort_name", "pk")
    )
    if sign_on.status != SignOn.Status.OPEN or not waiting.exists():
        stdout.write(f"The demo sign-on is {sign_on.get_status_display().lower()}.\n")
        return
    first = waiting.first()
    assert first is not None
    link = settings.SITE_URL + reverse(
        "signatories:sign", args=[selectors.invitation_link_token(first)]
    )
    stdout.write(f"Try signing for {first.organization.name}, as {first.name}: {link}\n")
    forwarded = (
        Invitation.objects.filter(sign_on=sign_on, forwarded_by__isnull=False)
        .select_related("forwarded_by", "organization")
        .first()
    )
    if forwarded is not None and forwarded.forwarded_by is not None:
        link = settings.SITE_URL + reverse(
            "signatories:sign", args=[selectors.invitation_link_token(forwarded)]
        )
        stdout.write(
            f"Or as {forwarded.name}, to whom {forwarded.forwarded_by.name} passed the request "
            f"for {forwarded.organization.name}: {link}\n"
        )
    # Staff see an open link's address only when it is created: each run makes a fresh one.
    token = services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
    link = settings.SITE_URL + reverse("signatories:open_link", args=[token])
    stdout.write(
        f"Or ask to sign as an organization that was not invited, or as a person (listed as "
        f"soon as you confirm your address): {link}\n"
    )


def share_draft_with(contact: Contact) -> DraftShare | None:
    """The demo's draft shared with this person too (the portal's demo login), once."""
    letter = LetterPage.objects.filter(title=DRAFT_TITLE).first()
    if letter is None or Publication.objects.filter(letter=letter).exists():
        return None
    found = DraftShare.objects.filter(letter=letter, contact=contact, revoked_at__isnull=True)
    if found.exists():
        return found.first()
    [share] = services.share_draft(
        letter=letter,
        contacts=[contact],
        note=staff_text("Your comments are welcome before this goes out.", name="note"),
        actor=services.Actor.system("demo"),
    )
    return share


def _shared_draft(coalition: Coalition, actor: services.Actor) -> DraftShare | None:
    """A draft shared with one member contact, who commented on a passage and suggested new
    wording for another: both wait for staff on the letter's drafting page."""
    existing = DraftShare.objects.filter(letter__title=DRAFT_TITLE, revoked_at__isnull=True).first()
    if existing is not None:
        return existing
    contact = (
        Contact.objects.filter(
            organization__memberships__coalition=coalition,
            organization__status=Organization.Status.ACTIVE,
            email_opt_out=False,
        )
        .order_by("organization__sort_name", "pk")
        .first()
    )
    if contact is None:
        return None
    letter = _letter(coalition, DRAFT_TITLE, DRAFT_BODY)
    [share] = services.share_draft(
        letter=letter,
        contacts=[contact],
        note=staff_text("We would value your view before this goes out.", name="note"),
        actor=actor,
    )
    reader = services.Actor(label=contact.email, ip_address="192.0.2.10")
    draft = letter.get_latest_revision_as_object()
    opening, _, asks, _ = list(passages.passages(draft))
    services.comment_on_draft(
        share=share,
        passage=opening.key,
        commenting=Commenting(comment="Could we name the regulation, so readers know which?"),
        text_hash=passages.text_hash(opening.text),
        actor=reader,
    )
    services.comment_on_draft(
        share=share,
        passage=asks.key,
        commenting=Commenting(
            suggestion="Publish, and keep up to date, an inventory of the systems in use."
        ),
        text_hash=passages.text_hash(asks.text),
        actor=reader,
    )
    return share


def _responses(sign_on: SignOn, actor: services.Actor) -> None:
    """Two organizations sign (one held for review), one declines, one passes the request on to a
    colleague, and an organization outside the audience asks through the open link."""
    invitations = list(sign_on.invitations.select_related("organization").order_by("pk")[:4])
    for i, invitation in enumerate(invitations):
        org = invitation.organization
        if i == 2:
            services.decline_letter(
                invitation=invitation,
                declining=Declining(
                    signer_name=invitation.name,
                    reason="Our board has not taken a position on this.",
                ),
                actor=actor,
            )
        elif i == 3:
            services.forward_invitation(
                invitation=invitation,
                forwarding=Forwarding(
                    name="Dana Okafor",
                    email=f"counsel@{org.name_key[:20]}.example.org",
                    note="Could you sign this for us? I am away until the deadline.",
                ),
                actor=actor,
            )
        else:
            services.sign_letter(
                invitation=invitation,
                signing=Signing(
                    # The second prints under a name of its own choosing: it waits for review.
                    display_name=org.printed_name if i == 0 else f"{org.name} and its members",
                    signer_name=invitation.name,
                    signer_title="Director of Policy",
                ),
                text_hash=sign_on.text_hash,
                actor=actor,
            )
    token = services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
    del token  # printed afresh at the end of every run
    request = services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest(
            organization_name="Example Robotics Alliance",
            acronym="ERA",
            website="https://robotics.example.org",
            display_name="Example Robotics Alliance (ERA)",
            signer_name="Sam Rivera",
            signer_title="Executive Director",
            signer_email="sam@robotics.example.org",
        ),
        text_hash=sign_on.text_hash,
        actor=actor,
    )
    # Someone else asks for the same organization with other details and never confirms: staff
    # see the two requests side by side, and neither cancels the other.
    services.request_to_sign(
        sign_on=sign_on,
        request=OrganizationRequest(
            organization_name="Example Robotics Alliance",
            website="https://era-robots.example.net",
            display_name="Example Robotics Alliance",
            signer_name="Alex Moreau",
            signer_title="Board member",
            signer_email="alex@era-robots.example.net",
        ),
        text_hash=sign_on.text_hash,
        actor=actor,
    )

    # Confirmed from the emailed link: the request waits for staff in the review queue.
    services.confirm_signature(signature=request, actor=actor)
    _people_sign(sign_on, actor)


def _people_sign(sign_on: SignOn, actor: services.Actor) -> None:
    """Two people sign in a personal capacity and confirm their addresses: the first is listed
    by the sign-on's rule; the second prints the same line from another address, an exception
    staff review."""
    for address in ("mira.halvorsen@uni.example.org", "m.halvorsen@mail.example.net"):
        person = services.sign_as_individual(
            sign_on=sign_on,
            signing=IndividualSigning.clean(
                {
                    "person": "Mira Halvorsen",
                    "title": "Professor of Trade Law",
                    "affiliation": "University of Bergen",
                    "signer_email": address,
                }
            ),
            text_hash=sign_on.text_hash,
            actor=actor,
        )
        services.confirm_signature(signature=person, actor=actor)


def _joins_later(coalition: Coalition) -> None:
    """A member that joined after the sign-on opened: the tracker asks whether to invite it."""
    organization = create_organization(name="Open Markets Forum", acronym="OMF", country="US")
    Membership.objects.create(
        coalition=coalition, organization=organization, tier=Membership.Tier.MEMBER
    )
    Contact.objects.create(
        organization=organization,
        name="Rosa Delgado",
        email="rosa@openmarkets.example.org",
        is_authorized_signer=True,
        is_primary=True,
    )


def _published_example(coalition: Coalition, actor: services.Actor, stdout: "Output") -> None:
    """A letter taken through its whole sign-on: circulated, signed, closed and published."""
    letter = _letter(coalition, PUBLISHED_TITLE, PUBLISHED_BODY, PUBLISHED_FOOTNOTES)
    if SignOn.objects.filter(letter=letter).exists():
        return
    revision = letter.latest_revision
    approve_for_circulation(revision=revision, user=None)
    sign_on = services.create_sign_on(
        revision=revision,
        deadline=timezone.now() + datetime.timedelta(days=1),
        coalitions=[coalition],
        message="Final text for sign-on.",
        actor=actor,
    )
    sign_on = services.open_sign_on(sign_on=sign_on, actor=actor)
    invitations = sign_on.invitations.select_related("organization", "contact").order_by("pk")
    # The first nine, and the members whose names are in other scripts, sign.
    signers = list(invitations[:9]) + [
        invitation for invitation in invitations[9:] if not invitation.organization.name.isascii()
    ]
    for invitation in signers:
        if invitation.contact is None or not invitation.contact.is_authorized_signer:
            continue
        services.sign_letter(
            invitation=invitation,
            signing=Signing(
                display_name=invitation.organization.printed_name,
                signer_name=invitation.name,
                signer_title=invitation.contact.title,
            ),
            text_hash=sign_on.text_hash,
            actor=actor,
        )
    services.close_sign_on(sign_on=sign_on, actor=actor)
    publication = services.publish_sign_on(sign_on=sign_on, actor=actor)
    stdout.write(
        f"Published “{PUBLISHED_TITLE}” after its sign-on, with "
        f"{len(publication.signatories)} signatories, at {letter.url}\n"
    )
    # One that signed by email the day after the deadline: published as a dated correction.
    late = (
        invitations.exclude(organization__in=publication.organizations.all())
        .select_related("organization")
        .first()
    )
    if late is not None:
        services.add_signatory(
            letter=letter,
            organization=late.organization,
            display_name=staff_line(late.organization.printed_name, name="display_name"),
            signer_name=staff_line(late.name, name="signer_name"),
            reason=staff_text("Signed by email the morning after the deadline.", name="reason"),
            actor=actor,
        )
        services.publish_correction(
            letter=letter,
            note=staff_text(
                f"Adds {late.organization.printed_name}, which signed by email after the deadline.",
                name="note",
            ),
            actor=actor,
        )
        stdout.write(f"… and corrected: {late.organization.printed_name} added as version 2.\n")
    # A word left out of the text, added as a correction: the page shows it word by word.
    letter.refresh_from_db()
    opening = PUBLISHED_BODY[0]["value"].replace(
        "for companies of every size", "for companies of every size and their customers"
    )
    letter.body = [{**PUBLISHED_BODY[0], "value": opening}, *PUBLISHED_BODY[1:]]
    corrected = services.publish_correction(
        letter=letter,
        note=staff_text("The opening sentence names the companies' customers too.", name="note"),
        actor=actor,
        revision=letter.save_revision(),
    )
    stdout.write(f"… and its text corrected as version {corrected.version}.\n")
    _delivered(letter, actor, stdout)


def _delivered(letter: LetterPage, actor: services.Actor, stdout: "Output") -> None:
    """The published letter delivered to its recipient: by email (the provider reported it
    delivered and opened) and by hand at a meeting; their answer recorded and published."""
    if Recipient.objects.filter(letter=letter).exists():
        return
    office = office_named("Office of the Trade Representative")
    contact = Contact.objects.filter(email__iexact=DEMO_RECIPIENT_EMAIL).first() or create_contact(
        organization=office,
        name="Alex Morgan",
        email=DEMO_RECIPIENT_EMAIL,
        title="Trade Representative",
    )
    recipient = services.add_recipient(letter=letter, contact=contact, actor=actor)
    [delivery] = services.send_letter(
        letter=letter,
        recipients=[recipient],
        cover_message="On behalf of the coalition's members, please find our letter.",
        pdf_attached=False,
        actor=actor,
    )
    sent = timezone.now()
    for kind, minutes in (("delivered", 1), ("opened", 95)):
        services.record_provider_event(
            outbox_key=delivery.outbox_key,
            provider="Demo provider",
            event_type=kind,
            event_id=f"demo-{kind}",
            occurred_at=sent + datetime.timedelta(minutes=minutes),
        )
    services.record_hand_delivery(
        recipient=recipient,
        method="meeting",
        delivered_on=timezone.localdate(),
        scan=None,
        note="Handed over at the stakeholder meeting.",
        actor=actor,
    )
    answer = services.record_answer(
        recipient=recipient,
        received_on=timezone.localdate(),
        text="Thank you for your letter. The Office shares your aim of open and predictable "
        "digital trade rules, and will take your proposals into account in the negotiations.",
        file=None,
        actor=actor,
    )
    services.publish_answer(answer=answer, actor=actor)
    stdout.write(f"… delivered to {contact.name}, who answered: the answer is on its page.\n")


DEMO_RECIPIENT_EMAIL = "trade.representative@ustr.example.gov"
