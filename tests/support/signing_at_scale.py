"""Signatures made fast, for the tests and benchmarks of a sign-on at scale: rows inserted with
bulk_create, each with its event in the sign-on's keyed chain as the services record it."""

from django.db import transaction

from signatories.models import Action, Signature, SignOn
from signatories.services.events import Actor, EventSpec, append_events

WAITING = 5_000  # individuals waiting for staff review, the first numbers
# Of every 100 individuals, how many are in each status; what is left is approved.
SHARES = [
    (Signature.Status.UNCONFIRMED, 2),
    (Signature.Status.WITHDRAWN, 2),
    (Signature.Status.REJECTED, 1),
]


def individual(sign_on: SignOn, number: int, status: str) -> Signature:
    name = f"Person Number {number:06d}"
    email = f"person{number}@example.org"
    return Signature(
        sign_on=sign_on,
        letter_id=sign_on.letter_id,
        response=Signature.Response.SIGNED,
        status=status,
        display_name=name,
        sort_key=name.casefold(),
        signer_name=name,
        signer_email=email,
        signer_email_key=email,
        affiliation="Example University" if number % 7 == 0 else "",
        text_hash=sign_on.text_hash,
        confirmed_at=None if status == Signature.Status.UNCONFIRMED else sign_on.opened_at,
        approved_at=sign_on.opened_at if status == Signature.Status.APPROVED else None,
        position=number,
    )


def status_of(number: int) -> str:
    if number < WAITING:
        return Signature.Status.PENDING_REVIEW
    share = number % 100
    for status, count in SHARES:
        if share < count:
            return status
        share -= count
    return Signature.Status.APPROVED


def with_events(sign_on: SignOn, signatures: list[Signature], action: Action) -> None:
    """Each signature inserted with its event, as the services record it (one write each)."""
    Signature.objects.bulk_create(signatures)
    with transaction.atomic():
        locked = SignOn.objects.select_for_update().get(pk=sign_on.pk)
        append_events(
            sign_on=locked,
            actor=Actor.system("benchmark"),
            specs=[
                EventSpec(
                    action=action,
                    signature=signature,
                    state={"signature": signature.chain_state()},
                )
                for signature in signatures
            ],
        )
