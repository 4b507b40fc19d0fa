"""Names in every script: Cyrillic, Greek, Japanese, Chinese and Arabic names import, match, sort,
print and round-trip, in the CRM, the open link, the interchange format, the page and the PDF."""

import copy
import logging
import re
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from coalition.crm.imports import import_members
from coalition.crm.models import Organization, name_key, website_key
from letters.pdf import render_letter_pdf
from signatories.addresses import email_key
from signatories.interchange import LetterDocumentError, export_letter, import_letter
from signatories.models import Signature
from tests.factories import OrganizationFactory
from tests.letters.test_pdf_standards import validation_failures
from tests.support.crm import organization_post
from tests.support.pdf import pdftotext

CYRILLIC = "Союз промышленников и предпринимателей"
GREEK = "Ελληνική Ένωση Βιομηχανιών"
TOKYO = "東京商工会議所"
OSAKA = "大阪商工会議所"
GAS = "ガス協会"  # "gasu": the voiced mark makes ガ of カ
KASU = "カス協会"
CHINESE = "中国国际贸易促进委员会"
ARABIC = "اتحاد الصناعات"
NAMES = [CYRILLIC, GREEK, TOKYO, OSAKA, GAS, KASU, CHINESE, ARABIC]

# Poppler wraps right-to-left runs in embedding marks (U+202A to U+202E); the text between is exact.
BIDI_MARKS = re.compile("[\u202a-\u202e]")


# -- The key -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Société Générale", "SOCIETE generale"),
        ("The App Association", "App-Association!"),
        ("AT&T", "AT and T"),
        (GREEK, "ΕΛΛΗΝΙΚΗ ΕΝΩΣΗ ΒΙΟΜΗΧΑΝΙΩΝ"),  # capitals carry no tonos
        (CYRILLIC, "СОЮЗ  промышленников и предпринимателей."),
        ("Объединение «Ёлка»", "Объединение Елка"),  # Russian often prints ё without its dots
        ("ｶﾞｽ協会", GAS),  # half-width katakana, the voiced mark apart
        ("\u30ab\u3099\u30b9協会", GAS),  # decomposed: カ and the combining voiced mark
        ("\uff21\uff22\uff23\u3000\uff23\uff4f\uff52\uff50", "ABC Corp"),  # full-width
        ("اتِّحَاد الصِّنَاعَات", ARABIC),  # harakat are optional
        ("اتحـــاد الصناعات", ARABIC),  # the tatweel only stretches the line
        ("Łódź Chamber", "Lodz Chamber"),
        ("Gruppe ٢٠٢٤", "Gruppe 2024"),
    ],
)
def test_it_keys_two_spellings_of_one_name_alike(first: str, second: str) -> None:
    assert name_key(first) == name_key(second) != ""


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (TOKYO, OSAKA),
        (GAS, KASU),
        ("Йога-клуб", "Иога-клуб"),  # й is a letter of its own
        ("हिन्दी संघ", "हिन्द संघ"),  # a Devanagari vowel sign makes another word
        (CYRILLIC, GREEK),
    ],
)
def test_it_keys_different_names_apart(first: str, second: str) -> None:
    assert name_key(first) != name_key(second)


@pytest.mark.parametrize("name", [*NAMES, "한국무역협회", "हिन्दी संघ", "איגוד התעשיינים"])
def test_a_name_in_any_script_has_a_key_in_that_script(name: str) -> None:
    key = name_key(name)
    assert key and key == name_key(key)
    assert not key.isascii()


def test_a_key_is_empty_only_for_a_name_without_letters_or_digits() -> None:
    assert name_key(" !? — ") == ""
    assert (name_key("Ω"), name_key("٣"), name_key("The")) == ("ω", "3", "the")


def test_a_long_name_keys_within_the_column() -> None:
    assert len(name_key("A&" * 200)) == 255
    assert len(name_key("㍿" * 100)) == 255  # one character, four in NFKC


def test_websites_and_email_addresses_match_across_their_encodings() -> None:
    assert website_key("https://www.Bücher.example/") == website_key("http://xn--bcher-kva.example")
    assert email_key("Jane@XN--BCHER-KVA.example") == email_key("jane@bücher.example")
    assert email_key("jane@bu\u0308cher.example") == email_key("jane@bücher.example")


# -- The member import ----------------------------------------------------------------------------


def members_csv(names: list[str]) -> bytes:
    rows = ["name,country"] + [f"{name},XX" for name in names]
    return ("\r\n".join(rows) + "\r\n").encode()


@pytest.mark.django_db
def test_the_member_import_creates_and_then_matches_names_in_every_script() -> None:
    report = import_members(data=members_csv(NAMES), filename="members.csv", dry_run=False)
    assert report.ok, report.errors
    assert sorted(Organization.objects.values_list("name", flat=True)) == sorted(NAMES)
    assert Organization.objects.values("name_key").distinct().count() == len(NAMES)

    respelled = ["СОЮЗ ПРОМЫШЛЕННИКОВ И ПРЕДПРИНИМАТЕЛЕЙ", "ΕΛΛΗΝΙΚΗ ΕΝΩΣΗ ΒΙΟΜΗΧΑΝΙΩΝ", "ｶﾞｽ協会"]
    again = import_members(data=members_csv(respelled), filename="members.csv", dry_run=False)
    assert again.ok, again.errors
    assert again.organizations_created == 0
    assert Organization.objects.count() == len(NAMES)


@pytest.mark.django_db
def test_the_member_import_reports_a_name_without_letters_by_its_row() -> None:
    report = import_members(data=members_csv([TOKYO, "—"]), filename="m.csv", dry_run=False)
    assert report.errors == ["Row 3: name “—” has no letters or digits."]
    assert not Organization.objects.exists()


# -- The admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_add_organizations_in_every_script_in_the_admin(staff_client) -> None:
    url = reverse("coalition_organizations:add")
    for name in NAMES:
        response = staff_client.post(url, organization_post(name=name))
        assert response.status_code == 302, name
    assert sorted(Organization.objects.values_list("name", flat=True)) == sorted(NAMES)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "typed"),
    [(GREEK, "ΕΛΛΗΝΙΚΗ ΕΝΩΣΗ ΒΙΟΜΗΧΑΝΙΩΝ"), (GAS, "ｶﾞｽ協会"), (CYRILLIC, CYRILLIC.upper())],
)
def test_the_admin_refuses_the_same_name_in_the_same_script(staff_client, existing, typed) -> None:
    first = OrganizationFactory(name=existing, acronym="")
    response = staff_client.post(
        reverse("coalition_organizations:add"), organization_post(name=typed)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "An organization with this name already exists" in html
    assert reverse("coalition_organizations:inspect", args=[first.pk]) in html
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_refuses_a_name_without_letters_or_digits(staff_client) -> None:
    OrganizationFactory(name="…", acronym="")  # an empty key, as stored before the form refused it
    response = staff_client.post(
        reverse("coalition_organizations:add"), organization_post(name="—")
    )
    assert response.status_code == 200
    assert "A name needs at least one letter or digit." in response.content.decode()
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_the_organization_listing_sorts_mixed_scripts(staff_client) -> None:
    for name in [ARABIC, "Widget Council", TOKYO, CYRILLIC, GREEK, "The App Association"]:
        OrganizationFactory(name=name, acronym="")
    response = staff_client.get(reverse("coalition_organizations:index"))
    html = response.content.decode()
    assert response.status_code == 200
    # Latin, then Greek, Cyrillic, Arabic and Han: code point order, which the database's
    # binary ("C") and Unicode (ICU root) collations share for whole scripts.
    expected = ["The App Association", "Widget Council", GREEK, CYRILLIC, ARABIC, TOKYO]
    positions = [html.index(name) for name in expected]
    assert positions == sorted(positions)


# -- The open link --------------------------------------------------------------------------------


def request_data(sign_on, name: str, email: str) -> dict:
    return {
        "org-organization_name": name,
        "org-acronym": "",
        "org-website": "",
        "org-display_name": name,
        "org-signer_name": "Анна Петрова",
        "org-signer_title": "Президент",
        "org-signer_email": email,
        "org-authorized": "on",
        "org-text_hash": sign_on.text_hash,
        "action": "organization",
    }


def test_the_open_link_takes_organizations_named_in_any_script(client, open_sign_on) -> None:
    url = reverse("signatories:open_link", args=[open_sign_on.token])
    for n, name in enumerate([CYRILLIC, GREEK, TOKYO, ARABIC]):
        response = client.post(url, request_data(open_sign_on, name, f"s{n}@members.example"))
        assert response.status_code == 302, response.content.decode()[-2000:]
    requested = Signature.objects.values_list("organization__name", "display_name")
    assert sorted(requested) == sorted((name, name) for name in [CYRILLIC, GREEK, TOKYO, ARABIC])
    assert Organization.objects.filter(status=Organization.Status.PENDING).count() == 4


def test_the_open_link_matches_a_known_organization_in_its_script(client, open_sign_on) -> None:
    OrganizationFactory(name=GREEK, acronym="")
    known = OrganizationFactory(name=CYRILLIC, acronym="")
    url = reverse("signatories:open_link", args=[open_sign_on.token])
    response = client.post(url, request_data(open_sign_on, CYRILLIC.upper(), "a@rspp.example"))
    assert response.status_code == 302
    assert Signature.objects.get().organization == known


# -- The interchange format, the page and the PDF -------------------------------------------------


def scripts_document(seed: dict) -> dict:
    document = copy.deepcopy(seed)
    document["signatories"] = [{"name": name} for name in sorted(NAMES, key=str.casefold)]
    return document


@pytest.mark.django_db
def test_import_letter_tells_two_japanese_names_apart(seed_document) -> None:
    result = import_letter(document=scripts_document(seed_document))
    assert result.organizations_created == len(NAMES)
    assert result.letter.signatures.count() == len(NAMES)


@pytest.mark.django_db
def test_import_letter_still_finds_a_name_listed_twice_in_another_width(seed_document) -> None:
    document = scripts_document(seed_document)
    document["signatories"].append({"name": "ｶﾞｽ協会"})
    with pytest.raises(LetterDocumentError) as error:
        import_letter(document=document)
    [problem] = error.value.problems
    assert problem.startswith("$.signatories[8].name: 'ｶﾞｽ協会' is already listed at $.signatories[")


@pytest.mark.django_db
def test_names_in_every_script_round_trip_through_the_interchange_format(seed_document) -> None:
    document = scripts_document(seed_document)
    letter = import_letter(document=copy.deepcopy(document), publish=True).letter
    assert export_letter(letter) == document


@pytest.mark.django_db
def test_the_public_page_prints_every_name_in_order(client, seed_document) -> None:
    letter = import_letter(document=scripts_document(seed_document), publish=True).letter
    html = client.get(letter.url).content.decode()
    positions = [html.index(name) for name in NAMES if name in html]
    assert len(positions) == len(NAMES), [name for name in NAMES if name not in html]
    # Alphabetical across scripts: by script (Greek, Cyrillic, Arabic, kana, Han), then within.
    printed = sorted(NAMES, key=html.index)
    assert printed == [GREEK, CYRILLIC, ARABIC, KASU, GAS, CHINESE, OSAKA, TOKYO]
    assert printed == sorted(NAMES, key=str.casefold)


@pytest.mark.django_db
def test_an_organization_page_lives_at_its_own_script_slug(client, seed_document) -> None:
    import_letter(document=scripts_document(seed_document), publish=True)
    tokyo = Organization.objects.get(name=TOKYO)
    assert tokyo.slug == TOKYO
    response = client.get(f"/organizations/{TOKYO}/")
    assert response.status_code == 200
    assert TOKYO in response.content.decode()


def embedded_fonts(pdf: bytes, tmp_path: Path) -> dict[str, bool]:
    """Each font of the PDF as pdffonts names it (subset tag aside), and whether it is embedded."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    fonts = {}
    for line in listing.splitlines()[2:]:
        name, *_, emb, _sub, _uni, _obj, _gen = line.split()
        fonts[name.split("+", 1)[-1]] = emb == "yes"
    return fonts


@pytest.mark.django_db
@pytest.mark.parametrize(("variant", "profile"), [("pdf/ua-1", "ua1"), ("pdf/a-3b", "3b")])
def test_the_pdf_prints_every_name_with_real_glyphs(
    seed_document, tmp_path, variant: str, profile: str
) -> None:
    letter = import_letter(document=scripts_document(seed_document), publish=True).letter
    pdf = render_letter_pdf(letter, letter.signatory_lines(), variant=variant)

    # Reading order (not -raw), so that right-to-left text comes out in logical order.
    text = BIDI_MARKS.sub("", pdftotext(pdf, tmp_path, raw=False))
    lines = [line.strip() for line in text.splitlines()]
    assert [name for name in NAMES if name not in lines] == []
    # Glyphs from fonts that have them, embedded, never the fallback's empty boxes.
    fonts = embedded_fonts(pdf, tmp_path)
    assert fonts.get("Letter-Arabic") is True, fonts
    assert fonts.get("Noto-Serif-CJK-JP") is True, (
        f"{fonts}: install fonts-noto-cjk (make check-libs)"
    )
    assert all(fonts.values()), fonts
    failures = validation_failures(pdf, profile, tmp_path)
    assert not failures, f"{variant} fails:\n" + "\n".join(failures)


# -- Stored keys ----------------------------------------------------------------------------------

BEFORE, AFTER = ("coalition", "0008_member_portal"), ("coalition", "0009_unicode_name_keys")


@pytest.mark.django_db(transaction=True)
def test_the_migration_recomputes_stored_keys_and_keeps_the_first_of_a_collision(
    caplog, latest_migrations_after
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("coalition", "Organization")
    # As the ASCII key stored them: one non-Latin name could exist, with an empty key.
    rows = [
        ("Strasse Verband", "strasseverband"),
        ("Société Générale", "societegenerale"),
        (TOKYO, ""),
        ("Straße Verband", "straeverband"),  # the same name once ß is "ss"
        ("Old Guild", "merged:5"),  # a merge tombstone keeps its key
    ]
    created = [
        old.objects.create(name=name, name_key=key, slug=f"org-{n}", sort_name=name)
        for n, (name, key) in enumerate(rows)
    ]
    old.objects.filter(pk=created[4].pk).update(merged_into=created[0])

    executor = MigrationExecutor(connection)
    with caplog.at_level(logging.WARNING):
        executor.migrate([AFTER])

    keys = dict(Organization.objects.values_list("name", "name_key"))
    assert keys == {
        "Strasse Verband": "strasseverband",
        "Société Générale": "societegenerale",
        TOKYO: TOKYO,
        "Straße Verband": f"strasseverband~dup-{created[3].pk}",
        "Old Guild": "merged:5",
    }
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"Organization {created[3].pk} “Straße Verband”" in warning
    assert f"organization {created[0].pk} “Strasse Verband”" in warning
    # Now another organization in Japanese can join.
    OrganizationFactory(name=OSAKA)
