"""Hostile files: each finding of the probe reproduced, then held off.

The Word import, the members import (CSV and XLSX) and the letter interchange (JSON) each met a
small file that cost minutes, gigabytes or a 500. The files are made here.
"""

import io
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from letters.models import LetterPage
from letters.views import SYNC_PARAGRAPHS
from letters.word import MAX_PARAGRAPHS, PROGRESS_EVERY, WordImportError, read_word_letter
from tests.hostile import (
    docx_with_huge_part,
    docx_with_paragraphs,
    nested_json,
    within,
    xlsx_bomb,
    xlsx_with_dimension,
    xlsx_without_dimension,
)


def read(data: bytes, **kwargs):
    return read_word_letter(io.BytesIO(data), name="letter.docx", **kwargs)


@pytest.fixture(scope="module")
def longest() -> bytes:
    """The longest letter a Word import accepts (with its date, salutation and closing)."""
    return docx_with_paragraphs(MAX_PARAGRAPHS - 3)


@pytest.fixture(scope="module")
def long_letter() -> bytes:
    """Long enough to be read in the background (SYNC_PARAGRAPHS), short enough to be quick."""
    return docx_with_paragraphs(SYNC_PARAGRAPHS + 100)


# A small Word file stalls the site ------------------------------------------------------------


@pytest.mark.parametrize("paragraphs", [8000, 100_000])
def test_a_word_file_of_many_paragraphs_is_refused_at_once_naming_the_limit(
    paragraphs: int,
) -> None:
    # The probe's files: 8,000 paragraphs (45 KB) took 55 s, 100,000 (127 KB) nine minutes,
    # holding SQLite's write lock all along.
    data = docx_with_paragraphs(paragraphs)
    assert len(data) < 400_000  # a small upload: the work, not the bytes, is the attack
    started = time.perf_counter()
    with within(10), pytest.raises(WordImportError) as refused:
        read(data)
    assert time.perf_counter() - started < 5
    assert str(refused.value) == (
        f"“letter.docx” has {paragraphs + 3:,} paragraphs; the limit is {MAX_PARAGRAPHS:,}. "
        "A letter that long is better split."
    )


def test_a_word_file_that_unpacks_to_hundreds_of_megabytes_is_refused_before_it_is_parsed() -> None:
    data = docx_with_huge_part(40)
    assert len(data) < 1_000_000
    with within(10), pytest.raises(WordImportError, match=r"unpacks to 40 MB.*the limit is"):
        read(data)


def test_the_longest_word_file_accepted_is_read_in_seconds(longest: bytes) -> None:
    # Before: about 7 ms a paragraph (each looked its style up among all the styles), 14 s.
    with within(60):
        started = time.perf_counter()
        letter = read(longest)
        elapsed = time.perf_counter() - started
    assert len(letter.body) == MAX_PARAGRAPHS - 3
    assert letter.salutation == "Dear Secretary:"
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_reading_stops_at_its_time_limit_with_a_clear_message(longest: bytes) -> None:
    with pytest.raises(WordImportError, match=r"longer than 0 s to read"):
        read(longest, time_limit=0)


def test_reading_reports_its_progress(long_letter: bytes) -> None:
    seen: list[tuple[int, int]] = []
    read(long_letter, progress=lambda done, total: seen.append((done, total)))
    total = SYNC_PARAGRAPHS + 103  # the date, salutation and closing around the paragraphs
    steps = list(range(PROGRESS_EVERY, total, PROGRESS_EVERY))
    assert seen == [(done, total) for done in [*steps, total]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_word_file_is_read_before_the_write_transaction(monkeypatch, staff, letter) -> None:
    from letters import services

    seen: list[bool] = []
    real = services.read_word_letter

    def spy(*args, **kwargs):
        from django.db import connection

        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "read_word_letter", spy)
    upload = io.BytesIO(docx_with_paragraphs(10))
    services.create_letter_from_word(
        upload=upload, name="short.docx", user=staff, index=letter.get_parent().specific
    )
    assert seen == [False]


def test_a_short_word_file_still_lands_in_its_editor(staff_client, letter) -> None:
    upload = SimpleUploadedFile("short.docx", docx_with_paragraphs(20))
    response = staff_client.post(reverse("letters_admin:import_word"), {"document": upload})
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[created.pk])


def test_a_long_word_file_is_imported_in_the_background_with_progress(
    staff_client, letter, long_letter: bytes, django_capture_on_commit_callbacks
) -> None:
    from letters.models import WordImportJob as WordImport

    upload = SimpleUploadedFile("long.docx", long_letter)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = staff_client.post(reverse("letters_admin:import_word"), {"document": upload})
    job = WordImport.objects.get()
    status_url = reverse("letters_admin:word_import", args=[job.pk])
    assert response.status_code == 302
    assert response["Location"] == status_url
    assert not LetterPage.objects.exclude(pk=letter.pk).exists()
    waiting = staff_client.get(status_url)
    assert waiting.status_code == 200
    assert "long.docx" in waiting.text
    assert "Waiting for the task worker" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text

    for callback in queued:  # the job, run by the (immediate, in tests) background backend
        callback()
    job.refresh_from_db()
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    assert job.status == WordImport.Status.DONE
    assert job.letter_id == created.pk
    assert job.document == b""  # the upload is gone once imported
    assert len(created.body) == SYNC_PARAGRAPHS + 100
    done = staff_client.get(status_url)
    assert done.status_code == 302
    assert done["Location"] == reverse("wagtailadmin_pages:edit", args=[created.pk])


def test_the_longest_letter_imported_from_word_can_be_saved_in_its_editor(
    staff_client, letter, longest: bytes, django_capture_on_commit_callbacks
) -> None:
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    upload = SimpleUploadedFile("longest.docx", longest)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("letters_admin:import_word"), {"document": upload})
    created = LetterPage.objects.exclude(pk=letter.pk).get()
    editor = staff_client.get(response["Location"], follow=True)
    assert editor.redirect_chain[-1][0] == reverse("wagtailadmin_pages:edit", args=[created.pk])
    # What the editor posts back: four fields a block, and its id (Django allowed 1,000).
    body = [(block.block_type, rich_text(block.value.source)) for block in created.body]
    data = nested_form_data(
        {"title": created.title, "slug": created.slug, "body": streamfield(body)}
    )
    data.update({f"body-{i}-id": block.id for i, block in enumerate(created.body)})
    saved = staff_client.post(reverse("wagtailadmin_pages:edit", args=[created.pk]), data)
    assert saved.status_code == 302
    created.refresh_from_db()
    assert created.revisions.count() == 2


def test_the_progress_page_shows_how_far_the_job_is(staff_client, letter, staff) -> None:
    from letters.models import WordImportJob as WordImport

    job = WordImport.objects.create(
        name="long.docx",
        created_by=staff,
        status=WordImport.Status.READING,
        done=2000,
        total=8004,
    )
    page = staff_client.get(reverse("letters_admin:word_import", args=[job.pk]))
    assert "Reading paragraphs: 2,000 of 8,004" in page.text
    assert '<progress max="8004" value="2000">' in page.text


def test_a_failed_background_import_says_why(staff_client, letter, staff) -> None:
    from letters.models import WordImportJob as WordImport
    from letters.services import run_word_import

    job = WordImport.objects.create(
        name="bad.docx", created_by=staff, document=b"not a zip", total=0
    )
    run_word_import(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == WordImport.Status.FAILED
    assert job.document == b""
    page = staff_client.get(reverse("letters_admin:word_import", args=[job.pk]))
    assert "is not a Word .docx document" in page.text
    assert reverse("letters_admin:import_word") in page.text


def test_someone_elses_import_is_not_shown(client, letter, staff) -> None:
    from letters.models import WordImportJob as WordImport
    from tests.factories import StaffFactory

    job = WordImport.objects.create(name="theirs.docx", created_by=staff)
    client.force_login(StaffFactory(username="other", email="other@example.org"))
    assert client.get(reverse("letters_admin:word_import", args=[job.pk])).status_code == 404


def test_a_word_file_over_the_limits_is_refused_on_the_form(staff_client, letter) -> None:
    upload = SimpleUploadedFile("huge.docx", docx_with_paragraphs(MAX_PARAGRAPHS + 10))
    with within(20):
        response = staff_client.post(reverse("letters_admin:import_word"), {"document": upload})
    assert response.status_code == 200
    [error] = response.context["form"].errors["document"]
    assert f"the limit is {MAX_PARAGRAPHS:,}" in error


# Uploads without bounds -----------------------------------------------------------------------

MEMBERS_HEADER = ["name", "contact_name", "contact_email"]


def csv_bytes(rows: list[list[str]], header: list[str] = MEMBERS_HEADER) -> bytes:
    return ("\r\n".join(",".join(row) for row in [header, *rows]) + "\r\n").encode()


def dry_run(data: bytes, filename: str = "members.csv"):
    from coalition.crm.imports import import_members

    return import_members(data=data, filename=filename, dry_run=True)


def check_the_file(client, data: bytes, name: str):
    upload = SimpleUploadedFile(name, data)
    return client.post(reverse("coalition_import:index"), {"file": upload})


@pytest.mark.django_db
def test_an_xlsx_without_a_dimension_tag_stops_at_the_row_cap() -> None:
    from coalition.crm.imports import MAX_ROWS

    # The probe's file: 94 KB, no <dimension>, 300,000 rows: 30 s, 566 MB, a 47 MB error page.
    rows = (["Same organization", "Ann", "not an email"] for _ in range(3 * MAX_ROWS))
    data = xlsx_without_dimension(MEMBERS_HEADER, rows)
    with within(60):
        report = dry_run(data, "members.xlsx")
    assert report.errors == [
        f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,} (besides the "
        "header). Split it into smaller files."
    ]


@pytest.mark.django_db
def test_a_dimension_tag_that_says_less_than_the_sheet_holds_cuts_no_row_off() -> None:
    rows = [[f"Organization {i}", "", ""] for i in range(10)]
    report = dry_run(xlsx_with_dimension(MEMBERS_HEADER, rows, "A1:C2"), "members.xlsx")
    assert report.errors == []
    assert [row.organization for row in report.rows] == [f"Organization {i}" for i in range(10)]


@pytest.mark.django_db
def test_a_dimension_tag_that_says_more_pads_nothing() -> None:
    rows = [[f"Organization {i}", "", ""] for i in range(3)]
    data = xlsx_with_dimension(MEMBERS_HEADER, rows, "A1:XFD1048576")
    with within(20):
        report = dry_run(data, "members.xlsx")
    assert report.errors == []
    assert len(report.rows) == 3


@pytest.mark.django_db
def test_a_csv_over_the_row_cap_is_refused_naming_the_limit() -> None:
    from coalition.crm.imports import MAX_ROWS

    data = csv_bytes([[f"Organization {i}", "", ""] for i in range(MAX_ROWS + 1)])
    report = dry_run(data)
    assert report.errors == [
        f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,} (besides the "
        "header). Split it into smaller files."
    ]


def test_an_upload_over_the_size_cap_is_refused_on_the_form_naming_the_limit(
    staff_client,
) -> None:
    from coalition.crm.imports import MAX_UPLOAD_BYTES

    # The probe's 50 MB CSV used 505 MB; anything past the cap is refused before it is read.
    row = b"Organization,Ann,ann@example.org\r\n"
    data = b"name,contact_name,contact_email\r\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1)
    response = check_the_file(staff_client, data, "members.csv")
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        f"“members.csv” is {len(data) / 1_048_576:.1f} MB; the limit is "
        f"{MAX_UPLOAD_BYTES // 1_048_576} MB. Split it into smaller files."
    ]


def test_the_errors_listed_are_capped_and_say_how_many_more(staff_client) -> None:
    from coalition.crm.views import MAX_REPORT_ERRORS

    data = csv_bytes([[f"Organization {i}", "Ann", "not an email"] for i in range(1500)])
    response = check_the_file(staff_client, data, "members.csv")
    assert response.status_code == 200
    assert len(response.context["errors"]) == MAX_REPORT_ERRORS
    assert f"… and {1500 - MAX_REPORT_ERRORS:,} more problems, not listed" in response.text
    assert len(response.content) < 100_000


# Bytes that a database refuses ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("character", "described"),
    [("\x00", "U+0000 NUL"), ("\x1b", "U+001B ESC"), ("\x07", "U+0007"), ("\x85", "U+0085")],
)
def test_a_control_character_is_refused_in_the_dry_run_by_row_and_column(
    character: str, described: str
) -> None:
    data = csv_bytes(
        [
            ["Widget Makers", "Ann", "ann@widgets.example"],
            ["Gadget Makers", f"Bob{character} Lee", "bob@gadgets.example"],
        ]
    )
    report = dry_run(data)
    assert report.errors == [
        f"Row 3, column contact_name: holds a control character ({described}), which the "
        "database refuses or nobody meant; remove it."
    ]


@pytest.mark.django_db
def test_a_nul_in_the_column_names_is_refused() -> None:
    data = csv_bytes([["Widget Makers", "Ann", "ann@widgets.example"]], ["name", "contact\x00"])
    report = dry_run(data)
    # Listed with every other problem of the header (the column is unknown too).
    assert (
        "Row 1, column 2: the column name holds a control character (U+0000 NUL); remove it."
    ) in report.errors


def test_a_nul_byte_never_reaches_the_database_through_the_web_form(staff_client) -> None:
    from coalition.crm.models import Organization

    # Before: the dry run passed, and the import failed with a 500 on PostgreSQL.
    data = csv_bytes([["Widget\x00 Makers", "Ann", "ann@widgets.example"]])
    response = check_the_file(staff_client, data, "members.csv")
    assert response.status_code == 200
    assert not response.context["token"]
    assert "Row 2, column name: holds a control character (U+0000 NUL)" in response.text
    assert not Organization.objects.filter(name__startswith="Widget").exists()


@pytest.mark.django_db
def test_an_unclosed_quote_that_swallows_the_next_lines_is_reported_with_its_row() -> None:
    data = (
        b"name,contact_name,contact_email\r\n"
        b'"Widget Makers,Ann,ann@widgets.example\r\n'
        b"Gadget Makers,Bob,bob@gadgets.example\r\n"
        b"Gizmo Makers,Cid,cid@gizmos.example\r\n"
    )
    report = dry_run(data)
    assert report.errors == [
        "Row 2, column name: the cell runs over lines 2 to 4 of the file and takes in 2 "
        "line(s) that look like rows of their own, such as “Gadget Makers,Bob,bob@gadgets."
        'example”. Is a quote (") opened there and not closed?'
    ]


@pytest.mark.django_db
def test_a_quote_left_open_for_longer_than_a_cell_can_be_says_where() -> None:
    data = b"name,contact_name\r\n" + b'"Widget Makers,Ann\r\n' + b"Gadget Makers,Bob\r\n" * 9000
    report = dry_run(data)
    assert report.errors == [
        "The file cannot be read as CSV after line 1: field larger than field limit "
        '(131072). Is a quote (") opened there and not closed?'
    ]


@pytest.mark.django_db
def test_a_description_of_several_lines_is_no_unclosed_quote() -> None:
    header = ["name", "description", "contact_name", "contact_email"]
    data = csv_bytes(
        [["Widget Makers", '"We make widgets.\nAnd, since 1950, gadgets."', "Ann", "a@w.example"]],
        header,
    )
    report = dry_run(data)
    assert report.errors == []
    assert report.rows[0].organization == "Widget Makers"


@pytest.mark.parametrize(
    "name",
    ["nul.csv", "quote.csv", "rows.xlsx", "binary.csv", "bomb.xlsx", "wide.csv", "empty.xlsx"],
)
def test_the_web_form_never_fails_on_a_hostile_file(staff_client, name: str) -> None:
    from coalition.crm.imports import MAX_ROWS

    files = {
        "nul.csv": lambda: csv_bytes([["Widget\x00 Makers", "Ann", "ann@widgets.example"]]),
        "quote.csv": lambda: b'name\r\n"Widget\r\nGadget,Bob\r\n',
        "rows.xlsx": lambda: xlsx_without_dimension(
            MEMBERS_HEADER, (["Same", "", ""] for _ in range(MAX_ROWS + 10))
        ),
        "binary.csv": lambda: bytes(range(256)) * 40,
        "bomb.xlsx": lambda: xlsx_bomb(),
        "wide.csv": lambda: b"," * 100_000 + b"name\r\nWidget\r\n",
        "empty.xlsx": lambda: b"PK\x03\x04" + b"\0" * 100,
    }
    response = check_the_file(staff_client, files[name](), name)
    assert response.status_code == 200
    assert not response.context["token"]
    assert response.context["report"] is None or response.context["errors"]


# JSON import tracebacks -------------------------------------------------------------------------


def letter_document(*signatories: dict, **fields) -> dict:
    return {
        "title": "A letter",
        "body": [{"type": "paragraph", "text": "We write."}],
        "signatories": list(signatories),
        **fields,
    }


def written() -> tuple[int, int, int]:
    from coalition.crm.models import Organization
    from signatories.models import Signature

    return LetterPage.objects.count(), Organization.objects.count(), Signature.objects.count()


def import_file(tmp_path, text: str) -> str:
    """What the command says, as it exits non-zero."""
    from django.core.management import CommandError, call_command

    source = tmp_path / "letter.json"
    source.write_text(text)
    with pytest.raises(CommandError) as refused:
        call_command("import_letter", str(source))
    return str(refused.value)


@pytest.mark.django_db
def test_deep_nesting_is_a_listed_problem_with_its_path(tmp_path) -> None:
    # Before: RecursionError, a traceback.
    said = import_file(tmp_path, nested_json(100_000))
    assert said.endswith(
        "1 problem(s); nothing was imported:\n"
        "  $.title[0][0][0][0][0][0][0][0][0]: nested more than 10 levels deep; a letter "
        "document nests four levels at most"
    )
    assert written() == (0, 0, 0)


@pytest.mark.parametrize("depth", [12, 400])
def test_deep_nesting_that_parses_is_refused_before_the_schema_quotes_it(depth: int) -> None:
    from signatories.interchange import validate_document

    document = json.loads(nested_json(depth, inside="signatories"))
    assert validate_document(document) == [
        "$.signatories[0][0][0][0][0][0][0][0][0]: nested more than 10 levels deep; a letter "
        "document nests four levels at most"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signatory", "problem"),
    [
        ({"name": "W" * 300}, "$.signatories[0].name: 300 characters; the limit is 255"),
        (
            {"name": "Widget Makers", "display": "D" * 600},
            "$.signatories[0].display: 600 characters; the limit is 255",
        ),
        (
            {"name": "Widget Makers", "acronym": "A" * 60},
            "$.signatories[0].acronym: 60 characters; the limit is 50",
        ),
        (
            {"name": "Widget Makers", "signer": "S" * 201},
            "$.signatories[0].signer: 201 characters; the limit is 200",
        ),
        (
            {"name": "Widget Makers", "title": "T" * 201},
            "$.signatories[0].title: 201 characters; the limit is 200",
        ),
        (
            {"name": "Widget Makers", "group": "G" * 101},
            "$.signatories[0].group: 101 characters; the limit is 100",
        ),
        (
            {"name": "Widget Makers", "website": "https://example.org/" + "w" * 200},
            "$.signatories[0].website: 220 characters; the limit is 200",
        ),
        ({"person": "P" * 201}, "$.signatories[0].person: 201 characters; the limit is 200"),
        (
            {"person": "Ann Lee", "affiliation": "A" * 301},
            "$.signatories[0].affiliation: 301 characters; the limit is 300",
        ),
        (
            {"person": "Ann Lee", "display": "D" * 501},
            "$.signatories[0].display: 501 characters; the limit is 500",
        ),
        (
            {"person": "P" * 150, "title": "T" * 200, "affiliation": "A" * 200},
            "$.signatories[0]: the line printed from person, title and affiliation is 554 "
            "characters; the limit is 500",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_an_over_long_field_is_listed_with_its_path_before_anything_is_written(
    signatory: dict, problem: str
) -> None:
    from signatories.interchange import LetterDocumentError, import_letter

    # Before: SQLite stored them whole, PostgreSQL failed with a DataError traceback.
    with pytest.raises(LetterDocumentError) as refused:
        import_letter(document=letter_document(signatory))
    assert refused.value.problems == [problem]
    assert written() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["salutation", "closing"])
def test_an_over_long_letter_field_is_listed_with_its_path(field: str) -> None:
    from signatories.interchange import LetterDocumentError, import_letter

    document = letter_document({"name": "Widget Makers"}, **{field: "x" * 256})
    with pytest.raises(LetterDocumentError) as refused:
        import_letter(document=document)
    assert refused.value.problems == [f"$.{field}: 256 characters; the limit is 255"]
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_every_over_long_field_is_listed_at_once_and_the_command_exits_non_zero(
    tmp_path,
) -> None:
    document = letter_document(
        {"name": "Widget Makers", "display": "D" * 600},
        {"name": "Gadget Makers"},
        {"person": "Ann Lee", "affiliation": "A" * 400},
    )
    said = import_file(tmp_path, json.dumps(document))
    assert said.endswith(
        "2 problem(s); nothing was imported:\n"
        "  $.signatories[0].display: 600 characters; the limit is 255\n"
        "  $.signatories[2].affiliation: 400 characters; the limit is 300"
    )
    assert "Traceback" not in said
    assert written() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "character"), [("Widget\\u0000 Makers", "U+0000"), ("Widget\\ud800", "U+D800")]
)
def test_characters_the_database_refuses_are_listed_with_their_path(
    tmp_path, text: str, character: str
) -> None:
    document = json.dumps(letter_document({"name": "NAME"})).replace("NAME", text)
    said = import_file(tmp_path, document)
    assert (
        f"$.signatories[0].name: holds a control character ({character}), which the database "
        "refuses or nobody meant; remove it"
    ) in said
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_a_number_too_long_to_read_is_a_listed_problem(tmp_path) -> None:
    # Before: json.loads raised ValueError, which the command did not expect: a traceback.
    said = import_file(tmp_path, '{"title": 1' + "0" * 5000 + "}")
    assert "1 problem(s); nothing was imported:\n  $: not valid JSON: Exceeds the limit" in said


def test_too_many_signatories_are_refused_before_the_schema_runs() -> None:
    from signatories.interchange import MAX_SIGNATORIES, validate_document

    document = letter_document(*({"name": f"Org {i}"} for i in range(MAX_SIGNATORIES + 1)))
    assert validate_document(document) == [
        f"$.signatories: {MAX_SIGNATORIES + 1:,} signatories; the limit is "
        f"{MAX_SIGNATORIES:,}. Split the list, or ask for the limit to be raised."
    ]


# A 10,000-signatory import holds one write transaction for minutes ----------------------------


def many_signatories(count: int, prefix: str = "Association") -> dict:
    return letter_document(
        *(
            {"name": f"{prefix} {i} of Widget Makers", "acronym": f"{prefix[:3]}{i}"}
            for i in range(count)
        )
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_writes_in_one_short_transaction_whatever_its_length(
    django_capture_on_commit_callbacks,
) -> None:
    from django.db import connection

    from signatories.interchange import import_letter

    def write(document: dict) -> list[float]:
        """When each query inside the import's write transaction ran."""
        inside: list[float] = []

        def note(execute, sql, params, many, context):
            if connection.in_atomic_block:
                inside.append(time.perf_counter())
            return execute(sql, params, many, context)

        with connection.execute_wrapper(note), django_capture_on_commit_callbacks(execute=False):
            import_letter(document=document)
        return inside

    write(many_signatories(1, "Warm-up"))  # the archive is made once
    short = write(many_signatories(100, "Short"))
    started = time.perf_counter()
    long = write(many_signatories(1000, "Long"))
    total = time.perf_counter() - started
    print(
        f"1,000 signatories: import {total:.2f} s, of which {len(long)} queries in one "
        f"transaction of {long[-1] - long[0]:.2f} s (100: {len(short)} queries)"
    )
    # Before: each organization saved, indexed and looked up in turn inside the transaction:
    # 1,000 signatories took about 20,000 queries and 24 s, 10,000 several minutes. Now the
    # queries are the page's and one insert per 500 rows.
    assert len(long) - len(short) <= 4
    assert written() == (3, 1101, 1101)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_that_fails_while_writing_leaves_nothing_behind(monkeypatch) -> None:
    from django.db import IntegrityError

    from signatories.interchange import import_letter
    from signatories.models import Signature

    def refuse(*args, **kwargs):
        raise IntegrityError("refused for the test")

    monkeypatch.setattr(Signature.objects, "bulk_create", refuse)
    with pytest.raises(IntegrityError):
        import_letter(document=many_signatories(50))
    assert written() == (0, 0, 0)


# A letter document without bounds on its body ---------------------------------------------------


def paragraphs(count: int, length: int = 40) -> list[dict]:
    return [{"type": "paragraph", "text": "w" * (length - 1) + "."} for _ in range(count)]


def test_a_body_of_30000_paragraphs_is_refused_at_once_naming_the_limit() -> None:
    from signatories.interchange import MAX_BODY_PARAGRAPHS, validate_document

    # The probe's document: seven minutes to import, a 3.3 MB page.
    document = letter_document({"name": "Widget Makers"}, body=paragraphs(30_000, 10))
    started = time.perf_counter()
    problems = validate_document(document)
    assert time.perf_counter() - started < 5
    assert problems == [
        f"$.body: 30,000 paragraphs, headings and list items; the limit is "
        f"{MAX_BODY_PARAGRAPHS:,}. A letter that long is better split."
    ]


def test_list_items_count_as_the_paragraphs_they_are() -> None:
    from signatories.interchange import MAX_BODY_PARAGRAPHS, validate_document

    items = ["An ask."] * (MAX_BODY_PARAGRAPHS - 1)
    document = letter_document(
        {"name": "Widget Makers"},
        body=[*paragraphs(2), {"type": "bullets", "items": items}],
    )
    assert validate_document(document) == [
        f"$.body: {MAX_BODY_PARAGRAPHS + 1:,} paragraphs, headings and list items; the limit is "
        f"{MAX_BODY_PARAGRAPHS:,}. A letter that long is better split."
    ]


@pytest.mark.django_db
def test_the_longest_body_accepted_imports_in_seconds() -> None:
    from signatories.interchange import (
        MAX_BODY_CHARACTERS,
        MAX_BODY_PARAGRAPHS,
        import_letter,
    )

    length = MAX_BODY_CHARACTERS // MAX_BODY_PARAGRAPHS
    document = letter_document(
        {"name": "Widget Makers"}, body=paragraphs(MAX_BODY_PARAGRAPHS, length)
    )
    started = time.perf_counter()
    with within(120):
        letter = import_letter(document=document).letter
    print(f"{MAX_BODY_PARAGRAPHS:,} paragraphs: {time.perf_counter() - started:.1f} s")
    assert len(letter.body) == MAX_BODY_PARAGRAPHS


@pytest.mark.django_db
def test_a_3_mb_paragraph_is_refused_by_its_path(tmp_path) -> None:
    from signatories.interchange import MAX_BODY_CHARACTERS, MAX_PARAGRAPH_CHARACTERS

    body = [*paragraphs(1), {"type": "paragraph", "text": "w" * 3_000_000}]
    said = import_file(tmp_path, json.dumps(letter_document({"name": "Widget Makers"}, body=body)))
    assert said.endswith(
        "2 problem(s); nothing was imported:\n"
        f"  $.body: 3,000,040 characters in all; the limit is {MAX_BODY_CHARACTERS:,}. A letter "
        "that long is better split.\n"
        f"  $.body[1].text: at most {MAX_PARAGRAPH_CHARACTERS:,} characters (this paragraph has "
        "3,000,000)"
    )
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_a_200000_character_addressee_line_is_a_listed_problem_not_a_traceback(tmp_path) -> None:
    # Before: the letter's own validator refused it while its first revision was saved.
    document = letter_document(
        {"name": "Widget Makers"}, recipients=["The President", "R" * 200_000]
    )
    said = import_file(tmp_path, json.dumps(document))
    assert said.endswith(
        "1 problem(s); nothing was imported:\n"
        "  $.recipients[1]: at most 500 characters (this line has 200,000)"
    )
    assert "Traceback" not in said
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_every_text_of_the_letter_over_its_own_limit_is_listed_at_once() -> None:
    from signatories.interchange import LetterDocumentError, import_letter

    document = letter_document(
        {"name": "Widget Makers"},
        body=[
            {"type": "heading", "text": "H" * 501},
            {"type": "paragraph", "text": "P" * 10_001},
            {"type": "numbered", "items": ["Fine.", "I" * 10_002]},
        ],
        recipients=["R" * 501],
        cc=["Fine", "C" * 600],
        footnotes=["F" * 10_003],
        salutation="S" * 256,
    )
    with pytest.raises(LetterDocumentError) as refused:
        import_letter(document=document)
    assert refused.value.problems == [
        "$.body[0].text: at most 500 characters (this heading has 501)",
        "$.body[1].text: at most 10,000 characters (this paragraph has 10,001)",
        "$.body[2].items[1]: at most 10,000 characters (this item has 10,002)",
        "$.recipients[0]: at most 500 characters (this line has 501)",
        "$.cc[1]: at most 500 characters (this line has 600)",
        "$.footnotes[0]: at most 10,000 characters (this footnote has 10,003)",
    ]
    # The salutation is the letter's own column: its limit is found when the letter is built.
    del document["body"][:], document["recipients"], document["cc"], document["footnotes"]
    document["body"] = paragraphs(1)
    with pytest.raises(LetterDocumentError) as refused:
        import_letter(document=document)
    assert refused.value.problems == ["$.salutation: 256 characters; the limit is 255"]
    assert written() == (0, 0, 0)


@pytest.mark.parametrize("key", ["recipients", "cc", "footnotes"])
def test_too_many_lines_are_refused(key: str) -> None:
    from signatories.interchange import MAX_LINES, validate_document

    document = letter_document({"name": "Widget Makers"}, **{key: ["A line."] * (MAX_LINES + 1)})
    assert validate_document(document) == [
        f"$.{key}: {MAX_LINES + 1:,} lines; the limit is {MAX_LINES:,}"
    ]


@pytest.mark.django_db
def test_what_the_letter_refuses_when_saved_is_listed_before_anything_is_written(
    monkeypatch,
) -> None:
    from signatories import interchange
    from signatories.interchange import validation

    # Were a bound of the document looser than the letter's own, the letter's validators would
    # still be run before the write, and their messages listed by path.
    monkeypatch.setattr(validation, "MAX_LINE_CHARACTERS", 1_000_000)
    document = letter_document({"name": "Widget Makers"}, recipients=["R" * 600])
    with pytest.raises(interchange.LetterDocumentError) as refused:
        interchange.import_letter(document=document)
    assert refused.value.problems == ["$.recipients: Each line must be at most 500 characters."]
    assert written() == (0, 0, 0)


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch) -> None:
    from django.core.management import CommandError, call_command

    from signatories.management.commands import import_letter as command

    monkeypatch.setattr(command, "MAX_DOCUMENT_BYTES", 1_048_576)
    source = tmp_path / "letter.json"
    text = json.dumps(letter_document({"name": "Widget Makers"}, body=paragraphs(300, 4000)))
    source.write_text(text)
    with pytest.raises(CommandError) as refused:
        call_command("import_letter", str(source))
    assert str(refused.value) == (
        f"{source}: {len(text) / 1_048_576:.1f} MB; the limit is 1 MB. Split the letter or its signatories; nothing was "
        "imported"
    )
    assert written() == (0, 0, 0)
