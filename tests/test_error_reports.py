"""Errors go to Sentry when SENTRY_DSN is set, and only then; a report carries no secret and
nothing personal. The project runs in a process of its own, as it would start, against a stand-in
Sentry listening on 127.0.0.1 (tests/support/sentry.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.sentry import FAILURE, sentry_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "k3y-0f-a-s1gner-RZ8qLmT2vW9xYb4cD7eF"
# A request to the failing view as a signer's browser sends it (from the signer's own page, with
# their name in the form and a query string), through the WSGI application gunicorn serves.
FAIL_AND_FLUSH = f"""
import json, sys
from django.test import RequestFactory
from django.test.utils import override_settings

from coalition.project.wsgi import application  # what gunicorn serves
sentry_loaded = "sentry_sdk" in sys.modules

request = RequestFactory().post(
    "/sign/{TOKEN}/fails/?utm_source=newsletter",
    {{"signer_name": "Jane Signer", "signer_email": "jane@example.org"}},
    HTTP_REFERER="http://testserver/sign/{TOKEN}/",
)
# And a scanner's request for a host the site is not.
probe = RequestFactory().get("/", HTTP_HOST="scanner.invalid")
answered = []
with override_settings(ROOT_URLCONF="tests.support.sentry", ALLOWED_HOSTS=["testserver"]):
    for environ in (request.environ, probe.environ):
        b"".join(application(environ, lambda status, headers, *exc: answered.append(status)))
active = False
if sentry_loaded:
    import sentry_sdk

    active = sentry_sdk.get_client().is_active()
    sentry_sdk.flush(timeout=10)
print(json.dumps({{"answered": answered, "loaded": sentry_loaded, "active": active}}))
"""

ANSWERED = ["500 Internal Server Error", "400 Bad Request"]


def run_project(**env: str) -> dict:
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_") and k != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", FAIL_AND_FLUSH],
        cwd=ROOT,
        env={**kept, "DJANGO_SETTINGS_MODULE": "coalition.project.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_with_a_dsn_an_error_in_a_view_reaches_sentry_without_secrets_or_personal_data():
    with sentry_server() as sentry:
        ran = run_project(
            SENTRY_DSN=sentry.dsn,
            SENTRY_ENVIRONMENT="staging",
            SENTRY_RELEASE="coalition@1.2.3",
            SENTRY_TRACES_SAMPLE_RATE="1",
        )
        assert sentry.received.wait(timeout=10)

    assert ran == {"answered": ANSWERED, "loaded": True, "active": True}
    [event] = sentry.events()  # the failure; not the scanner's request
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", FAILURE)
    assert (event["environment"], event["release"]) == ("staging", "coalition@1.2.3")
    assert event["transaction"] == "/sign/{token}/fails/"
    request = event["request"]
    assert request["url"] == "http://testserver/sign/[Filtered]/fails/"
    assert "Referer" not in request.get("headers", {})
    assert not {"data", "query_string", "cookies"} & set(request)
    assert "user" not in event
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    # The requests' traces went too, as scrubbed.
    traced = {trace["request"].get("url") for trace in sentry.events("transaction")}
    assert "http://testserver/sign/[Filtered]/fails/" in traced
    sent = b"".join(sentry.bodies)
    for secret in (TOKEN.encode(), b"Jane Signer", b"jane@example.org", b"utm_source"):
        assert secret not in sent


def test_without_a_dsn_nothing_is_set_up_and_nothing_is_sent():
    with sentry_server() as sentry:
        ran = run_project()
        assert not sentry.received.wait(timeout=1)

    assert ran == {"answered": ANSWERED, "loaded": False, "active": False}


def test_a_sample_rate_out_of_range_is_named():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "1",
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
            "SENTRY_TRACES_SAMPLE_RATE": "2",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE must be from 0 to 1, not 2.0" in result.stderr
