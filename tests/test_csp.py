"""Who may frame what: the editor frames its own previews; nobody frames public or signer pages."""

import datetime
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP, build_policy

from letters.services import approve_for_circulation
from signatories import services
from tests.factories import (
    CoalitionFactory,
    ContactFactory,
    MembershipFactory,
    OrganizationFactory,
    make_letter,
)
from tests.support.letters import edit_form_data
from tests.test_settings import ROOT

STRICT = build_policy(settings.SECURE_CSP)
SAME_ORIGIN_FRAMING = build_policy({**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF]})
SIGN_LINK = re.compile(r"http://[^/\s]+(/sign/[A-Za-z0-9_-]{43}/)")


def assert_strict(response) -> None:
    assert response["Content-Security-Policy"] == STRICT
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def assert_framable_by_the_admin(response) -> None:
    """The site's policy all but `frame-ancestors`: the preview renders as the public page would."""
    assert response["Content-Security-Policy"] == SAME_ORIGIN_FRAMING
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_site_policy_forbids_framing() -> None:
    assert settings.SECURE_CSP["frame-ancestors"] == [CSP.NONE]
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert "frame-ancestors" not in settings.SECURE_CSP_REPORT_ONLY


@pytest.mark.parametrize("mode", ["", "pdf"])
def test_the_preview_panel_may_frame_the_letter(staff_client, letter, mode) -> None:
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk])
    assert staff_client.post(url, edit_form_data(letter)).json()["is_valid"] is True
    response = staff_client.get(url, {"mode": mode, "in_preview_panel": "true"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/pdf" if mode else "text/html")
    assert_framable_by_the_admin(response)


def test_the_preview_panel_may_frame_a_new_letter(staff_client, letter) -> None:
    url = reverse(
        "wagtailadmin_pages:preview_on_add", args=["letters", "letterpage", letter.get_parent().pk]
    )
    data = edit_form_data(letter, title="A brand new letter", slug="brand-new")
    assert staff_client.post(url, data).json()["is_valid"] is True
    response = staff_client.get(url, {"mode": "", "in_preview_panel": "true"})
    assert "A brand new letter" in response.content.decode()
    assert_framable_by_the_admin(response)


def test_other_previews_of_a_page_may_be_framed_by_the_admin_too(staff_client, letter) -> None:
    """Whatever serve_preview returns gets the preview's rule, whichever admin view asked."""
    response = staff_client.get(reverse("wagtailadmin_pages:view_draft", args=[letter.pk]))
    assert response.status_code == 200
    assert "We write about widgets." in response.content.decode()
    assert_framable_by_the_admin(response)


def test_the_public_letter_page_is_never_framed(client, letter) -> None:
    response = client.get(letter.url)
    assert response.status_code == 200
    assert "We write about widgets." in response.content.decode()
    assert_strict(response)


def test_the_public_pdf_is_never_framed(client, letter) -> None:
    assert_strict(client.get(letter.url + "pdf/"))


def test_the_public_letter_page_is_not_framed_for_a_logged_in_editor_either(
    staff_client, letter
) -> None:
    assert_strict(staff_client.get(letter.url))


def test_the_signer_page_is_never_framed(
    client, db, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """The page an invited contact signs on, reached from the emailed link."""
    coalition = CoalitionFactory()
    organization = OrganizationFactory()
    MembershipFactory(coalition=coalition, organization=organization)
    ContactFactory(organization=organization, is_authorized_signer=True)
    draft = make_letter(live=False)
    approve_for_circulation(revision=draft.latest_revision, user=None)
    actor = services.Actor.system("staff@example.org")
    sign_on = services.create_sign_on(
        revision=draft.latest_revision,
        deadline=timezone.now() + datetime.timedelta(days=3),
        coalitions=[coalition],
        actor=actor,
    )
    with django_capture_on_commit_callbacks(execute=True):  # the invitations are emailed
        services.open_sign_on(sign_on=sign_on, actor=actor)
    (link,) = {SIGN_LINK.search(email.body).group(1) for email in mailoutbox}

    response = client.get(link)
    assert response.status_code == 200
    assert "We write about widgets." in response.content.decode()
    assert_strict(response)


def test_a_signer_link_that_is_not_valid_is_never_framed(client, db) -> None:
    assert_strict(client.get("/sign/" + "x" * 43 + "/"))


@pytest.mark.parametrize(
    "url",
    [
        lambda letter: reverse("wagtailadmin_home"),
        lambda letter: reverse("wagtailadmin_pages:edit", args=[letter.pk]),
    ],
    ids=["dashboard", "page editor"],
)
def test_admin_pages_have_their_own_policy_and_are_not_framed(staff_client, letter, url) -> None:
    """Issue 10: the admin sent no policy at all; its own allows inline code, nothing remote."""
    response = staff_client.get(url(letter))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy == build_policy({**settings.ADMIN_CSP, "frame-ancestors": [CSP.NONE]})
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "connect-src 'self';" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_the_preview_panels_own_admin_pages_may_be_framed_by_the_admin(staff_client, letter):
    """Wagtail's "preview not available" page is the admin's, shown inside the panel."""
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[letter.pk])
    response = staff_client.get(url, {"mode": "", "in_preview_panel": "true"})  # nothing posted
    assert response.status_code == 200
    assert "Preview not available" in response.content.decode()
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Content-Security-Policy"] == build_policy(
        {**settings.ADMIN_CSP, "frame-ancestors": [CSP.SELF]}
    )


def test_on_s3_the_admin_may_show_the_buckets_images() -> None:
    """Thumbnails and the focal point editor load renditions from the media store."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env = {
        **kept,
        "DEBUG": "1",
        "CACHE_URL": "redis://127.0.0.1:6379/5",
        "AWS_STORAGE_BUCKET_NAME": "letters-media",
        "AWS_S3_ENDPOINT_URL": "https://minio.internal:9000",
    }
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(' '.join(map(str, settings.ADMIN_CSP['img-src'])))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["'self'", "data:", "blob:", "https://minio.internal:9000"]
