import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.caching import LOCAL
from signatories.interchange import import_letter
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish

pytestmark = pytest.mark.django_db


def test_it_shows_the_whole_seed_letter_with_its_signatories_in_order(client, seed_document):
    letter = import_letter(document=seed_document, publish=True).letter

    response = client.get("/letters/joint-industry-letter-on-the-international-ai-agenda/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<time datetime="2025-03-12">March 12, 2025</time>' in html
    assert "<address" in html and "1600 Pennsylvania Avenue, N.W." in html
    assert "Dear Mr. President:" in html
    assert '<h2 class="letter-heading">Prioritize Global Alignment:</h2>' in html
    assert html.count("<li") >= 9 + 14
    assert "Sincerely," in html
    assert f'href="{letter.url}pdf/"' in html
    names = re.findall(r'<span class="sig-name" dir="auto">([^<]+)</span>', html)
    expected = [
        s.get("display") or (f"{s['name']} ({s['acronym']})" if "acronym" in s else s["name"])
        for s in seed_document["signatories"]
    ]
    assert [n.replace("&amp;", "&") for n in names] == expected
    assert len(names) == 14


def test_the_letter_archive_lists_published_letters(client, seed_document):
    import_letter(document=seed_document, publish=True)
    make_letter(title="A draft letter", slug="draft", live=False)

    response = client.get("/letters/")

    assert response.status_code == 200
    assert "Joint industry letter on the international AI agenda" in response.content.decode()
    assert "A draft letter" not in response.content.decode()


def page_queries(client, url: str) -> int:
    """The queries of rendering the page: a miss of the page cache."""
    cache.clear()
    LOCAL.forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_renders_in_queries_that_do_not_grow_with_signatories(client):
    small = make_letter(slug="small", live=False)
    large = make_letter(slug="large", title="Large", live=False)
    for i in range(14):
        SignatureFactory(letter=small, organization=OrganizationFactory(name=f"Small {i}"))
    organizations = [OrganizationFactory(name=f"Large {i}") for i in range(500)]
    for org in organizations:
        SignatureFactory(letter=large, organization=org)
    publish(small)
    publish(large)
    client.get(small.url)  # warm per-process caches (site root paths, settings)

    with_14 = page_queries(client, small.url)
    with_500 = page_queries(client, large.url)

    assert with_14 == with_500
    # 11, with Wagtail's locale of the request and the translations of the site's root (its
    # locales are on), the letter's other languages, and the recipients' published answers.
    assert with_500 <= 15
    assert client.get(large.url).content.decode().count('class="sig"') == 500


def test_anonymous_visitors_cannot_reach_drafts(client):
    draft = make_letter(slug="secret-draft", title="Secret draft", live=False)

    assert client.get("/letters/secret-draft/").status_code == 404
    assert client.get("/letters/secret-draft/pdf/").status_code == 404
    assert client.get(f"/admin/pages/{draft.pk}/view_draft/").status_code == 302


def test_unapproved_signatures_are_not_shown(client):
    letter = make_letter(live=False)
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Approved Org"))
    for status in [
        "unconfirmed",
        "pending_review",
        "withdrawn",
        "rejected",
        "needs_reconfirmation",
    ]:
        SignatureFactory(
            letter=letter, organization=OrganizationFactory(name=f"Org {status}"), status=status
        )
    SignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Declined Org"), response="declined"
    )
    publish(letter)

    html = client.get(letter.url).content.decode()

    assert "Approved Org" in html
    assert "Org pending_review" not in html and "Org withdrawn" not in html
    assert "Declined Org" not in html


def test_text_is_escaped(client):
    letter = make_letter(salutation="<script>alert(1)</script>", live=False)
    SignatureFactory(letter=letter, display_name="<img src=x onerror=alert(1)>")
    publish(letter)

    html = client.get(letter.url).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_front_page_leads_to_the_letter_archive(client, seed_document):
    import_letter(document=seed_document, publish=True)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/letters/"
