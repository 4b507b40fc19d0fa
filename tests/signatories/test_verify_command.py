"""`manage.py verify_event_chains`: the scheduled check of every sign-on's record."""

import pytest
from django.core.management import CommandError, call_command

from signatories.models import Signature
from tests.support.signing import sign


def test_it_passes_an_honest_record_and_fails_one_edited_in_the_database(sign_on, capsys):
    invitation = sign_on.invitations.order_by("pk").first()
    signature = sign(invitation)
    call_command("verify_event_chains")
    assert "Every sign-on's record holds." in capsys.readouterr().out

    # As someone with database access would: the printed line changes, no event says so.
    Signature.objects.filter(pk=signature.pk).update(display_name="Somebody Else Entirely")

    with pytest.raises(CommandError, match="1 sign-on record"):
        call_command("verify_event_chains")
    assert "display_name" in capsys.readouterr().err
