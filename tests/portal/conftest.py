"""Member contacts signed in to the portal: real accounts, made as a code request makes them."""

import pytest

from coalition.crm.models import Contact
from tests.support.portal import log_in
from tests.support.signing import Members


@pytest.fixture
def contact(members: Members) -> Contact:
    return members.contacts[0]


@pytest.fixture
def other_contact(members: Members) -> Contact:
    return members.contacts[1]


@pytest.fixture
def contact_client(client, contact):
    return log_in(client, contact)


@pytest.fixture
def no_staff_mfa(settings):
    """The admin without a second factor: these tests are about the portal, not staff MFA."""
    settings.STAFF_MFA_REQUIRED = False
