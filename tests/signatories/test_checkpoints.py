"""The record's head, kept outside the database: the attack a database writer can make on the
chain alone (remove the last event, set the head back, restore the row) is reported."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from signatories import selectors
from signatories.models import Event, Signature, SignOn
from tests.support.signing import make_members, open_new_sign_on, sign, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(settings, tmp_path):
    settings.EVENT_CHECKPOINTS = str(tmp_path / "heads.jsonl")
    return tmp_path / "heads.jsonl"


@pytest.fixture
def withdrawn(log, mailoutbox, django_capture_on_commit_callbacks):
    """A signature given, then withdrawn: each head kept in the log as the worker runs."""
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = open_new_sign_on(make_members(1))
        signature = sign(sign_on.invitations.get())
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(signature)
    sign_on.refresh_from_db()
    return sign_on, Signature.objects.get(pk=signature.pk)


def the_attack(sign_on: SignOn, signature: Signature) -> None:
    """With write access to the database only: the withdrawal's event removed, the head set back
    to the event before, and the signature as it was before it was withdrawn."""
    last = Event.objects.get(sign_on=sign_on, sequence=sign_on.event_count)
    before = Event.objects.get(sign_on=sign_on, sequence=sign_on.event_count - 1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM signatories_event WHERE id = %s", [last.pk])
    SignOn.objects.filter(pk=sign_on.pk).update(
        event_count=before.sequence, last_event_hash=before.hash
    )
    Signature.objects.filter(pk=signature.pk).update(
        status=Signature.Status.APPROVED, withdrawn_at=None
    )


def test_the_signers_email_carries_their_event_and_the_head_after_it(withdrawn, mailoutbox):
    sign_on, signature = withdrawn
    signed = Event.objects.get(sign_on=sign_on, signature=signature, action="signed")
    [email] = [m for m in mailoutbox if "has signed" in m.body]
    assert f"event {signed.sequence} of the sign-on's record" in email.body
    assert signed.hash in email.body


def test_each_head_is_kept_outside_the_database_keyed(withdrawn, log):
    sign_on, _signature = withdrawn
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    ours = [line for line in lines if line["sign_on"] == sign_on.pk]
    assert ours[-1]["sequence"] == sign_on.event_count
    assert ours[-1]["head"] == sign_on.last_event_hash
    assert all(len(line["mac"]) == 64 for line in lines)


def test_the_attack_passes_the_chain_but_not_the_heads_kept_outside(withdrawn, log):
    sign_on, signature = withdrawn
    assert selectors.sign_ons_with_broken_chains() == {}
    the_attack(sign_on, signature)

    # The chain alone holds: this is what the log outside the database is for.
    assert selectors.verify_event_chain(sign_on=sign_on) == []
    broken = selectors.sign_ons_with_broken_chains()
    [problem] = broken[SignOn.objects.get(pk=sign_on.pk)]
    assert "events were removed" in problem
    with pytest.raises(CommandError, match="1 sign-on record"):
        call_command("verify_event_chains")


def test_a_line_written_to_the_log_by_someone_else_is_reported(withdrawn, log):
    sign_on, _signature = withdrawn
    forged = {"sign_on": sign_on.pk, "sequence": 1, "head": "0" * 64, "at": "x", "mac": "0" * 64}
    with log.open("a") as handle:
        handle.write(json.dumps(forged) + "\nnot json\n")
    problems = selectors.checkpoint_log_problems()
    assert len(problems) == 2
    assert "was not written by this site" in problems[0]
    assert "cannot be read" in problems[1]
    # The forged line is not believed: the record itself still holds.
    assert selectors.sign_ons_with_broken_chains() == {}
    with pytest.raises(CommandError, match="did not write"):
        call_command("verify_event_chains")
