"""Each delivery's status follows the email provider's webhooks (django-anymail): each provider's
own payloads are posted to anymail's real views. A wrong secret or signature, an unknown message,
a replay, an event out of order or a flood changes nothing and is answered as providers expect."""

import json

import pytest
from django.urls import reverse

from signatories.models import DeliveryEvent, LetterDelivery
from tests.support.recipients import (
    MAILGUN_KEY,
    WEBHOOK_SECRET,
    basic_auth,
    emailed,
    jane,
    mailgun_event,
    postmark_delivery,
    published_letter,
    sendgrid_events,
    ses_notification,
)

pytestmark = [
    pytest.mark.django_db,
    # Anymail 15 still ships its SendGrid webhook, and says it no longer supports it officially.
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support for SendGrid"),
]


@pytest.fixture(autouse=True)
def provider(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }


@pytest.fixture
def delivery() -> LetterDelivery:
    letter = published_letter()
    [sent] = emailed(letter, jane(letter))
    return sent


def post_json(client, name: str, payload: object, **extra):
    return client.post(
        reverse(f"anymail:{name}_tracking_webhook"),
        json.dumps(payload),
        content_type="application/json",
        **extra,
    )


def status(delivery: LetterDelivery) -> str:
    delivery.refresh_from_db()
    return delivery.status


def test_postmark_reports_delivery_then_an_open(client, delivery):
    response = post_json(client, "postmark", postmark_delivery(delivery.outbox_key), **basic_auth())
    assert response.status_code == 200
    assert status(delivery) == "delivered"
    assert delivery.delivered_at.isoformat() == "2026-12-09T14:22:28+00:00"
    post_json(
        client,
        "postmark",
        postmark_delivery(delivery.outbox_key, record_type="Open"),
        **basic_auth(),
    )
    assert status(delivery) == "opened"


@pytest.mark.parametrize(
    "auth",
    [{}, basic_auth("provider:wrong"), basic_auth("someone:" + WEBHOOK_SECRET.split(":")[1])],
)
def test_postmark_without_the_secret_changes_nothing_and_is_refused_as_anymail_does(
    client, delivery, auth
):
    response = post_json(client, "postmark", postmark_delivery(delivery.outbox_key), **auth)
    assert response.status_code == 400
    assert status(delivery) == "queued" and not DeliveryEvent.objects.exists()


def test_sendgrid_posts_a_batch_and_a_bounce_is_final(client, delivery):
    events = sendgrid_events(delivery.outbox_key, "processed", "delivered", "bounce", "open")
    assert post_json(client, "sendgrid", events, **basic_auth()).status_code == 200
    delivery.refresh_from_db()
    # The open after the bounce (an image proxy, a guess) changes nothing; it is kept, unapplied.
    assert delivery.status == "bounced"
    assert delivery.problem == "550 5.1.1 The email account does not exist."
    assert delivery.opened_at is None
    kept = dict(DeliveryEvent.objects.values_list("event_type", "applied"))
    # "queued" is where it stood already: kept, and moving nothing.
    assert kept == {"queued": False, "delivered": True, "bounced": True, "opened": False}
    assert post_json(client, "sendgrid", events, **basic_auth("x:y")).status_code == 400


def test_a_replay_is_kept_once_and_an_event_out_of_order_moves_nothing_back(client, delivery):
    opened, delivered = sendgrid_events(delivery.outbox_key, "open", "delivered")
    for _ in range(3):
        assert post_json(client, "sendgrid", [opened], **basic_auth()).status_code == 200
    assert DeliveryEvent.objects.count() == 1
    # Delivered arrives after the open: it gives its time, and the status stays "opened".
    post_json(client, "sendgrid", [delivered], **basic_auth())
    delivery.refresh_from_db()
    assert delivery.status == "opened" and delivery.delivered_at is not None
    assert DeliveryEvent.objects.count() == 2


def test_an_event_about_an_unknown_message_is_answered_200_and_changes_nothing(client, delivery):
    for key in ("0" * 64, "not a key", None):
        payload = postmark_delivery(key) if key else {**postmark_delivery(""), "Metadata": {}}
        assert post_json(client, "postmark", payload, **basic_auth()).status_code == 200
    assert status(delivery) == "queued" and not DeliveryEvent.objects.exists()


def test_mailgun_is_checked_by_its_signature(client, delivery):
    signed = mailgun_event(delivery.outbox_key, "delivered")
    assert post_json(client, "mailgun", signed, **basic_auth()).status_code == 200
    assert status(delivery) == "delivered"
    forged = mailgun_event(delivery.outbox_key, "failed", signing_key="not-the-key", token="b" * 50)
    assert post_json(client, "mailgun", forged, **basic_auth()).status_code == 400
    assert status(delivery) == "delivered"
    # The same signed event again (a replay of a captured request): kept once, nothing moves.
    assert post_json(client, "mailgun", signed, **basic_auth()).status_code == 200
    assert DeliveryEvent.objects.count() == 1
    bounced = mailgun_event(delivery.outbox_key, "failed", token="c" * 50)
    assert post_json(client, "mailgun", bounced, **basic_auth()).status_code == 200
    assert status(delivery) == "bounced" and delivery.problem


def test_amazon_ses_reports_through_sns(client, delivery):
    envelope, headers = ses_notification(delivery.outbox_key, "Delivery")
    # SNS first asks without credentials, and sends them once answered 401 (anymail does so).
    assert post_json(client, "amazon_ses", envelope, **headers).status_code == 401
    assert (
        post_json(client, "amazon_ses", envelope, **headers, **basic_auth("a:b")).status_code == 400
    )
    assert status(delivery) == "queued"
    assert post_json(client, "amazon_ses", envelope, **headers, **basic_auth()).status_code == 200
    assert status(delivery) == "delivered"
    # The SNS message again (SNS delivers at least once): kept once.
    assert post_json(client, "amazon_ses", envelope, **headers, **basic_auth()).status_code == 200
    assert DeliveryEvent.objects.count() == 1


def test_a_provider_not_set_up_has_no_door(client, settings, delivery):
    settings.ANYMAIL = {}
    # Without the shared secret anymail would take anyone's events (with a warning); without a
    # signing key its Mailgun view cannot start: neither opens.
    assert post_json(client, "postmark", postmark_delivery(delivery.outbox_key)).status_code == 404
    assert (
        post_json(client, "mailgun", mailgun_event(delivery.outbox_key, "delivered")).status_code
        == 404
    )
    assert status(delivery) == "queued"


def test_a_flood_is_answered_429_with_retry_after(client, settings, delivery):
    settings.SIGN_ON_RATE_LIMITS = {"webhook": "3/m/ip"}
    payload = postmark_delivery(delivery.outbox_key)
    answers = [post_json(client, "postmark", payload, **basic_auth()).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    flooded = post_json(client, "postmark", payload, **basic_auth())
    assert int(flooded["Retry-After"]) == 60
    assert DeliveryEvent.objects.count() == 1


def test_the_tracker_shows_what_the_provider_said(client, staff, delivery):
    post_json(
        client,
        "postmark",
        postmark_delivery(delivery.outbox_key, record_type="Bounce"),
        **basic_auth(),
    )
    client.force_login(staff)
    letter = delivery.recipient.letter
    page = client.get(reverse("signatories_admin:recipients", args=[letter.pk])).content.decode()
    assert "Bounced" in page and "Letter bounced at Jane Doe" in page
