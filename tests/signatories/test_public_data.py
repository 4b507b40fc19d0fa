"""The public side beside the letters: organization pages and each letter's open data."""

import base64
import csv
import datetime
import hashlib
import html as html_module
import io
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import PageViewRestriction

from coalition.crm.models import Organization
from letters.caching import LOCAL, invalidate_public_pages
from letters.models import Publication
from signatories import public_views
from signatories.interchange import validate_document
from signatories.models import Signature
from signatories.services import Actor, publish_correction
from tests.factories import OrganizationFactory, SignatureFactory, make_letter, publish

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
ACCENTS = "Société des Éditeurs Réunis"
CYRILLIC = "Союз производителей виджетов"
JAPANESE = "山田 花子, 教授, 東京大学"  # an individual: person, title, affiliation
FORMULA = '=HYPERLINK("https://evil.example/","Click")'


def published_letter(slug: str, *organizations: Organization, **fields) -> object:
    """A letter signed by these organizations, published through the publication service."""
    letter = make_letter(live=False, slug=slug, title=fields.pop("title", slug.title()), **fields)
    for organization in organizations:
        SignatureFactory(letter=letter, organization=organization)
    return publish(letter)


def page_url(organization: Organization) -> str:
    return reverse("public:organization", args=[organization.slug])  # percent-encoded


def pages_go_stale() -> None:
    """What a commit that publishes (or edits an organization) does to the cached public pages."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        invalidate_public_pages()


def queries(client, url: str) -> int:
    """The queries of a page rendered afresh (a miss of the page cache), in a warm process."""
    assert client.get(url).status_code == 200, url
    pages_go_stale()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


# ---------------------------------------------------------------------------------------------
# Organization pages


def test_it_lists_the_published_letters_an_organization_signed(client):
    org = OrganizationFactory(
        name="Association of Widget Makers", acronym="AWM", website="https://awm.example.org/"
    )
    other = OrganizationFactory(name="Gadget Council")
    published_letter(
        "spring", org, other, title="Spring letter", letter_date=datetime.date(2025, 3, 12)
    )
    published_letter("autumn", org, title="Autumn letter", letter_date=datetime.date(2025, 10, 1))
    published_letter("unsigned", other, title="A letter it did not sign")
    draft = make_letter(live=False, slug="draft", title="A draft it signed")
    SignatureFactory(letter=draft, organization=org)
    withdrawn = make_letter(live=False, slug="withdrawn", title="A letter it withdrew from")
    SignatureFactory(letter=withdrawn, organization=org, status=Signature.Status.WITHDRAWN)
    publish(withdrawn)

    response = client.get(page_url(org))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="organization-heading">Association of Widget Makers (AWM)</h1>' in html
    assert "<dd>AWM</dd>" in html
    assert 'href="https://awm.example.org/"' in html
    listed = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <time datetime="([^"]+)">', html)
    assert listed == [
        ("/letters/autumn/", "Autumn letter", "2025-10-01"),
        ("/letters/spring/", "Spring letter", "2025-03-12"),
    ]
    assert "October 1, 2025" in html


def test_the_letter_page_links_each_signatory_to_its_page(client):
    org = OrganizationFactory(name="Association of Widget Makers", acronym="AWM")
    kept_off = OrganizationFactory(name="Quiet Council", acronym="", public_page=False)
    published_letter("widgets", org, kept_off)

    html = client.get("/letters/widgets/").content.decode()

    assert (
        f'<a class="sig-link" href="{page_url(org)}"><span class="sig-name" dir="auto">'
        "Association of Widget Makers (AWM)</span></a>"
    ) in html
    assert '<span class="sig-name" dir="auto">Quiet Council</span>' in html
    assert f'href="{page_url(kept_off)}"' not in html
    assert "/letters/widgets/" in client.get(page_url(org)).content.decode()


def test_the_page_has_the_slug_in_the_organizations_own_script(client):
    org = OrganizationFactory(name=CYRILLIC, acronym="")
    published_letter("widgets", org)

    assert org.slug == "союз-производителей-виджетов"
    html = client.get("/letters/widgets/").content.decode()
    link = re.search(r'<a class="sig-link" href="([^"]+)">', html)[1]

    assert client.get(link).status_code == 200


@pytest.mark.parametrize(
    "case",
    ["unknown", "pending", "merged", "kept off"],
)
def test_there_is_no_page_for(client, case):
    survivor = OrganizationFactory(name="Survivor")
    fields = {
        "unknown": {},
        "pending": {"status": Organization.Status.PENDING},
        "merged": {"status": Organization.Status.ARCHIVED, "merged_into": survivor},
        "kept off": {"public_page": False},
    }[case]
    org = OrganizationFactory(name="Association of Widget Makers", **fields)
    slug = "no-such-organization" if case == "unknown" else org.slug

    assert client.get(f"/organizations/{slug}/").status_code == 404


def test_an_archived_organization_keeps_its_page_for_the_letters_it_signed(client):
    org = OrganizationFactory(name="Former Member")
    published_letter("widgets", org)
    Organization.objects.filter(pk=org.pk).update(status=Organization.Status.ARCHIVED)

    response = client.get(page_url(org))

    assert response.status_code == 200
    assert "/letters/widgets/" in response.content.decode()


def test_keeping_an_organization_off_hides_its_page_and_later_letters_do_not_link_it(client):
    org = OrganizationFactory(name="Association of Widget Makers", acronym="AWM")
    published_letter("before", org, title="Before")
    Organization.objects.filter(pk=org.pk).update(public_page=False)

    published_letter("after", org, title="After")

    assert client.get(page_url(org)).status_code == 404
    after = client.get("/letters/after/").content.decode()
    assert '<span class="sig-name" dir="auto">Association of Widget Makers (AWM)</span>' in after
    assert page_url(org) not in after
    assert Publication.objects.get(letter__slug="after").signatories[0]["url"] == ""

    # Back on: the page lists every letter whose current version prints it (the one published
    # meanwhile prints it without a link: its line is frozen as it was published).
    Organization.objects.filter(pk=org.pk).update(public_page=True)
    LOCAL.forget()
    cache.clear()
    html = client.get(page_url(org)).content.decode()
    assert "/letters/before/" in html
    assert "/letters/after/" in html


def test_a_cached_page_goes_when_the_organization_is_kept_off(
    client, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(name="Association of Widget Makers")
    published_letter("widgets", org)
    assert client.get(page_url(org)).status_code == 200  # now in the page cache

    with django_capture_on_commit_callbacks(execute=True):
        org.public_page = False
        org.save()

    assert client.get(page_url(org)).status_code == 404


def test_staff_can_keep_an_organization_off_the_public_pages(staff_client):
    org = OrganizationFactory(name="Association of Widget Makers")

    html = staff_client.get(reverse("coalition_organizations:edit", args=[org.pk])).content.decode()

    assert 'name="public_page"' in html


def test_the_organization_page_costs_the_same_queries_for_two_letters_and_twelve(client):
    org = OrganizationFactory(name="Association of Widget Makers")
    busy = OrganizationFactory(name="Busy Council")
    for i in range(2):
        published_letter(f"letter-{i}", org, busy)
    few = queries(client, page_url(org))
    for i in range(2, 12):
        published_letter(f"letter-{i}", busy, org, OrganizationFactory(name=f"Other {i}"))

    many = queries(client, page_url(busy))

    assert many == few
    assert few <= 8


# ---------------------------------------------------------------------------------------------
# Open data


@pytest.fixture
def letter(db):
    """A published letter signed in several scripts, by a would-be formula and an individual."""
    names = [ACCENTS, CYRILLIC, FORMULA]
    organizations = [OrganizationFactory(name=name, acronym="") for name in names]
    kept_off = OrganizationFactory(name="Quiet Council", acronym="", public_page=False)
    letter = make_letter(
        live=False,
        slug="widgets",
        title="A joint letter on widgets",
        letter_date=datetime.date(2025, 3, 12),
        accepts_individuals=True,
    )
    for organization in [*organizations, kept_off]:
        SignatureFactory(letter=letter, organization=organization, group="Organizations")
    SignatureFactory(
        letter=letter,
        organization=None,
        display_name=JAPANESE,
        signer_name="山田 花子",
        signer_title="教授",
        affiliation="東京大学",
        group="Individuals",
    )
    return publish(letter)


def frozen(letter) -> list[dict]:
    return Publication.objects.get(letter=letter).signatories


def test_the_signatories_csv_parses_and_keeps_every_script(client, letter):
    response = client.get("/letters/widgets/signatories.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response["Content-Disposition"] == 'attachment; filename="widgets-signatories.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with its mark
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "position",
        "line",
        "group",
        "detail",
        "organization_page",
        "letter_title",
        "letter_url",
        "version",
        "published_at",
    ]
    printed = [line["text"] for line in frozen(letter)]
    assert [row["line"] for row in rows] == [
        "'" + text if text == FORMULA else text for text in printed
    ]
    assert [row["position"] for row in rows] == [str(i) for i in range(1, len(printed) + 1)]
    by_line = {row["line"]: row for row in rows}
    for name in (ACCENTS, CYRILLIC):
        org = Organization.objects.get(name=name)
        assert by_line[name]["organization_page"] == f"http://testserver{page_url(org)}"
        assert by_line[name]["group"] == "Organizations"
    assert by_line["'" + FORMULA]["line"].startswith("'=")
    assert by_line["Quiet Council"]["organization_page"] == ""
    assert by_line[JAPANESE]["group"] == "Individuals"
    assert by_line[JAPANESE]["organization_page"] == ""
    assert {row["letter_title"] for row in rows} == {"A joint letter on widgets"}
    assert {row["letter_url"] for row in rows} == {"http://testserver/letters/widgets/"}
    assert {row["version"] for row in rows} == {"1"}
    published = Publication.objects.get(letter=letter).published_at
    assert {datetime.datetime.fromisoformat(row["published_at"]) for row in rows} == {published}


def test_the_signatories_json_has_its_documented_shape(client, letter):
    response = client.get("/letters/widgets/signatories.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert JAPANESE.encode() in response.content  # UTF-8, not \u escapes
    document = response.json()
    assert set(document) == {"letter", "signatories"}
    publication = Publication.objects.get(letter=letter)
    assert document["letter"] == {
        "title": "A joint letter on widgets",
        "url": "http://testserver/letters/widgets/",
        "date": "2025-03-12",
        "version": 1,
        "published_at": publication.published_at.isoformat(),
        "pdf": "http://testserver/letters/widgets/pdf/v1/",
    }
    signatories = document["signatories"]
    assert [s["line"] for s in signatories] == [line["text"] for line in frozen(letter)]
    for position, signatory in enumerate(signatories, start=1):
        assert set(signatory) == {"position", "line", "group", "detail", "organization_page"}
        assert signatory["position"] == position
    by_line = {s["line"]: s for s in signatories}
    assert by_line[FORMULA]["line"] == FORMULA  # JSON is no spreadsheet: as printed
    cyrillic = Organization.objects.get(name=CYRILLIC)
    assert by_line[CYRILLIC]["organization_page"] == f"http://testserver{page_url(cyrillic)}"
    assert by_line["Quiet Council"]["organization_page"] is None


def test_the_signer_prints_as_the_detail_when_the_letter_names_signers(client):
    letter = make_letter(live=False, slug="signers", signatory_style="signers")
    SignatureFactory(
        letter=letter,
        organization=OrganizationFactory(name="Gadget Council", acronym=""),
        signer_name="Pat Signer",
        signer_title="President",
    )
    publish(letter)

    signatory = client.get("/letters/signers/signatories.json").json()["signatories"][0]

    assert signatory["line"] == "Gadget Council"
    assert signatory["detail"] == "Pat Signer, President"


def test_the_letter_json_is_an_interchange_document_of_the_published_list(client, letter):
    response = client.get("/letters/widgets/letter.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = response.json()
    assert validate_document(document) == []
    assert document["title"] == "A joint letter on widgets"
    assert document["date"] == "2025-03-12"
    names = [s.get("name") or s["person"] for s in document["signatories"]]
    assert names == [
        "山田 花子" if line["text"] == JAPANESE else line["text"] for line in frozen(letter)
    ]
    individual = next(s for s in document["signatories"] if "person" in s)
    assert individual == {
        "person": "山田 花子",
        "title": "教授",
        "affiliation": "東京大学",
        "group": "Individuals",
    }


def test_open_data_follows_the_published_versions_not_the_signatures_as_they_stand(client, letter):
    SignatureFactory(
        letter=letter, organization=OrganizationFactory(name="Late Council", acronym="")
    )
    withdrawn = Signature.objects.get(letter=letter, display_name=ACCENTS)
    withdrawn.status = Signature.Status.WITHDRAWN
    withdrawn.save()

    for url in ("/letters/widgets/signatories.json", "/letters/widgets/letter.json"):
        text = client.get(url).content.decode()
        assert "Late Council" not in text, url
        assert ACCENTS in text, url
    assert validate_document(client.get("/letters/widgets/letter.json").json()) == []

    publish_correction(letter=letter, note="Late Council joined.", actor=Actor.system("test"))
    pages_go_stale()  # as the correction's commit does

    data = client.get("/letters/widgets/signatories.json").json()
    assert data["letter"]["version"] == 2
    assert "Late Council" in [s["line"] for s in data["signatories"]]
    assert ACCENTS not in [s["line"] for s in data["signatories"]]
    document = client.get("/letters/widgets/letter.json").json()
    assert validate_document(document) == []
    assert "Late Council" in [s.get("name") for s in document["signatories"]]
    assert ACCENTS not in [s.get("name") for s in document["signatories"]]


def test_the_data_of_a_letter_costs_the_same_queries_for_few_and_many_signatories(client):
    few = make_letter(live=False, slug="few", title="Few")
    many = make_letter(live=False, slug="many", title="Many")
    for i in range(3):
        SignatureFactory(letter=few, organization=OrganizationFactory(name=f"Few {i}"))
    for i in range(40):
        SignatureFactory(letter=many, organization=OrganizationFactory(name=f"Many {i}"))
    publish(few)
    publish(many)

    for name in ("signatories.csv", "signatories.json", "letter.json", "embed/"):
        assert queries(client, f"/letters/few/{name}") == queries(client, f"/letters/many/{name}")
        assert queries(client, f"/letters/many/{name}") <= 8, name


def test_drafts_private_and_unknown_letters_have_no_open_data(client):
    draft = make_letter(live=False, slug="draft")
    SignatureFactory(letter=draft)
    private = published_letter("private", OrganizationFactory(name="Gadget Council"))
    PageViewRestriction.objects.create(page=private, restriction_type="login")

    for slug in ("draft", "private", "nothing-here"):
        for name in ("signatories.csv", "signatories.json", "letter.json", "embed/"):
            assert client.get(f"/letters/{slug}/{name}").status_code == 404, (slug, name)
    assert client.get("/letters/feed.atom").content.count(b"<entry>") == 0


# ---------------------------------------------------------------------------------------------
# The feed


def parse_feed(response) -> ET.Element:
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed, and well-formed or not is the test)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(response) -> list[ET.Element]:
    return parse_feed(response).findall(f"{ATOM}entry")


def test_the_feed_has_one_entry_per_published_version_newest_first(client, letter):
    published_letter("gadgets", OrganizationFactory(name="Gadget Council"), title="Gadgets")
    SignatureFactory(letter=letter, organization=OrganizationFactory(name="Late Council"))
    publish_correction(letter=letter, note="Late Council joined.", actor=Actor.system("test"))
    Publication.objects.filter(letter=letter, version=2).update(pdf_size=34567)
    make_letter(live=False, slug="draft", title="A draft")

    response = client.get("/letters/feed.atom")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = parse_feed(response)
    assert (
        root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/letters/feed.atom"
    )
    assert root.find(f"{ATOM}updated").text
    found = entries(response)
    titles = [entry.find(f"{ATOM}title").text for entry in found]
    assert titles == [
        "Correction to A joint letter on widgets: Late Council joined.",
        "Published: Gadgets",
        "Published: A joint letter on widgets",
    ]
    ids = [entry.find(f"{ATOM}id").text for entry in found]
    assert len(set(ids)) == 3
    assert all(entry.find(f"{ATOM}updated").text for entry in found)
    correction = found[0]
    assert correction.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        "http://testserver/letters/widgets/"
    )
    pdf = correction.find(f"{ATOM}link[@rel='enclosure']")
    assert pdf.get("href") == "http://testserver/letters/widgets/pdf/v2/"
    assert pdf.get("type") == "application/pdf"
    assert pdf.get("length") == "34567"
    assert found[2].find(f"{ATOM}link[@rel='enclosure']").get("href").endswith("/pdf/v1/")
    assert found[0].find(f"{ATOM}summary").text == "Late Council joined. (version 2)"
    # The versions' own ids, not their addresses: a moved letter or site keeps its entries.
    assert all(entry_id.startswith("urn:uuid:") for entry_id in ids)
    pages_go_stale()
    assert [
        entry.find(f"{ATOM}id").text for entry in entries(client.get("/letters/feed.atom"))
    ] == ids


def test_the_feed_is_bounded_and_costs_the_same_queries_however_long(client, monkeypatch):
    monkeypatch.setattr(public_views, "FEED_LENGTH", 3)
    published_letter("first", OrganizationFactory(name="Gadget Council"))
    few = queries(client, "/letters/feed.atom")
    for i in range(5):
        published_letter(f"letter-{i}", OrganizationFactory(name=f"Council {i}"))

    assert queries(client, "/letters/feed.atom") == few
    assert len(entries(client.get("/letters/feed.atom"))) == 3


def test_every_page_offers_the_feed(client, letter):
    for url in ("/letters/", "/letters/widgets/"):
        html = client.get(url).content.decode()
        assert (
            '<link rel="alternate" type="application/atom+xml" title="Letters and corrections" '
            'href="/letters/feed.atom">'
        ) in html, url


# ---------------------------------------------------------------------------------------------
# The widget, and framing


def test_the_widget_shows_the_title_the_count_and_a_link_out_of_the_frame(client, letter):
    response = client.get("/letters/widgets/embed/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>A joint letter on widgets</title>" in html
    assert (
        '<a href="http://testserver/letters/widgets/" target="_top">A joint letter on widgets</a>'
        in html
    )
    assert "<strong>5</strong> signatories" in html
    assert "<script" not in html
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == [
        "http://testserver/letters/widgets/",
        "http://testserver/letters/widgets/",
    ]


def test_the_widget_may_be_framed_by_any_site_and_keeps_the_rest_of_the_policy(client, letter):
    for attempt in ("rendered", "from the page cache"):
        response = client.get("/letters/widgets/embed/")

        assert "X-Frame-Options" not in response, attempt
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors *" in policy, attempt
        assert "frame-ancestors 'none'" not in policy, attempt
        for kept in ("default-src 'self'", "object-src 'none'", "base-uri 'none'"):
            assert kept in policy, attempt
        assert "unsafe-inline" not in policy, attempt
        style = re.search(r"<style>(.*?)</style>", response.content.decode(), re.S)[1]
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'self' 'sha256-{digest}'" in policy, attempt


def test_no_other_public_page_may_be_framed(client, letter):
    org = Organization.objects.get(name=CYRILLIC)
    for url in (
        "/letters/",
        "/letters/widgets/",
        "/letters/feed.atom",
        "/letters/widgets/signatories.csv",
        "/letters/widgets/signatories.json",
        "/letters/widgets/letter.json",
        page_url(org),
    ):
        for _attempt in ("rendered", "from the page cache"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert response["X-Frame-Options"] == "DENY", url
            assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_the_page_of_an_organization_merged_away_sends_readers_to_the_one_it_became(client, staff):
    from coalition.crm.services import merge_organizations

    survivor = OrganizationFactory(name="Association of Widget Makers", acronym="AWM")
    duplicate = OrganizationFactory(name="Widget Makers Assn", acronym="WMA")
    published_letter("widgets", duplicate)
    old_link = page_url(duplicate)
    assert client.get(old_link).status_code == 200

    merge_organizations(survivor=survivor, duplicate=duplicate, user=staff)
    LOCAL.forget()
    cache.clear()

    response = client.get(old_link)
    assert response.status_code == 301
    assert response["Location"] == page_url(survivor)
    assert "/letters/widgets/" in client.get(page_url(survivor)).content.decode()

    # Merged again: the oldest link goes straight to where the organization lives now.
    third = OrganizationFactory(name="Widget Industry Council", acronym="WIC")
    merge_organizations(survivor=third, duplicate=survivor, user=staff)
    LOCAL.forget()
    cache.clear()
    assert client.get(old_link)["Location"] == page_url(third)
    assert client.get(page_url(survivor))["Location"] == page_url(third)


# ---------------------------------------------------------------------------------------------
# Open data in view


def test_the_letter_page_links_its_open_data_and_each_link_answers(client, letter):
    html = client.get("/letters/widgets/").content.decode()
    section = html[html.index('id="open-data"') :]
    links = re.findall(r'<a href="([^"]+)" type="([^"]+)">', section)
    assert links == [
        ("/letters/widgets/signatories.csv", "text/csv"),
        ("/letters/widgets/signatories.json", "application/json"),
        ("/letters/widgets/letter.json", "application/json"),
        ("/letters/feed.atom", "application/atom+xml"),
    ]
    for url, media_type in links:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith(media_type), url
    # Programs find the files from the page's head, as readers do from its text.
    for url, media_type in links[:3]:
        assert f'<link rel="alternate" type="{media_type}" href="{url}"' in html


def test_the_letter_page_offers_the_widget_as_code_to_copy_at_the_widgets_height(client, letter):
    html = client.get("/letters/widgets/").content.decode()
    code = re.search(r'<textarea id="embed-code"[^>]*>([^<]*)</textarea>', html).group(1)
    assert code == (
        "&lt;iframe src=&quot;http://testserver/letters/widgets/embed/&quot; "
        "title=&quot;A joint letter on widgets&quot; width=&quot;100%&quot; "
        f"height=&quot;{public_views.EMBED_HEIGHT}&quot; style=&quot;border:0&quot; "
        "loading=&quot;lazy&quot;&gt;&lt;/iframe&gt;"
    )
    # The widget's own box is that height: the frame never scrolls or cuts it.
    assert f"height:{public_views.EMBED_HEIGHT}px" in public_views.EMBED_CSS


def test_the_share_links_are_plain_links_that_load_nothing_of_other_sites(client, letter):
    html = client.get("/letters/widgets/").content.decode()
    share = re.search(r'<p class="share">.*?</p>', html, re.S).group(0)
    hrefs = re.findall(r'href="([^"]+)"', share)
    assert [href.split("?")[0] for href in hrefs] == [
        "mailto:",
        "https://bsky.app/intent/compose",
        "https://mastodonshare.com/",
        "https://www.linkedin.com/sharing/share-offsite/",
        "https://www.facebook.com/sharer/sharer.php",
        "https://x.com/intent/post",
    ]
    assert all("http%3A%2F%2Ftestserver%2Fletters%2Fwidgets%2F" in href for href in hrefs)
    # Nothing of another site is loaded by the page: no script, image or frame.
    assert not re.findall(r'<(?:script|img|iframe)[^>]+src="https?://(?!testserver)', html)


def test_the_widget_shows_the_first_names_and_how_many_more(client, letter):
    html = client.get("/letters/widgets/embed/").content.decode()
    names = [html_module.unescape(n) for n in re.findall(r"<li dir=\"auto\">([^<]+)</li>", html)]
    printed = [line.text for line in Publication.objects.get(letter=letter).lines()]
    assert names == printed[: public_views.EMBED_NAMES]
    assert f"<li>and {len(printed) - public_views.EMBED_NAMES} more</li>" in html


def test_each_organization_page_has_its_own_feed(client):
    org = OrganizationFactory(name="Association of Widget Makers", acronym="AWM")
    other = OrganizationFactory(name="Gadget Council")
    published_letter("spring", org, other, title="Spring letter")
    published_letter("unsigned", other, title="A letter it did not sign")
    page = client.get(page_url(org)).content.decode()
    feed_url = reverse("public:organization_feed", args=[org.slug])
    assert f'<link rel="alternate" type="application/atom+xml" href="{feed_url}"' in page
    assert f'<a href="{feed_url}" type="application/atom+xml">' in page

    response = client.get(feed_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = parse_feed(response)
    assert root.find(f"{ATOM}title").text.endswith(
        "letters signed by Association of Widget Makers (AWM)"
    )
    assert [entry.find(f"{ATOM}title").text for entry in entries(response)] == [
        "Published: Spring letter"
    ]
    kept_off = OrganizationFactory(name="Quiet Council", public_page=False)
    assert client.get(reverse("public:organization_feed", args=[kept_off.slug])).status_code == 404
    assert client.get("/organizations/nobody/feed.atom").status_code == 404


def test_an_organization_page_shows_its_logo(client):
    from django.conf import settings
    from django.core.files.images import ImageFile
    from django.core.files.storage import default_storage
    from wagtail.images import get_image_model

    from tests.support.portal import png

    logo = get_image_model().objects.create(
        title="AWM logo", file=ImageFile(io.BytesIO(png()), name="awm.png")
    )
    org = OrganizationFactory(name="Association of Widget Makers", acronym="AWM", logo=logo)
    plain = OrganizationFactory(name="Gadget Council")
    published_letter("spring", org, plain, title="Spring letter")

    page = client.get(page_url(org)).content.decode()
    image = re.search(r'<img [^>]*class="organization-logo"[^>]*>', page).group(0)
    assert 'alt="Association of Widget Makers (AWM)"' in image
    # The rendition exists where the site serves its media from.
    source = re.search(r'src="([^"]+)"', image).group(1)
    assert default_storage.exists(source.removeprefix(settings.MEDIA_URL))
    assert "organization-logo" not in client.get(page_url(plain)).content.decode()
