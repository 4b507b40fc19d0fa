"""The signatory block at the end of a Word letter: recognized with or without a closing line,
typed, in a list, a table or two text columns, under group headings, and never a real last
paragraph taken for a name."""

import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coalition.crm.models import Organization
from letters.models import LetterPage
from letters.word import WordLetter, parse_signatory, read_word_letter
from letters.word_samples import start_columns
from signatories.models import Signature
from tests.factories import OrganizationFactory
from tests.letters.word_documents import save

BODY = [
    "We write to urge you to protect the open internet.",
    "We stand ready to work with you on this important question.",
]


def letter_with(*, closing: str = "", end=None) -> docx.Document:
    document = docx.Document()
    document.add_paragraph("Dear Commissioner,")
    for text in BODY:
        document.add_paragraph(text)
    if closing:
        document.add_paragraph(closing)
    if end is not None:
        end(document)
    return document


def read(document: docx.Document) -> WordLetter:
    return read_word_letter(io.BytesIO(save(document)), name="letter.docx")


def body_texts(letter: WordLetter) -> list[str]:
    return [block["value"].removeprefix("<p>").removesuffix("</p>") for block in letter.body]


def typed(*lines: str, style: str | None = None):
    def add(document: docx.Document) -> None:
        for line in lines:
            document.add_paragraph(line, style=style)

    return add


SEVERAL = (
    "Association of Widget Makers (AWM)",
    "Global Innovation Forum",
    "ACT | The App Association",
    "Engine",
)


def test_it_takes_the_lines_after_a_closing_as_signatories() -> None:
    letter = read(letter_with(closing="Sincerely,", end=typed(*SEVERAL)))

    assert letter.closing == "Sincerely,"
    assert body_texts(letter) == BODY
    assert letter.signatory_lines == list(SEVERAL)
    assert letter.signatories == [
        {"name": "Association of Widget Makers", "acronym": "AWM"},
        {"name": "Global Innovation Forum"},
        {"name": "The App Association", "acronym": "ACT", "display": "ACT | The App Association"},
        {"name": "Engine"},
    ]
    assert letter.notes == []


def test_it_recognizes_typed_signatories_without_a_closing_line() -> None:
    letter = read(letter_with(end=typed(*SEVERAL)))

    assert letter.closing == ""
    assert body_texts(letter) == BODY
    assert letter.signatory_lines == list(SEVERAL)


def test_it_recognizes_signatories_in_a_list_under_a_heading() -> None:
    def end(document: docx.Document) -> None:
        document.add_paragraph("Signatories", style="Heading 2")
        typed("Friends of the Earth", "Open Rights Group", style="List Bullet")(document)

    letter = read(letter_with(end=end))

    assert body_texts(letter) == BODY
    assert letter.signatories == [{"name": "Friends of the Earth"}, {"name": "Open Rights Group"}]


def test_it_reads_a_table_of_signatories_row_by_row() -> None:
    def end(document: docx.Document) -> None:
        table = document.add_table(rows=2, cols=2)
        for n, name in enumerate(["Widget Makers", "Acme Inc.", "Open Rights Group", "Engine"]):
            table.cell(n // 2, n % 2).text = name

    letter = read(letter_with(end=end))

    assert body_texts(letter) == BODY
    assert letter.signatory_lines == ["Widget Makers", "Acme Inc.", "Open Rights Group", "Engine"]
    # The table was the signatory block: nothing says a table was left out.
    assert letter.notes == []


def test_an_alphabetical_list_typed_down_each_column_of_a_table_reads_down() -> None:
    def end(document: docx.Document) -> None:
        table = document.add_table(rows=3, cols=2)
        names = ["Alpha Group", "Bravo Forum", "Charlie Trust", "Delta Union", "Echo Network"]
        for n, name in enumerate(names):
            table.cell(n % 3, n // 3).text = name

    letter = read(letter_with(closing="Sincerely,", end=end))

    assert letter.signatory_lines == [
        "Alpha Group",
        "Bravo Forum",
        "Charlie Trust",
        "Delta Union",
        "Echo Network",
    ]


def test_a_table_in_the_body_is_still_left_out_with_a_note() -> None:
    def end(document: docx.Document) -> None:
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "Spending rose by a third in two years, as the annex shows."
        document.add_paragraph("We count on your support for this proposal.")

    letter = read(letter_with(end=end))

    assert letter.notes == ["1 table(s) were left out: letters have no tables."]
    assert body_texts(letter) == [*BODY, "We count on your support for this proposal."]
    assert letter.signatories == []


def two_columns(document: docx.Document) -> None:
    start_columns(document, 2)


def test_it_recognizes_two_names_set_in_two_text_columns() -> None:
    def end(document: docx.Document) -> None:
        two_columns(document)
        typed("Open Rights Group", "Engine")(document)

    letter = read(letter_with(end=end))

    assert body_texts(letter) == BODY
    assert letter.signatory_lines == ["Open Rights Group", "Engine"]


def test_group_headings_individuals_and_identification_only() -> None:
    def end(document: docx.Document) -> None:
        document.add_paragraph("Organizations", style="Heading 2")
        typed("Friends of the Earth", "Consumer Technology Association (CTA)")(document)
        document.add_paragraph("Individuals (affiliations for identification only)").runs[
            0
        ].bold = True
        typed(
            "Dr. Jane Roe, Professor of Law, University of Leuven",
            "John Smith, Open Data Institute*",
            "Ana Ruiz, Hertie School (for identification only)",
            "* Affiliations are listed for identification purposes only.",
        )(document)

    letter = read(letter_with(closing="Sincerely,", end=end))

    individuals = "Individuals (affiliations for identification only)"
    assert letter.signatories == [
        {"name": "Friends of the Earth", "group": "Organizations"},
        {"name": "Consumer Technology Association", "acronym": "CTA", "group": "Organizations"},
        {
            "person": "Dr. Jane Roe",
            "title": "Professor of Law",
            "affiliation": "University of Leuven",
            "group": individuals,
        },
        {
            "person": "John Smith",
            "affiliation": "Open Data Institute",
            "display": "John Smith, Open Data Institute*",
            "group": individuals,
        },
        {
            "person": "Ana Ruiz",
            "affiliation": "Hertie School",
            "display": "Ana Ruiz, Hertie School (for identification only)",
            "group": individuals,
        },
    ]
    assert letter.footnotes == ["* Affiliations are listed for identification purposes only."]
    assert "kept as a footnote" in letter.notes[0]


def test_individuals_without_a_heading_read_as_people() -> None:
    letter = read(
        letter_with(
            closing="Sincerely,",
            end=typed("Jane Roe, University of Leuven", "Acme Widgets, Inc.", "Engine"),
        )
    )

    assert letter.signatories == [
        {"person": "Jane Roe", "affiliation": "University of Leuven"},
        {"name": "Acme Widgets, Inc."},
        {"name": "Engine"},
    ]


@pytest.mark.parametrize(
    "last",
    [
        "Thank you for your consideration.",
        "Together we can do it",
        "Together, for an open internet",
        "We look forward to hearing from you at your earliest convenience and remain available",
    ],
)
def test_a_short_last_paragraph_stays_in_the_body(last: str) -> None:
    letter = read(letter_with(end=typed(last)))

    assert body_texts(letter) == [*BODY, last]
    assert letter.signatories == []
    assert letter.notes == []


def test_unmarked_name_like_lines_stay_in_the_body_with_a_note() -> None:
    letter = read(letter_with(end=typed("Jane Roe", "Open Rights Group")))

    assert body_texts(letter) == [*BODY, "Jane Roe", "Open Rights Group"]
    assert letter.signatories == []
    assert letter.notes == [
        "The letter ends with 2 line(s) that may be signatories (Jane Roe; Open Rights Group), "
        "but nothing marks them as such (a closing line such as “Sincerely,”, a heading such as "
        "“Signatories”, a table or text columns): they were kept in the body. If they are "
        "signatories, add such a line before them and import the file again."
    ]


def test_a_sentence_announcing_the_signatories_marks_the_lines_after_it() -> None:
    def end(document: docx.Document) -> None:
        document.add_paragraph("This letter is signed by the following organizations:")
        typed("Jane Roe", "Open Rights Group")(document)

    letter = read(letter_with(end=end))

    assert body_texts(letter) == [*BODY, "This letter is signed by the following organizations:"]
    assert letter.signatory_lines == ["Jane Roe", "Open Rights Group"]


def test_a_list_the_body_introduces_stays_in_the_body() -> None:
    def end(document: docx.Document) -> None:
        document.add_paragraph("We ask you to:")
        typed(
            "Protect Digital Trade", "Fund the Research Agency", "Open Markets", style="List Bullet"
        )(document)

    letter = read(letter_with(end=end))

    assert [block["type"] for block in letter.body] == [
        "paragraph",
        "paragraph",
        "paragraph",
        "bullets",
    ]
    assert letter.signatories == []
    assert "may be signatories" in letter.notes[0]


@pytest.mark.parametrize(
    ("line", "group", "expected"),
    [
        ("Engine", "", {"name": "Engine"}),
        (
            "National Association of Manufacturers (NAM)",
            "",
            {"name": "National Association of Manufacturers", "acronym": "NAM"},
        ),
        ("Friends of the Earth (Belgium)", "", {"name": "Friends of the Earth (Belgium)"}),
        ("Jane Roe, CEO, Acme", "", {"person": "Jane Roe", "title": "CEO", "affiliation": "Acme"}),
        ("Jane Roe", "Individuals", {"person": "Jane Roe", "group": "Individuals"}),
        ("Acme, Inc.", "", {"name": "Acme, Inc."}),
    ],
)
def test_each_line_reads_as_an_interchange_signatory(line: str, group: str, expected: dict) -> None:
    assert parse_signatory(line, group=group) == expected


# On the import page -----------------------------------------------------------------------------


def signed_letter() -> bytes:
    def end(document: docx.Document) -> None:
        document.add_paragraph("Organizations", style="Heading 2")
        typed("Widget Makers Association (WMA)", "Open Rights Group", "Friends of the Earth")(
            document
        )
        document.add_paragraph("Individuals", style="Heading 2")
        typed("Jane Roe, Professor, University of Leuven")(document)

    return save(letter_with(end=end))


@pytest.fixture
def members(db) -> list[Organization]:
    return [
        OrganizationFactory(name="Widget Makers Association", acronym="WMA"),
        OrganizationFactory(name="Open Rights Group"),
    ]


def test_a_draft_lists_the_signatories_and_links_to_inviting_the_members(
    staff_client, letter, members
) -> None:
    response = staff_client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("signed.docx", signed_letter()), "way": "draft"},
        follow=True,
    )

    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert not created.signatures.exists()
    assert "Open Rights Group" not in str(created.body.raw_data)
    shown = [str(m) for m in response.context["messages"]]
    assert (
        "4 line(s) at the end of the letter were left out of the body as signatories: 2 match "
        "member organizations (Widget Makers Association, Open Rights Group); 1 are not members "
        "(Friends of the Earth); 1 are individuals (Jane Roe, Professor, University of Leuven)."
    ) in shown
    invite = reverse("signatories_admin:open") + "?organizations={}&organizations={}".format(
        *sorted(org.pk for org in members)
    )
    assert any(invite.replace("&", "&amp;") in message for message in shown)


def test_a_finished_letter_is_created_with_its_signatories_and_groups(
    staff_client, staff, letter, members
) -> None:
    response = staff_client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("signed.docx", signed_letter()), "way": "finished"},
    )

    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[created.pk])
    assert not created.live
    assert created.owner == staff
    assert [
        (s.display_name, s.group, s.organization_id)
        for s in created.signatures.order_by("position")
    ] == [
        ("Widget Makers Association (WMA)", "Organizations", members[0].pk),
        ("Open Rights Group", "Organizations", members[1].pk),
        (
            "Friends of the Earth",
            "Organizations",
            Organization.objects.get(name="Friends of the Earth").pk,
        ),
        ("Jane Roe, Professor, University of Leuven", "Individuals", None),
    ]
    assert set(created.signatures.values_list("status", flat=True)) == {Signature.Status.APPROVED}
    assert created.accepts_individuals


def test_a_finished_letter_without_signatories_is_refused_on_the_form(staff_client, letter) -> None:
    data = save(letter_with(end=typed("Thank you for your consideration.")))
    response = staff_client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("unsigned.docx", data), "way": "finished"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["document"] == [
        "No signatories were found at the end of “unsigned.docx”. Put a closing line such as "
        "“Sincerely,” or a heading such as “Signatories” before the list, or start a draft instead."
    ]
    assert LetterPage.objects.count() == 1


def test_a_finished_letter_with_a_problem_names_its_line_and_imports_nothing(
    staff_client, letter
) -> None:
    data = save(
        letter_with(closing="Sincerely,", end=typed("Engine", "Open Rights Group", "ENGINE"))
    )
    response = staff_client.post(
        reverse("letters_admin:import_word"),
        {"document": SimpleUploadedFile("twice.docx", data), "way": "finished"},
    )

    assert response.context["form"].errors["document"] == [
        "“twice.docx”: 1 problem(s); nothing was imported: $.signatories[2].name: 'ENGINE' is "
        "already listed at $.signatories[0] (the signatory line “ENGINE” in the Word file)"
    ]
    assert LetterPage.objects.count() == 1
    assert not Organization.objects.filter(name="Engine").exists()


def test_a_long_finished_letter_is_imported_in_the_background(
    staff_client, letter, django_capture_on_commit_callbacks
) -> None:
    from letters.models import WordImportJob
    from letters.views import SYNC_PARAGRAPHS

    names = [f"Widget Makers Association {n}" for n in range(SYNC_PARAGRAPHS + 20)]
    data = save(letter_with(closing="Sincerely,", end=typed(*names)))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = staff_client.post(
            reverse("letters_admin:import_word"),
            {"document": SimpleUploadedFile("long.docx", data), "way": "finished"},
        )
    job = WordImportJob.objects.get()
    assert response["Location"] == reverse("letters_admin:word_import", args=[job.pk])

    for callback in queued:  # the job, run by the (immediate, in tests) background backend
        callback()

    job.refresh_from_db()
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert job.status == WordImportJob.Status.DONE
    assert job.letter_id == created.pk
    assert created.signatures.count() == len(names)
    assert job.notes[0] == (
        f"{len(names)} signatories imported ({len(names)} new organizations): publish the letter "
        "to print them with its PDF."
    )


def test_the_demo_sample_reads_with_its_groups_and_note() -> None:
    from letters.word_samples import INDIVIDUALS, ORGANIZATIONS, sample_signed_letter_docx

    letter = read_word_letter(io.BytesIO(sample_signed_letter_docx()), name="sample.docx")

    assert letter.title == "Joint statement on open digital markets"
    assert letter.dateline == "Brussels, 12 March 2025"
    assert letter.closing == ""
    assert letter.signatory_lines == [*ORGANIZATIONS, *INDIVIDUALS]
    assert {s["group"] for s in letter.signatories} == {"Organizations", "Individuals"}
    assert letter.footnotes == ["* Affiliations are listed for identification purposes only."]
    assert [block["type"] for block in letter.body] == ["paragraph", "section", "paragraph"]
