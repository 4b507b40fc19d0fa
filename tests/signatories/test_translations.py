"""One list across languages: a letter translated with Wagtail's own "Translate" reads at its
letter's address in each language, pinned to the text it translates, with the letter's one list
and count on every language's page and PDF; signers may read any language version and sign."""

import io
import subprocess

import pytest
from django.urls import reverse
from pypdf import PdfReader
from wagtail.models import Locale

from letters import translations
from letters.models import LetterIndexPage, LetterPage, Publication
from signatories.models import Signature
from tests.support.signing import (
    approved_change,
    open_new_sign_on,
    sign,
    sign_data,
    token_for,
)

pytestmark = pytest.mark.django_db


def add_language(code: str, capture, client) -> Locale:
    """Staff add a language under Settings → Locales: the archive gets its copy there, so
    that a letter can be translated into it at once."""
    with capture(execute=True):
        response = client.post(reverse("wagtaillocales:add"), {"language_code": code})
    assert response.status_code == 302
    locale = Locale.objects.get(language_code=code)
    archive = LetterIndexPage.objects.get(locale=locale)
    assert archive.alias_of is not None
    return locale


def translate(client, letter: LetterPage, locale: Locale, **text) -> LetterPage:
    """Wagtail's own door: the "Translate" action of wagtail.contrib.simple_translation; then the
    translator's text, published from the editor."""
    response = client.post(
        reverse("simple_translation:submit_page_translation", args=[letter.pk]),
        {"locales": [locale.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    translation = LetterPage.objects.get(translation_key=letter.translation_key, locale=locale)
    for name, value in text.items():
        setattr(translation, name, value)
    translation.save_revision().publish()
    translation.refresh_from_db()
    return translation


FRENCH = {
    "title": "Lettre commune sur les gadgets",
    "salutation": "Madame la Secrétaire,",
    "body": [{"type": "paragraph", "value": "<p>Nous vous écrivons au sujet des gadgets.</p>"}],
    "closing": "Veuillez agréer nos salutations distinguées.",
}
ARABIC = {
    "title": "رسالة مشتركة بشأن الأدوات",
    "salutation": "معالي الوزيرة،",
    "body": [{"type": "paragraph", "value": "<p>نكتب إليكم بشأن الأدوات.</p>"}],
    "closing": "مع فائق الاحترام،",
}


@pytest.fixture
def published(members, django_capture_on_commit_callbacks):
    """A letter signed by two members through its sign-on and published."""
    from signatories import services
    from tests.support.signing import STAFF_ACTOR

    sign_on = open_new_sign_on(members)
    first, second, _third = sign_on.invitations.order_by("organization__name")
    with django_capture_on_commit_callbacks(execute=True):
        sign(first)
        sign(second)
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
        services.publish_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    letter = sign_on.letter
    letter.refresh_from_db()
    return letter


def test_a_translation_made_with_wagtails_translate_reads_at_the_letters_address_with_its_list(
    published, staff_client, client, django_capture_on_commit_callbacks
):
    french = translate(
        staff_client,
        published,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    # Pinned to the text it translates; no version of its own (one record, the letter's).
    assert french.translates_revision_id == published.live_revision_id
    assert french.translation_source == published
    assert not Publication.objects.filter(letter=french).exists()
    assert french.url == f"{published.url}in/fr/"

    page = client.get(french.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<article class="letter" lang="fr" dir="ltr">' in html
    assert "Nous vous écrivons au sujet des gadgets." in html
    # The letter's one list and count, and its versions' PDFs (the letter's, marked as such).
    names = [line.text for line in published.publication.lines()]
    assert len(names) == 2
    for name in names:
        assert name in html
    assert "2 signatories" in html
    assert f'href="{published.url}pdf/v1/">PDF of version 1</a> (in <span lang="en">' in html
    assert f'<link rel="canonical" href="http://testserver{french.url}">' in html
    # Each language links to the others, in its own name.
    assert f'<a href="{published.url}" hreflang="en" lang="en" dir="ltr">English</a>' in html
    original = client.get(published.url).content.decode()
    assert f'<a href="{french.url}" hreflang="fr" lang="fr" dir="ltr">Français</a>' in original
    assert f'<link rel="alternate" hreflang="fr" href="{french.url}">' in original


def test_right_to_left_languages_read_right_to_left_on_the_page_and_in_the_pdf(
    published, staff_client, client, django_capture_on_commit_callbacks
):
    from letters.models import Letterhead

    letterhead = Letterhead.for_site(published.get_site())
    letterhead.coalition_name, letterhead.address = "Widget Coalition", "1200 G Street NW"
    letterhead.save()
    arabic = translate(
        staff_client,
        published,
        add_language("ar", django_capture_on_commit_callbacks, staff_client),
        **ARABIC,
    )
    html = client.get(arabic.url).content.decode()
    assert '<article class="letter" lang="ar" dir="rtl">' in html
    # Made by the worker, asked for once however many ask meanwhile: until then, a page says so.
    with django_capture_on_commit_callbacks() as asked:
        waiting = client.get(f"{arabic.url}pdf/")
        client.get(f"{arabic.url}pdf/")
    assert waiting.status_code == 503 and waiting["Retry-After"]
    assert "The PDF is being prepared" in waiting.content.decode()
    assert len(asked) == 1
    asked[0]()
    response = client.get(f"{arabic.url}pdf/")
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    assert pdf.startswith(b"%PDF")
    assert PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "ar"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    # Logical order, as a reader of Arabic reads it, and the letter's list under it.
    assert "نكتب إليكم بشأن الأدوات" in text
    # The coalition's letterhead reads as it is written, number first.
    assert "1200 G Street NW" in text
    # Set from the right: the short salutation line ends at the right margin.
    laid_out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    [salutation] = [line for line in laid_out.splitlines() if "معالي الوزيرة" in line]
    assert len(salutation) - len(salutation.lstrip()) > 20
    for line in published.publication.lines():
        assert line.text in text


def test_a_translation_is_outdated_once_the_letters_text_changes_until_staff_say_it_follows(
    published, staff_client, client, django_capture_on_commit_callbacks
):
    from signatories import services
    from signatories.inputs import staff_text
    from tests.support.signing import STAFF_ACTOR

    french = translate(
        staff_client,
        published,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    assert "translation-notice" not in client.get(french.url).content.decode()
    # A correction of the letter's words: the translation now reads as made from an earlier text.
    published.body = [{"type": "paragraph", "value": "<p>We write about better widgets.</p>"}]
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_correction(
            letter=published,
            note=staff_text("Better widgets.", name="note"),
            actor=STAFF_ACTOR,
            revision=published.save_revision(),
        )
    published.refresh_from_db()
    html = client.get(french.url).content.decode()
    assert "This translation was made from an earlier text of the letter" in html
    assert "(translated from an earlier text)" in client.get(published.url).content.decode()
    # Staff see what changed, word by word, from the translation's editor.
    edit = staff_client.get(reverse("wagtailadmin_pages:edit", args=[french.pk]))
    assert "The letter has changed: review" in edit.content.decode()
    review = staff_client.get(reverse("letters_admin:translation", args=[french.pk]))
    assert "better" in review.content.decode()
    # A confirmation for a revision that is no longer the current one changes nothing.
    stale = staff_client.post(
        reverse("letters_admin:translation", args=[french.pk]),
        {"revision": str(french.translates_revision_id)},
    )
    assert stale.status_code == 302
    french.refresh_from_db()
    assert translations.changes_since(french, published)
    staff_client.post(
        reverse("letters_admin:translation", args=[french.pk]),
        {"revision": str(published.live_revision_id)},
    )
    french.refresh_from_db()
    assert french.translates_revision_id == published.live_revision_id
    assert "translation-notice" not in client.get(french.url).content.decode()


def test_no_translation_reads_where_the_letter_does_not(
    published, staff_client, client, django_capture_on_commit_callbacks
):
    french = translate(
        staff_client,
        published,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    assert client.get(f"{published.url}in/de/").status_code == 404
    assert client.get(f"{published.url}in/fr/pdf/v1/").status_code == 404
    # Unpublished, the translation is gone; the letter unpublished, so are its translations.
    french.unpublish()
    assert client.get(french.url).status_code == 404
    french.save_revision().publish()
    published.unpublish()
    assert client.get(f"{published.url}in/fr/").status_code == 404


def test_the_archive_and_the_feed_show_each_letters_languages(
    published, staff_client, client, django_capture_on_commit_callbacks
):
    translate(
        staff_client,
        published,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    translate(
        staff_client,
        published,
        add_language("ar", django_capture_on_commit_callbacks, staff_client),
        **ARABIC,
    )
    archive = client.get("/letters/").content.decode()
    assert "Also in" in archive
    assert f'<a href="{published.url}in/fr/" hreflang="fr"' in archive
    assert f'<a href="{published.url}in/ar/" hreflang="ar" lang="ar" dir="rtl">' in archive
    # Each letter is listed once: its translations are not letters of their own.
    assert archive.count(f'href="{published.url}"') == 1
    feed = client.get(reverse("public:feed")).content.decode()
    assert f'hreflang="fr" href="http://testserver{published.url}in/fr/"' in feed or (
        f'href="http://testserver{published.url}in/fr/" hreflang="fr"' in feed
    )


def test_signers_may_read_the_letter_in_a_translation_and_sign_the_one_letter(
    members, staff_client, client, django_capture_on_commit_callbacks
):
    sign_on = open_new_sign_on(members)
    french = translate(
        staff_client,
        sign_on.letter,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    assert french.translates_revision_id == sign_on.revision_id
    first, second, _third = sign_on.invitations.order_by("organization__name")
    url = reverse("signatories:sign", args=[token_for(first)])
    page = client.get(url).content.decode()
    assert '<a href="?lang=fr" hreflang="fr" lang="fr" dir="ltr">Français</a>' in page
    assert "We write about widgets." in page
    page = client.get(url, {"lang": "fr"}).content.decode()
    assert "Nous vous écrivons au sujet des gadgets." in page
    assert "You are reading a translation." in page
    assert 'name="read_in" value="fr"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, sign_data(sign_on, first.organization, read_in="fr"))
    assert response.status_code == 302
    signature = Signature.objects.get(organization=first.organization)
    assert signature.read_in == "fr"
    assert signature.text_hash == sign_on.text_hash
    # Another signs in English: one list, one count.
    sign(second)
    assert Signature.objects.filter(sign_on=sign_on).count() == 2
    # A language the site does not have is refused, naming the field; nothing is recorded.
    _third_url = reverse("signatories:sign", args=[token_for(_third)])
    refused = client.post(_third_url, sign_data(sign_on, _third.organization, read_in="xx"))
    assert refused.status_code == 400 or refused.status_code == 200
    assert "The language you read the letter in: “xx” is not a language of this site." in (
        refused.content.decode()
    )
    assert not Signature.objects.filter(organization=_third.organization).exists()


def test_signers_are_told_when_the_translation_reads_an_earlier_text_than_the_one_they_sign(
    members, staff_client, client, django_capture_on_commit_callbacks
):
    from signatories import services
    from signatories.inputs import staff_text
    from tests.support.signing import STAFF_ACTOR

    sign_on = open_new_sign_on(members)
    french = translate(
        staff_client,
        sign_on.letter,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    changed = approved_change(
        sign_on.letter, [{"type": "paragraph", "value": "<p>We write about widgets, again.</p>"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        sign_on = services.recirculate_sign_on(
            sign_on=sign_on,
            revision=changed,
            material=True,
            note=staff_text("Again.", name="note"),
            actor=STAFF_ACTOR,
        )
    assert french.translates_revision_id != sign_on.revision_id
    first = sign_on.invitations.order_by("organization__name").first()
    page = client.get(
        reverse("signatories:sign", args=[token_for(first)]), {"lang": "fr"}
    ).content.decode()
    assert "This translation was made from an earlier text, which has changed since" in page


def test_people_signing_through_the_open_link_may_read_a_translation_too(
    open_sign_on, staff_client, client, django_capture_on_commit_callbacks
):
    translate(
        staff_client,
        open_sign_on.letter,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    url = reverse("signatories:open_link", args=[open_sign_on.token])
    page = client.get(url, {"lang": "fr"}).content.decode()
    assert "Nous vous écrivons au sujet des gadgets." in page
    assert 'name="person-read_in" value="fr"' in page
    data = {
        "person-person": "Jeanne Dupont",
        "person-signer_email": "jeanne@univ.example.fr",
        "person-text_hash": open_sign_on.text_hash,
        "person-read_in": "fr",
        "action": "individual",
    }
    # A mistake keeps the page in French; then the signature records it.
    wrong = client.post(url, {**data, "person-signer_email": "jeanne"})
    assert "Nous vous écrivons au sujet des gadgets." in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, data)
    assert Signature.objects.get(signer_email="jeanne@univ.example.fr").read_in == "fr"


def pdf_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_a_translations_pdf_is_made_when_it_is_published_and_again_with_each_version(
    published, members, staff_client, client, django_capture_on_commit_callbacks
):
    from signatories import services
    from signatories.inputs import staff_line, staff_text
    from tests.support.signing import STAFF_ACTOR

    locale = add_language("fr", django_capture_on_commit_callbacks, staff_client)
    with django_capture_on_commit_callbacks(execute=True):
        french = translate(staff_client, published, locale, **FRENCH)
    assert "Nous vous écrivons au sujet des gadgets." in pdf_text(client, f"{french.url}pdf/")
    # A signatory added by correction: the French PDF prints the new list once the version is.
    late = members.organizations[2]
    with django_capture_on_commit_callbacks(execute=True):
        services.add_signatory(
            letter=published,
            organization=late,
            display_name=staff_line(late.printed_name, name="display_name"),
            reason=staff_text("Signed by email.", name="reason"),
            actor=STAFF_ACTOR,
        )
        services.publish_correction(
            letter=published, note=staff_text("Adds one.", name="note"), actor=STAFF_ACTOR
        )
    assert late.printed_name in pdf_text(client, f"{french.url}pdf/")


def test_a_cdn_drops_each_translations_page_and_pdf_with_its_letter(
    published, staff_client, django_capture_on_commit_callbacks, settings
):
    from letters.caching import letter_public_urls

    translate(
        staff_client,
        published,
        add_language("fr", django_capture_on_commit_callbacks, staff_client),
        **FRENCH,
    )
    urls = letter_public_urls(published)
    assert f"{settings.SITE_URL}{published.url}in/fr/" in urls
    assert f"{settings.SITE_URL}{published.url}in/fr/pdf/" in urls
