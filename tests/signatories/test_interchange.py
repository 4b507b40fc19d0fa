import copy
import json

import pytest
from django.core.management import CommandError, call_command

from coalition.crm.models import Organization
from letters.models import LetterIndexPage, LetterPage
from letters.versions import render_publication_pdf
from signatories.interchange import LetterDocumentError, export_letter, import_letter
from signatories.models import Signature
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        LetterPage.objects.count(),
        LetterIndexPage.objects.count(),
        Organization.objects.count(),
        Signature.objects.count(),
    )


def test_it_round_trips_the_seed_letter(seed_document):
    letter = import_letter(document=seed_document, publish=True).letter

    assert export_letter(letter) == seed_document


def test_it_creates_the_letter_index_where_there_is_none(seed_document):
    # A migrated database has one (letters migration 0014): staff may have deleted it since.
    LetterIndexPage.objects.all().delete()

    letter = import_letter(document=seed_document, publish=True).letter

    assert letter.get_parent().specific_class is LetterIndexPage
    assert letter.url == "/letters/joint-industry-letter-on-the-international-ai-agenda/"
    assert letter.live


def test_it_creates_missing_organizations_and_matches_existing_ones(seed_document):
    existing = OrganizationFactory(name="the national association of manufacturers!", acronym="")
    by_acronym = OrganizationFactory(name="Chamber of Progress (old name)", acronym="ccia")

    result = import_letter(document=seed_document)

    assert result.organizations_created == 12
    assert Organization.objects.count() == 14
    names = dict(Signature.objects.values_list("display_name", "organization_id"))
    assert names["National Association of Manufacturers (NAM)"] == existing.pk
    assert names["Computer & Communications Industry Association (CCIA)"] == by_acronym.pk


def test_it_imports_a_draft_without_publishing(seed_document):
    letter = import_letter(document=seed_document).letter

    assert not letter.live
    assert not letter.publications.exists()


def test_a_second_import_gets_its_own_slug(seed_document):
    first = import_letter(document=seed_document).letter
    second = import_letter(document=copy.deepcopy(seed_document)).letter

    assert first.slug != second.slug
    assert Organization.objects.count() == 14


MIXED = {
    "body": [
        {
            "type": "paragraph",
            "text": 'We <strong>support</strong> <em>this</em> <a href="https://example.org">bill</a>.<script>alert(1)</script>',
        },
        {"type": "numbered", "items": ["First<br>line", "Second & last"]},
    ],
    "cc": ["Senate Committee on Commerce"],
    "footnotes": ["See the 2024 report."],
    "dateline": "Brussels, 12 March 2025",
    "signatories": [
        {
            "name": "Friends of the Earth",
            "group": "Organizations",
            "website": "https://foe.example.org",
            "country": "BE",
        },
        {"name": "Acme Widgets Inc.", "group": "Businesses", "signer": "Ana Ruiz", "title": "CEO"},
        {
            "person": "Dr. Jane Roe",
            "title": "Professor",
            "affiliation": "University of Leuven",
            "group": "Individuals",
        },
        {
            "person": "John Smith",
            "display": "John Smith (personal capacity)",
            "group": "Individuals",
            "country": "FR",
        },
    ],
}


def test_it_imports_individuals_groups_and_inline_markup():
    letter = import_letter(document=copy.deepcopy(MIXED), publish=True).letter

    exported = export_letter(letter)

    assert exported["title"] == "We support this bill."
    assert exported["body"] == [
        {
            "type": "paragraph",
            "text": 'We <b>support</b> <i>this</i> <a href="https://example.org">bill</a>.',
        },
        {"type": "numbered", "items": ["First<br>line", "Second & last"]},
    ]
    assert exported["signatories"] == MIXED["signatories"]
    assert exported["dateline"] == "Brussels, 12 March 2025"
    assert exported["cc"] == MIXED["cc"]
    assert exported["footnotes"] == MIXED["footnotes"]
    assert [line.text for line in letter.signatory_lines()] == [
        "Friends of the Earth",
        "Acme Widgets Inc.",
        "Dr. Jane Roe, Professor, University of Leuven",
        "John Smith (personal capacity)",
    ]


def test_export_then_import_gives_an_equivalent_document():
    first = export_letter(import_letter(document=copy.deepcopy(MIXED)).letter)
    second = export_letter(import_letter(document=copy.deepcopy(first)).letter)

    assert {k: v for k, v in second.items() if k != "title"} == {
        k: v for k, v in first.items() if k != "title"
    }


def test_it_imports_a_letter_with_thousands_of_signatories(django_assert_max_num_queries):
    document = {
        "title": "Open letter",
        "body": [{"type": "paragraph", "text": "We agree."}],
        "signatories": [{"person": f"Person {i}", "affiliation": "Somewhere"} for i in range(2000)],
    }

    # A fixed number of queries, whatever the number of signatories (about 210 here).
    with django_assert_max_num_queries(250):
        letter = import_letter(document=document, publish=True).letter

    assert letter.signatures.count() == 2000
    assert len(letter.signatory_lines()) == 2000
    assert len(letter.publications.get().signatories) == 2000


def test_a_published_import_goes_through_the_publication_service(
    seed_document, django_capture_on_commit_callbacks
):
    # Not executed: the queued job would render the PDF.
    with django_capture_on_commit_callbacks() as callbacks:
        letter = import_letter(document=seed_document, publish=True).letter

    # Recorded once, by the service: Wagtail's page_published hook sees it went through it.
    publication = letter.publications.get()
    assert publication.circulated_at is None and publication.chain_head == ""
    assert publication.revision_id == letter.live_revision_id
    assert [line.text for line in publication.lines()] == [
        line.text for line in Signature.objects.printable_lines(letter)
    ]
    assert len(publication.signatories) == 14
    assert publication.chain_head == ""
    # Recorded once: one PDF job (the other hooks make cached public pages stale).
    renders = [c for c in callbacks if getattr(c, "func", None) == render_publication_pdf.enqueue]
    assert len(renders) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("body"), "$: 'body' is a required property"),
        (lambda d: d.__setitem__("body", []), "$.body: [] should be non-empty"),
        (
            lambda d: d["body"].append({"type": "quote", "text": "x"}),
            "$.body[17].type: unknown block type 'quote'; expected one of paragraph, heading, bullets, numbered",
        ),
        (
            lambda d: d["body"][10].__setitem__("text", 5),
            "$.body[10].text: 5 is not of type 'string'",
        ),
        (
            lambda d: d["body"][11].__setitem__("items", "one"),
            "$.body[11].items: 'one' is not of type 'array'",
        ),
        (
            lambda d: d.__setitem__("date", "12/03/2025"),
            "$.date: '12/03/2025' is not a date in the form YYYY-MM-DD",
        ),
        (
            lambda d: d.__setitem__("date", "2025-02-30"),
            "$.date: '2025-02-30' is not a date in the form YYYY-MM-DD",
        ),
        (
            lambda d: d.__setitem__("recipients", "The President"),
            "$.recipients: 'The President' is not of type 'array'",
        ),
        (
            lambda d: d["signatories"][2].__setitem__("person", "X"),
            "$.signatories[2]: give either name (an organization) or person (an individual), not both",
        ),
        (
            lambda d: d["signatories"][3].pop("name"),
            "$.signatories[3]: a signatory needs a name (an organization) or a person (an individual)",
        ),
        (
            lambda d: d["signatories"][4].__setitem__("country", "usa"),
            "$.signatories[4].country: 'usa' does not match '^[A-Z]{2}$'",
        ),
        (
            lambda d: d["signatories"][5].__setitem__("website", "javascript:alert(1)"),
            "$.signatories[5].website: 'javascript:alert(1)' is not an http(s) address",
        ),
        (
            lambda d: d["signatories"].append({"name": "the engine"}),
            "$.signatories[14].name: 'the engine' is already listed at $.signatories[4]",
        ),
        (
            lambda d: d.__setitem__("colour", "red"),
            "$: Additional properties are not allowed ('colour' was unexpected)",
        ),
    ],
)
def test_it_rejects_invalid_documents_with_paths_and_changes_nothing(
    seed_document, change, expected
):
    OrganizationFactory(name="Engine")
    before = counts()
    change(seed_document)

    with pytest.raises(LetterDocumentError) as raised:
        import_letter(document=seed_document, publish=True)

    assert expected in raised.value.problems
    assert counts() == before


def test_it_reports_every_problem_at_once(seed_document):
    seed_document["date"] = "soon"
    seed_document["body"][0] = {"type": "image"}
    seed_document["signatories"][0]["country"] = "us"

    with pytest.raises(LetterDocumentError) as raised:
        import_letter(document=seed_document)

    assert len(raised.value.problems) == 3


def test_it_rejects_a_document_that_is_not_an_object():
    with pytest.raises(LetterDocumentError) as raised:
        import_letter(document=["body"])

    assert raised.value.problems == ["$: a letter document must be a JSON object"]


def test_the_command_publishes_and_prints_the_url_last(tmp_path, seed_document, capsys):
    source = tmp_path / "letter.json"
    source.write_text(json.dumps(seed_document))

    call_command("import_letter", str(source), "--publish")

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "/letters/joint-industry-letter-on-the-international-ai-agenda/"
    assert "14 signatories" in lines[0]


def test_the_command_reports_invalid_json_with_its_position(tmp_path):
    source = tmp_path / "letter.json"
    source.write_text('{"body": [}')

    with pytest.raises(CommandError, match=r"not valid JSON: .* line 1, column 11"):
        call_command("import_letter", str(source))
    assert LetterPage.objects.count() == 0


def test_the_command_lists_problems_and_imports_nothing(tmp_path):
    source = tmp_path / "letter.json"
    source.write_text(json.dumps({"body": [{"type": "quote", "text": "x"}], "signatories": []}))

    before = counts()

    with pytest.raises(CommandError) as raised:
        call_command("import_letter", str(source))

    assert "nothing was imported" in str(raised.value)
    assert "$.body[0].type: unknown block type 'quote'" in str(raised.value)
    assert counts() == before == (0, 1, 0, 0)  # the archive a migrated database has


def test_the_export_command_writes_the_file(tmp_path, seed_document):
    letter = import_letter(document=seed_document, publish=True).letter
    target = tmp_path / "out.json"

    call_command("export_letter", letter.slug, "--output", str(target))

    assert json.loads(target.read_text()) == seed_document


def test_the_export_command_names_an_unknown_slug():
    with pytest.raises(CommandError, match="No letter has the slug 'nope'"):
        call_command("export_letter", "nope")
