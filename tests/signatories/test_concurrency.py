import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from signatories import selectors
from signatories.models import Action, Signature
from tests.factories import ContactFactory
from tests.support.database import ensure_wagtail_site
from tests.support.signing import make_members, open_new_sign_on, sign_data, token_for


@pytest.mark.parametrize("people", [1, 2], ids=["one-link-twice", "two-colleagues-links"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_posts_make_one_signature(people):
    """Whether one person presses twice or two colleagues answer at once, the first answer for
    the organization stands."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (run with DATABASE_URL=postgres://…)")
    ensure_wagtail_site()
    members = make_members(1)
    if people == 2:
        ContactFactory(
            organization=members.organizations[0],
            name="Sam Colleague",
            email="sam@awm0.example.org",
            is_authorized_signer=True,
        )
    sign_on = open_new_sign_on(members)
    invitations = list(sign_on.invitations.order_by("pk"))
    assert len(invitations) == people
    organization = members.organizations[0]
    urls = [
        reverse("signatories:sign", args=[token_for(invitation)])
        for invitation in invitations * (2 // people)
    ]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(url: str, name: str) -> None:
        try:
            data = sign_data(sign_on, organization, signer_name=name)
            barrier.wait()
            statuses.append(Client().post(url, data).status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=post, args=(url, name))
        for url, name in zip(urls, ("Ann", "Bob"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    assert Signature.objects.filter(organization=organization).count() == 1
    assert sign_on.events.filter(action=Action.SIGNED).count() == 1
    assert selectors.verify_event_chain(sign_on=sign_on) == []
