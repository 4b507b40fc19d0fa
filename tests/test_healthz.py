"""`/healthz` for load balancers: 200 when the database and the cache answer, 503 naming the one
that does not; one query, no session, never cached, and answered over plain http."""

import logging

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_it_answers_ok_with_one_query_and_leaves_nothing_behind(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1: no session read or written
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    assert client.head("/healthz").status_code == 200


def test_a_database_that_does_not_answer_is_503(client, monkeypatch, caplog):
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}
    # A warning with its cause; no error for each probe (an error would be reported to Sentry).
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == ["WARNING"]
    assert "connection refused" in caplog.text


def test_a_cache_that_does_not_answer_is_503(client, settings):
    # A Redis where none listens: the connection is refused at once.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


def test_a_balancer_asking_over_plain_http_is_answered_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/letters/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_it_only_reads(client):
    assert client.post("/healthz").status_code == 405
