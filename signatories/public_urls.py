"""Public pages beside the letters: organization pages and each letter's open data.

Mounted at the site's root before Wagtail's catch-all, so these addresses under /letters/ are
never looked up as pages (a page's slug cannot hold a dot, and a letter has no child pages).
"""

from django.urls import path

import coalition.core.converters  # noqa: F401  (registers unicode_slug)

from . import public_views, verification

app_name = "public"

urlpatterns = [
    path("organizations/<unicode_slug:slug>/", public_views.organization, name="organization"),
    path(
        "organizations/<unicode_slug:slug>/feed.atom",
        public_views.organization_feed,
        name="organization_feed",
    ),
    path("letters/feed.atom", public_views.feed, name="feed"),
    path("verify/", verification.verify, name="verify"),
    path(
        "verify/<unicode_slug:slug>/v<int:version>/",
        verification.version_checked,
        name="verify_version",
    ),
    path("verify/<str:sha256>/", verification.verified, name="verified"),
    path(
        "letters/<unicode_slug:slug>/signatories.csv",
        public_views.signatories_csv,
        name="signatories_csv",
    ),
    path(
        "letters/<unicode_slug:slug>/signatories.json",
        public_views.signatories_json,
        name="signatories_json",
    ),
    path("letters/<unicode_slug:slug>/letter.json", public_views.letter_json, name="letter_json"),
    path("letters/<unicode_slug:slug>/embed/", public_views.embed, name="embed"),
    path(
        "letters/<unicode_slug:slug>/answers/<str:answer_key>/",
        public_views.answer_file,
        name="answer_file",
    ),
]
