"""Issue 10: who acted, from where, behind a load balancer; and how often a signer's link may POST."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from allauth.account.adapter import get_adapter
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from signatories import ratelimits, selectors, services
from signatories.models import Action, Event, Signature, SignOn
from tests.support.signing import (
    sign_data,
    token_for,
)
from tests.test_settings import ROOT

from .test_ratelimits import org_data

BALANCER = "10.0.0.2"  # the load balancer's own address, as REMOTE_ADDR shows it


def sign_url(token: str) -> str:
    return reverse("signatories:sign", args=[token])


def behind_balancer(client_address: str, *, spoofed: str = "") -> Client:
    """A client reaching the site through one load balancer, which appends what it saw."""
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded)


def recorded_address(sign_on: SignOn, action: str) -> str | None:
    return sign_on.events.get(action=action).ip_address


@pytest.fixture
def one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


# ---------------------------------------------------------------------------------------------
# The audit log


def test_it_records_the_client_behind_the_balancer_not_the_balancer(
    one_proxy, sign_on, invitations
):
    """Finding: behind a load balancer every event recorded the balancer's address."""
    client = behind_balancer("198.51.100.23", spoofed="6.6.6.6")
    response = client.post(
        sign_url(token_for(invitations[0])), sign_data(sign_on, invitations[0].organization)
    )

    assert response.status_code == 302
    # The address the balancer saw, not what the client wrote in the header itself.
    assert recorded_address(sign_on, "signed") == "198.51.100.23"


def test_it_ignores_the_forwarded_header_without_a_trusted_proxy(sign_on, invitations):
    client = Client(REMOTE_ADDR="198.51.100.23", HTTP_X_FORWARDED_FOR="6.6.6.6")
    client.post(
        sign_url(token_for(invitations[0])), sign_data(sign_on, invitations[0].organization)
    )

    assert recorded_address(sign_on, "signed") == "198.51.100.23"


def test_it_records_the_client_of_a_staff_action_too(one_proxy, client, staff, sign_on):
    client.force_login(staff)
    client.defaults.update(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="198.51.100.40")
    response = client.post(f"/admin/sign-ons/{sign_on.pk}/close/")

    assert response.status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.CLOSED
    assert recorded_address(sign_on, "closed") == "198.51.100.40"


# ---------------------------------------------------------------------------------------------
# The project's limits count the same client


def test_the_open_link_counts_each_client_behind_the_balancer(one_proxy, open_sign_on):
    """Behind a balancer one busy client used up the limit of everybody else."""
    [limit] = [count for count, _, key in ratelimits._rules("open_link") if key == "ip"]
    url = reverse("signatories:open_link", args=[open_sign_on.token])
    busy = behind_balancer("198.51.100.1")
    statuses = [busy.post(url, org_data(open_sign_on, n)).status_code for n in range(limit + 1)]
    assert statuses == [302] * limit + [429]

    other = behind_balancer("198.51.100.2")
    assert other.post(url, org_data(open_sign_on, 999)).status_code == 302


def test_it_counts_an_ipv6_client_by_its_network(settings, open_sign_on):
    """One IPv6 client holds a whole /64: changing the last bits is not a new client."""
    settings.SIGN_ON_RATE_LIMITS = {"open_link": "2/h/ip"}
    url = reverse("signatories:open_link", args=[open_sign_on.token])
    statuses = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}").post(url, org_data(open_sign_on, n)).status_code
        for n in range(1, 4)
    ]
    assert statuses == [302, 302, 429]
    elsewhere = Client(REMOTE_ADDR="2001:db8:1:3::1")
    assert elsewhere.post(url, org_data(open_sign_on, 9)).status_code == 302


# ---------------------------------------------------------------------------------------------
# Signing: the invited person's page and the signer's own link


def link_limit(action: str = "sign") -> int:
    [limit] = [count for count, _, key in ratelimits._rules(action) if key == "link"]
    return limit


def test_it_limits_posts_to_one_invitation_link(client, sign_on, invitations):
    """A leaked link cannot be driven to sign, withdraw and sign again without end."""
    limit = link_limit()
    token = token_for(invitations[0])
    stale = sign_data(sign_on, invitations[0].organization, text_hash="0" * 64)
    statuses = {
        client.post(sign_url(token), stale).status_code for _ in range(limit)
    }  # refused by the view: the text changed
    assert statuses == {400}

    response = client.post(sign_url(token), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 429
    assert "Too many" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert not Signature.objects.exists()

    # Another person's link still works from the same network.
    other = invitations[1]
    response = client.post(sign_url(token_for(other)), sign_data(sign_on, other.organization))
    assert response.status_code == 302


def test_it_limits_signing_posts_per_client(settings, client, sign_on, invitations):
    settings.SIGN_ON_RATE_LIMITS = {"sign": "2/h/ip"}
    statuses = [
        client.post(
            sign_url(token_for(invitation)), sign_data(sign_on, invitation.organization)
        ).status_code
        for invitation in invitations
    ]

    assert statuses == [302, 302, 429]
    assert Signature.objects.count() == 2
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    response = elsewhere.post(
        sign_url(token_for(invitations[2])), sign_data(sign_on, invitations[2].organization)
    )
    assert response.status_code == 302


def test_reading_the_page_is_not_counted(client, sign_on, invitations):
    token = token_for(invitations[0])
    for _ in range(link_limit() + 1):
        assert client.get(sign_url(token)).status_code == 200
    response = client.post(sign_url(token), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 302


def test_it_limits_posts_to_a_signers_own_link(client, sign_on, invitations, mailoutbox):
    client.post(
        sign_url(token_for(invitations[0])), sign_data(sign_on, invitations[0].organization)
    )
    signature = Signature.objects.get()
    url = reverse("signatories:signature", args=[selectors.signature_link_token(signature)])
    statuses = [client.post(url, {"action": "nothing"}).status_code for _ in range(link_limit())]
    assert set(statuses) == {400}

    response = client.post(url, {"action": "withdraw", "withdraw-reason": ""})
    assert response.status_code == 429
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert not Event.objects.filter(action=Action.WITHDRAWN).exists()


def test_the_limits_are_read_from_the_environment():
    """SIGN_ON_RATE_LIMITS='{"sign": ...}' in the environment, as a deployment sets it."""
    rates = {"sign": "500/m/ip,50/h/link", "open_link": "5/h/ip"}
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.SIGN_ON_RATE_LIMITS))",
        ],
        cwd=ROOT,
        env={
            **env,
            "DEBUG": "1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SIGN_ON_RATE_LIMITS": json.dumps(rates),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == rates


def test_an_unreadable_limit_is_refused_at_start():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "SIGN_ON_RATE_LIMITS": '{"sign": "lots"}'},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SIGN_ON_RATE_LIMITS" in result.stderr


def test_an_actor_is_the_client_allauth_sees(one_proxy, rf):
    request = rf.post("/", REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.5")
    request.user = AnonymousUser()
    actor = services.Actor.from_request(request)
    assert actor.ip_address == get_adapter(request).get_client_ip(request) == "198.51.100.5"
