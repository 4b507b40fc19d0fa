"""What the sign-on contributes to the member CRM: its part in a merge, its timeline entries.

Named in the project's settings (`CRM_MERGE_PARTICIPANTS`, `CRM_TIMELINE_SOURCES`), which
`coalition.crm.hooks` reads, so that `coalition` never reads this app's models.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef

from coalition.crm.errors import MergeError
from coalition.crm.hooks import MergeParticipant, TimelineEntry
from coalition.crm.models import Organization
from signatories.models import Action, Invitation, Signature, SignOn
from signatories.services.core import holding, record
from signatories.services.events import Actor

MERGE_ACTION = Action.ORGANIZATION_MERGED


def move_to_survivor(
    survivor: Organization, duplicate: Organization, user: User | None
) -> dict[str, int]:
    """Move the duplicate's invitations and signatures to the survivor, each move in its chain."""
    _refuse_double_responses(survivor, duplicate)
    actor = Actor(user=user, label=user.get_username() if user is not None else "staff")
    detail = {"from": duplicate.pk, "into": survivor.pk, "from_name": duplicate.name}
    moved = {"invitations": 0, "signatures": 0}

    sign_on_ids = {
        *Invitation.objects.filter(organization=duplicate).values_list("sign_on_id", flat=True),
        *Signature.objects.filter(organization=duplicate, sign_on__isnull=False).values_list(
            "sign_on_id", flat=True
        ),
    }
    for sign_on in SignOn.objects.filter(pk__in=sign_on_ids).order_by("pk"):
        # Every row's organization is part of the state its sign-on's chain records: the move
        # is an event of that chain, or the chain would no longer describe the rows.
        with holding(sign_on) as held:
            invitations = Invitation.objects.filter(sign_on=held.sign_on, organization=duplicate)
            signatures = Signature.objects.filter(sign_on=held.sign_on, organization=duplicate)
            invitation_ids = list(invitations.values_list("pk", flat=True))
            signature_ids = list(signatures.values_list("pk", flat=True))
            moved["invitations"] += invitations.update(organization=survivor)
            moved["signatures"] += signatures.update(organization=survivor)
            rows = [
                *Invitation.objects.filter(pk__in=invitation_ids).order_by("pk"),
                *Signature.objects.filter(pk__in=signature_ids)
                .select_related("invitation")
                .order_by("pk"),
            ]
            for row in rows:
                record(held.sign_on, action=MERGE_ACTION, actor=actor, rows=[row], detail=detail)

    # Signatures that came with an imported letter belong to no sign-on and no chain.
    moved["signatures"] += Signature.objects.filter(
        organization=duplicate, sign_on__isnull=True
    ).update(organization=survivor)
    return moved


def _refuse_double_responses(survivor: Organization, duplicate: Organization) -> None:
    """The organization answers a letter once: two active answers must be settled by staff first."""
    # Both organizations inviting the same person to one sign-on needs no check: an invitation
    # is unique per sign-on and contact, and per sign-on and address, whatever its organization.
    theirs = Signature.objects.filter(
        organization=survivor,
        letter_id=OuterRef("letter_id"),
        status__in=Signature.ACTIVE_STATUSES,
    )
    clash = (
        Signature.objects.filter(organization=duplicate, status__in=Signature.ACTIVE_STATUSES)
        .filter(Exists(theirs))
        .select_related("letter")
        .first()
    )
    if clash is not None:
        raise MergeError(
            f"Cannot merge {duplicate.name} into {survivor.name}: both organizations have an "
            f"active response to “{clash.letter.title}”. Withdraw or reject one of them, then "
            "merge again."
        )


def timeline_entries(organizations: list[Organization], limit: int) -> Iterable[TimelineEntry]:
    """Invitations (one per person), signatures, declines and withdrawals, in two queries."""
    ids = [org.pk for org in organizations]
    invitations = (
        Invitation.objects.filter(organization_id__in=ids)
        .select_related("sign_on__letter", "forwarded_by")
        .order_by("-created_at", "-pk")
    )
    for invitation in invitations[:limit]:
        yield _invitation_entry(invitation)
    signatures = (
        Signature.objects.filter(organization_id__in=ids)
        .select_related("letter")
        .order_by("-created_at", "-pk")
    )
    for signature in signatures[:limit]:
        yield from _signature_entries(signature)


def _invitation_entry(invitation: Invitation) -> TimelineEntry:
    progress = (
        "answered"
        if invitation.responded_at
        else "opened"
        if invitation.opened_at
        else "not opened yet"
        if invitation.sent_at
        else "not sent yet"
    )
    forwarded = f"forwarded by {invitation.forwarded_by.name}" if invitation.forwarded_by else ""
    return TimelineEntry(
        when=invitation.sent_at or invitation.created_at,
        kind="invitation",
        label=f"Invited {invitation.name} to sign “{invitation.sign_on.letter.title}”",
        summary=invitation.email,
        detail=", ".join(part for part in (progress, forwarded) if part),
    )


def _signature_entries(signature: Signature) -> list[TimelineEntry]:
    title = signature.letter.title
    declined = signature.response == Signature.Response.DECLINED
    signer = f"by {signature.signer_name}" if signature.signer_name else ""
    entries = [
        TimelineEntry(
            when=signature.created_at,
            kind="decline" if declined else "signature",
            label=f"{'Declined' if declined else 'Signed'} “{title}”",
            summary=signature.reason if declined else signature.display_name,
            detail=", ".join(p for p in (signer, signature.get_status_display()) if p),
        )
    ]
    if signature.status == Signature.Status.WITHDRAWN and signature.withdrawn_at:
        entries.append(
            TimelineEntry(
                when=signature.withdrawn_at,
                kind="withdrawal",
                label=f"Withdrew the {'decline' if declined else 'signature'} of “{title}”",
                summary=signature.display_name,
                detail=signer,
            )
        )
    return entries


#: The sign-on's part in every merge: its invitations and signatures move through their chains.
MERGE_PARTICIPANT = MergeParticipant(models=(Invitation, Signature), move=move_to_survivor)
