import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from signatories.models import Signature
from tests.e2e.conftest import ensure_wagtail_site

from .conftest import make_members, open_new_sign_on, sign_data, token_for


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_posts_make_one_signature():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (run with DATABASE_URL=postgres://…)")
    ensure_wagtail_site()
    members = make_members(1)
    sign_on = open_new_sign_on(members)
    invitation = sign_on.invitations.get()
    token = token_for(invitation)
    url = reverse("signatories:sign", args=[token])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(name: str) -> None:
        try:
            data = sign_data(sign_on, invitation.organization, signer_name=name)
            barrier.wait()
            statuses.append(Client().post(url, data).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(name,)) for name in ("Ann", "Bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    assert Signature.objects.filter(organization=invitation.organization).count() == 1
    assert sign_on.events.filter(action="signed").count() == 1
