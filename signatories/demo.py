"""Demo content for the sign-on: a letter out for signature, with a link to try signing, and
one that went through its sign-on and was published with its signatories.

Idempotent: run it again and it reuses the letter and sign-on, printing a fresh link.
Needs the coalition that `load_demo` creates ("digital-trade-coalition").
"""

import datetime
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coalition.models import Coalition, Contact
from letters.models import LetterPage
from letters.services import approve_for_circulation, ensure_letter_archive, unique_slug
from signatories import services
from signatories.models import Invitation, SignOn

TITLE = "Letter on cross-border data flows (out for sign-on)"
BODY = [
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


PUBLISHED_TITLE = "Statement on open digital trade rules"
PUBLISHED_BODY = [
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
                "<p>make the moratorium on customs duties on electronic transmissions permanent.</p>",
            ],
        },
    },
]


def _letter(coalition: Coalition, title: str = TITLE, body: list = BODY) -> LetterPage:
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
            signatory_order=LetterPage.SignatoryOrder.BY_TIER,
            live=False,
        )
        index.add_child(instance=letter)
        letter.save_revision()
    return letter


def load(stdout: TextIO) -> None:
    """Open a sign-on on a demo letter, record a few responses and print a link to sign."""
    coalition = Coalition.objects.filter(slug="digital-trade-coalition").first()
    if coalition is None:
        stdout.write("No demo coalition yet: run `manage.py load_demo` first.\n")
        return
    actor = services.Actor.system("demo")
    with transaction.atomic():
        letter = _letter(coalition)
        sign_on = SignOn.objects.filter(letter=letter).exclude(status="cancelled").first()
        if sign_on is None:
            revision = letter.latest_revision
            approve_for_circulation(revision=revision, user=None)
            sign_on = services.create_sign_on(
                revision=revision,
                # Two weeks out, at 17:00 in the coalition's time zone.
                deadline=timezone.localtime().replace(hour=17, minute=0, second=0, microsecond=0)
                + datetime.timedelta(days=14),
                coalitions=[coalition],
                message="Please read the draft and respond by the deadline.",
                show_signatories=True,
                reminder_days=[7, 2, 1],
                actor=actor,
            )
            sign_on = services.open_sign_on(sign_on=sign_on, actor=actor)
            _responses(sign_on, actor)
            stdout.write(f"Opened a sign-on on “{TITLE}”.\n")
        _published_example(coalition, actor, stdout)
    waiting = (
        Invitation.objects.filter(sign_on=sign_on)
        .exclude(organization__signatures__sign_on=sign_on)
        .select_related("organization")
        .order_by("organization__sort_name")
        .first()
    )
    if sign_on.status != SignOn.Status.OPEN or waiting is None:
        stdout.write(f"The demo sign-on is {sign_on.get_status_display().lower()}.\n")
        return
    token, _ = services.issue_invitation_token(invitation=waiting, actor=actor)
    link = settings.SITE_URL + reverse("signatories:sign", args=[token])
    stdout.write(f"Try signing for {waiting.organization.name}: {link}\n")
    # Staff see an open link's address only when it is created: each run makes a fresh one.
    token = services.issue_open_link(sign_on=sign_on, actor=actor, accepts_requests=True)
    link = settings.SITE_URL + reverse("signatories:open_link", args=[token])
    stdout.write(f"Or ask to sign as an organization that was not invited: {link}\n")


def _responses(sign_on: SignOn, actor: services.Actor) -> None:
    """Two organizations sign (one held for review) and one declines."""
    invitations = list(sign_on.invitations.select_related("organization").order_by("pk")[:3])
    for i, invitation in enumerate(invitations):
        org = invitation.organization
        contact = Contact.objects.filter(organization=org).first()
        email = contact.email if contact else f"policy{i}@example.org"
        if i == 2:
            services.decline_letter(
                invitation=invitation,
                signer_name=contact.name if contact else "Policy Director",
                signer_email=email,
                reason="Our board has not taken a position on this.",
                actor=actor,
            )
            continue
        services.sign_letter(
            invitation=invitation,
            display_name=org.printed_name,
            signer_name=contact.name if contact else "Policy Director",
            signer_title="Director of Policy",
            # The second signs from an address staff do not know: it waits for review.
            signer_email=email if i == 0 else f"someone.new@{org.name_key}.example.org",
            authorized=True,
            text_hash=sign_on.text_hash,
            actor=actor,
        )


def _published_example(coalition: Coalition, actor: services.Actor, stdout: TextIO) -> None:
    """A letter taken through its whole sign-on: circulated, signed, closed and published."""
    letter = _letter(coalition, PUBLISHED_TITLE, PUBLISHED_BODY)
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
    for invitation in sign_on.invitations.select_related("organization").order_by("pk")[:9]:
        contact = Contact.objects.filter(
            organization=invitation.organization, is_authorized_signer=True
        ).first()
        if contact is None:
            continue
        services.sign_letter(
            invitation=invitation,
            display_name=invitation.organization.printed_name,
            signer_name=contact.name,
            signer_title=contact.title,
            signer_email=contact.email,
            authorized=True,
            text_hash=sign_on.text_hash,
            actor=actor,
        )
    services.close_sign_on(sign_on=sign_on, actor=actor)
    publication = services.publish_sign_on(sign_on=sign_on, actor=actor)
    stdout.write(
        f"Published “{PUBLISHED_TITLE}” after its sign-on, with "
        f"{len(publication.signatories)} signatories, at {letter.url}\n"
    )
