"""Fixtures for the sign-on: an approved letter's sign-on open to the members (see tests/conftest.py
for the members), its invitations and their link tokens."""

import pytest

from signatories.models import Invitation, SignOn
from tests.support.signing import Members, open_new_sign_on, token_for


@pytest.fixture
def sign_on(members: Members) -> SignOn:
    return open_new_sign_on(members)


@pytest.fixture
def invitations(sign_on: SignOn) -> list[Invitation]:
    return list(sign_on.invitations.select_related("organization").order_by("organization__name"))


@pytest.fixture
def tokens(invitations: list[Invitation]) -> list[str]:
    return [token_for(invitation) for invitation in invitations]
