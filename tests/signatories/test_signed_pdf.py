"""A published version's PDF proves itself: the coalition's PAdES signature (checked by pyHanko's
own validator, with a timestamp from an authority run in the test), PDF/A-3b and PDF/UA-1 still
(checked by page-validation), its list and record inside it, read back by `manage.py verify_pdf`
and /verify/, and a QR code of its version's verification page."""

import datetime
import http.server
import io
import json
import threading
from pathlib import Path

import pytest
from asn1crypto import keys, x509
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import QuerySet
from pypdf import PdfReader

from letters import signing
from letters.certificates import development_certificate, write_development_certificate
from letters.models import Publication
from signatories import proof, services
from signatories.models import Event, SignOn
from tests.letters.test_pdf_standards import validation_failures
from tests.support.pdf import pdftotext
from tests.support.signing import STAFF_ACTOR, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def publish_signed(sign_on, invitations, capture) -> Publication:
    """The sign-on closed and published with these invitations signed, its PDF rendered."""
    for invitation in invitations:
        sign(invitation)
    closed = services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    with capture(execute=True):
        publication = services.publish_sign_on(sign_on=closed, actor=STAFF_ACTOR)
    publication.refresh_from_db()
    assert publication.pdf, "the PDF is rendered on publication (TASKS_IMMEDIATE)"
    return publication


@pytest.fixture
def published(sign_on, invitations, django_capture_on_commit_callbacks) -> Publication:
    """A sign-on's letter published: two signatures, a record of its events."""
    return publish_signed(sign_on, invitations[:2], django_capture_on_commit_callbacks)


def pdf_of(publication: Publication) -> bytes:
    with publication.pdf.open("rb") as file:
        return file.read()


def own_certificate() -> x509.Certificate:
    found = signing.signer()
    assert found is not None
    return found.signing_cert


# -- The signature ------------------------------------------------------------------------------


def test_a_published_version_is_signed_by_the_coalition_and_pyhanko_validates_it(published):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    pdf = pdf_of(published)
    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(embedded) == 1
    status = validate_pdf_signature(
        embedded[0], ValidationContext(trust_roots=[own_certificate()], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["organization_name"] == "Widget Trade Coalition"
    assert published.pdf_signer == status.signing_cert.subject.human_friendly
    assert embedded[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    # A stranger's certificate is not the coalition's: valid, but not trusted.
    _key, stranger = development_certificate("Someone Else")
    other = x509.Certificate.load(stranger.public_bytes(serialization.Encoding.DER))
    check = signing.check_signature(pdf, trust_roots=[other])
    assert check.holds and not check.trusted


def test_the_signed_file_is_still_pdf_ua_1_and_pdf_a_3b(published, tmp_path):
    pdf = pdf_of(published)
    assert signing.check_signature(pdf).holds
    for profile in ("ua1", "3b"):
        failures = validation_failures(pdf, profile, tmp_path)
        assert not failures, f"{profile} fails:\n" + "\n".join(failures)


def test_a_copy_changed_after_signing_is_not_valid(published):
    pdf = pdf_of(published)
    # One byte of the page content, inside the signed range.
    at = pdf.index(b"stream") + 20
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    check = signing.check_signature(changed)
    assert check.signed and not check.intact and not check.holds
    # Bytes appended after the signature: intact, but no longer the whole file.
    appended = signing.check_signature(pdf + b"\n%% appended\n")
    assert appended.intact and not appended.whole_file and not appended.holds


class TimestampAuthority(http.server.BaseHTTPRequestHandler):
    """An RFC 3161 time-stamping authority over HTTP, signing with pyHanko's test stamper."""

    stamper = None

    def do_POST(self) -> None:
        from asn1crypto import tsp

        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        answer = self.stamper.request_tsa_response(request).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def timestamp_authority(settings):
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key, certificate = development_certificate("Test Time-Stamping Authority")
    # A time-stamping authority's certificate is for timestamps only (RFC 3161, 2.3).
    from cryptography import x509 as pyca
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    certificate = (
        pyca.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(certificate.subject)
        .public_key(key.public_key())
        .serial_number(pyca.random_serial_number())
        .not_valid_before(certificate.not_valid_before_utc)
        .not_valid_after(certificate.not_valid_after_utc)
        .add_extension(pyca.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    tsa_certificate = x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    tsa_key = keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    handler = type(
        "Authority", (TimestampAuthority,), {"stamper": DummyTimeStamper(tsa_certificate, tsa_key)}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PDF_TIMESTAMP_URL = f"http://127.0.0.1:{server.server_port}/"
    yield tsa_certificate
    server.shutdown()


def test_a_timestamp_authority_dates_the_signature(
    timestamp_authority, sign_on, invitations, django_capture_on_commit_callbacks
):
    before = datetime.datetime.now(datetime.UTC)
    publication = publish_signed(sign_on, invitations[:1], django_capture_on_commit_callbacks)
    pdf = pdf_of(publication)
    check = signing.check_signature(pdf, trust_roots=[own_certificate(), timestamp_authority])
    assert check.holds and check.trusted
    assert check.timestamp_valid and check.timestamp_trusted
    assert check.timestamp_authority == timestamp_authority.subject.human_friendly
    assert before - datetime.timedelta(seconds=5) <= check.timestamped_at
    assert check.timestamped_at <= datetime.datetime.now(datetime.UTC)


def test_an_authority_that_does_not_answer_fails_the_render_loudly(settings):
    from letters.pdf import ARCHIVAL, render_pdf

    unsigned = render_pdf('<html lang="en"><title>A letter</title><p>Text.</p>', variant=ARCHIVAL)
    settings.PDF_TIMESTAMP_URL = "http://127.0.0.1:9/"  # discard: nothing answers
    with pytest.raises(signing.SigningError, match=r"No timestamp from http://127\.0\.0\.1:9/"):
        signing.sign(unsigned, reason="test", location="test")
    # Without the authority, the same file is signed.
    settings.PDF_TIMESTAMP_URL = ""
    assert signing.check_signature(signing.sign(unsigned, reason="t", location="t").pdf).holds


def test_a_render_without_its_timestamp_is_tried_again_later_and_nothing_is_stored(
    settings, sign_on, invitations, deferring_backend, django_capture_on_commit_callbacks
):
    from letters.versions import render_publication_pdf

    settings.PDF_TIMESTAMP_URL = "http://127.0.0.1:9/"
    sign(invitations[0])
    closed = services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    publication = services.publish_sign_on(sign_on=closed, actor=STAFF_ACTOR)
    deferring_backend.clear()
    before = datetime.datetime.now(datetime.UTC)
    assert render_publication_pdf.call(publication.pk).startswith("retrying: No timestamp")
    publication.refresh_from_db()
    assert not publication.pdf and publication.pdf_sha256 == ""
    [retry] = deferring_backend.results
    assert retry.args == [publication.pk, 2]
    assert retry.task.run_after - before >= datetime.timedelta(minutes=1)
    # The last attempt gives up loudly, for the worker's failure log.
    with pytest.raises(signing.SigningError):
        render_publication_pdf.call(publication.pk, 12)


# -- Without a certificate ---------------------------------------------------------------------


def test_without_a_certificate_the_version_is_unsigned_and_says_so(
    settings, sign_on, invitations, client, django_capture_on_commit_callbacks
):
    from django.core import checks

    settings.PDF_SIGNING_CERT = ""
    assert "project.W002" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
    publication = publish_signed(sign_on, invitations[:1], django_capture_on_commit_callbacks)
    assert publication.pdf_signer == ""
    assert not signing.check_signature(pdf_of(publication)).signed
    page = client.get(publication.letter.url).content.decode()
    assert "This PDF is not signed" in page
    checked = client.get(f"/verify/{publication.pdf_sha256}/").content.decode()
    assert "The PDF is not signed" in checked


def test_a_certificate_that_does_not_open_is_a_deploy_error(settings, tmp_path):
    from django.core import checks

    path = tmp_path / "coalition.p12"
    write_development_certificate(path, name="Widget Trade Coalition", password="right")
    settings.PDF_SIGNING_CERT = str(path)
    settings.PDF_SIGNING_PASSWORD = "wrong"
    found = {m.id: m.msg for m in checks.run_checks(include_deployment_checks=True)}
    assert "PDF_SIGNING_PASSWORD" in found["project.E002"]
    settings.PDF_SIGNING_PASSWORD = "right"
    assert signing.signer() is not None
    settings.PDF_SIGNING_CERT = str(tmp_path / "missing.p12")
    with pytest.raises(signing.SigningError, match="cannot be read"):
        signing.signer()


# -- What the file carries ---------------------------------------------------------------------


def attached(pdf: bytes) -> dict[str, dict]:
    reader = PdfReader(io.BytesIO(pdf))
    return {name: json.loads(data[0]) for name, data in reader.attachments.items()}


def test_the_file_carries_its_list_and_record_as_associated_files(published):
    pdf = pdf_of(published)
    files = attached(pdf)
    assert set(files) == {"signatories.json", "record.json"}
    listed = [row["line"] for row in files["signatories.json"]["signatories"]]
    assert listed == [line.text for line in published.lines()]
    assert files["signatories.json"]["letter"]["version"] == 1
    record = files["record.json"]
    events = list(Event.objects.filter(sign_on__letter=published.letter).order_by("sequence"))
    assert record["head"] == published.chain_head and record["events"] == published.chain_length
    assert [e["hash"] for e in record["chain"]] == [e.hash for e in events][: record["events"]]
    # Nobody's address, name or organization: only the links and what happened when.
    assert set(record["chain"][0]) == {"sequence", "action", "at", "previous_hash", "hash"}
    # PDF/A-3: each is an associated file of the document, with its relationship.
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    relationships = {
        spec.get_object()["/F"]: spec.get_object()["/AFRelationship"] for spec in catalog["/AF"]
    }
    assert relationships == {"signatories.json": "/Data", "record.json": "/Supplement"}


def test_verify_pdf_reads_everything_back(published, tmp_path, capsys):
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf_of(published))
    call_command("verify_pdf", str(path))
    out = capsys.readouterr().out
    assert f"SHA-256 {published.pdf_sha256}" in out
    assert f"version {published.version}, current" in out
    assert "Signature: valid, by " in out and "(this site's certificate)" in out
    assert "Signatory list: 2 lines, matches the printed list" in out
    assert (
        f"Record: {published.chain_length} events to head {published.chain_head}, hash links "
        "hold, matches this site's keyed record"
    ) in out
    assert "Everything holds." in out


def test_verify_pdf_names_what_does_not_hold(published, tmp_path, capsys, settings):
    pdf = pdf_of(published)
    path = tmp_path / "copy.pdf"
    # The site's key changed (or the events were rewritten): the links hold, the keyed chain not.
    settings.EVENT_CHAIN_KEY = "another key"
    path.write_bytes(pdf)
    with pytest.raises(CommandError, match="does not hold"):
        call_command("verify_pdf", str(path))
    captured = capsys.readouterr()
    assert "DOES NOT MATCH this site's keyed record" in captured.out
    assert "no longer matches its keyed hash" in captured.err
    # Not a PDF, and no file: refused by name.
    path.write_bytes(b"hello")
    with pytest.raises(CommandError, match="is not a PDF"):
        call_command("verify_pdf", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("verify_pdf", str(tmp_path / "missing.pdf"))


def test_a_record_whose_links_break_is_caught_offline():
    head = "c" * 64
    record = {
        "format": proof.RECORD_FORMAT,
        "events": 2,
        "head": head,
        "chain": [
            {"sequence": 1, "previous_hash": "", "hash": "a" * 64},
            {"sequence": 2, "previous_hash": "b" * 64, "hash": head},
        ],
    }
    assert proof.link_problems(record, head) == ["Event 2 does not link to the event before it."]
    record["chain"][1]["previous_hash"] = "a" * 64
    assert proof.link_problems(record, head) == []
    assert proof.link_problems(record, "d" * 64) == [
        "The record's head is not the one the PDF's metadata gives."
    ]
    record["chain"].pop()
    assert "The record does not end at the head it names." in proof.link_problems(record, None)


def test_a_list_that_differs_from_the_printed_one_is_named():
    printed = "Sincerely,\nWidget Guild\nLate  Council of\nMakers"
    assert proof.unprinted(["Widget Guild", "Late Council of Makers"], printed) == []
    assert proof.unprinted(["Late Council of Makers", "Widget Guild"], printed) == [
        "“Widget Guild” is listed but not printed where the list has it"
    ]


# -- The verification pages and the QR code ----------------------------------------------------


def figure_texts(pdf: bytes) -> list[str]:
    """The alternative texts of the figures in the PDF's structure tree."""
    found = []
    todo = [PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        element = todo.pop()
        element = element.get_object() if hasattr(element, "get_object") else element
        if not isinstance(element, dict):
            continue
        if element.get("/S") == "/Figure":
            found.append(str(element.get("/Alt", "")))
        kids = element.get("/K", [])
        todo.extend(kids if isinstance(kids, list) else [kids])
    return found


def test_the_pdf_prints_a_qr_code_of_its_versions_verification_page(published, client, tmp_path):
    import segno

    from letters.pdf import letter_pdf_html, qr_code

    letter = published.letter
    url = f"http://127.0.0.1:8000/verify/{letter.slug}/v1/"
    pdf = pdf_of(published)
    assert url in "".join(pdftotext(pdf, tmp_path).split())
    # The QR code is the address's, drawn as vectors, with its alternative text.
    html = letter_pdf_html(published.revision.as_object(), published.lines(), verify_url=url)
    assert qr_code(url) in html and segno.make(url, error="m").designator.endswith("-M")
    assert "QR code of the address where this copy is verified" in figure_texts(pdf)
    page = client.get(f"/verify/{letter.slug}/v1/")
    assert page.status_code == 200
    html = page.content.decode()
    assert published.pdf_sha256 in html and "The current version of" in html
    assert "Valid: signed by <strong>" in html and "the one this site signs with" in html
    assert "Its list of 2 signatories matches the printed one" in html
    assert "events links up to the head above, and each event's keyed hash matches" in html
    assert client.get(f"/verify/{letter.slug}/v9/").status_code == 404


def test_a_dropped_copy_learns_its_signature(published, client):
    response = client.post("/verify/", {"pdf": io.BytesIO(pdf_of(published))}, format="multipart")
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Valid: signed by <strong>Organization: Widget Trade Coalition" in html


def test_the_letter_page_says_who_signed_the_pdf(published, client):
    page = client.get(published.letter.url).content.decode()
    assert f"Signed by {published.pdf_signer}." in page
    assert "not signed" not in page


def test_a_deleted_event_no_longer_matches_the_file(published, capsys, tmp_path):
    """The record in the file is the site's: an event rewritten in the database is told."""
    sign_on = SignOn.objects.get(letter=published.letter)
    last = Event.objects.get(sign_on=sign_on, sequence=published.chain_length)
    # Behind the services' back (the model refuses): what an attacker with the database does.
    QuerySet(Event).filter(pk=last.pk).update(actor="someone")
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf_of(published))
    with pytest.raises(CommandError):
        call_command("verify_pdf", str(path))
    assert f"Event {last.sequence} on the site no longer matches its keyed hash" in (
        capsys.readouterr().err
    )
    assert Path(path).exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda pdf: b"%PDF-1.7\n" + b"\x00garbage" * 100,
        lambda pdf: pdf[: len(pdf) // 2],
        lambda pdf: pdf.replace(b"/Type /Catalog", b"/Type /Katalog", 1),
    ],
    ids=["garbage", "truncated", "no-catalog"],
)
def test_a_broken_or_hostile_file_is_reported_not_a_traceback(published, tmp_path, capsys, damage):
    path = tmp_path / "copy.pdf"
    path.write_bytes(damage(pdf_of(published)))
    with pytest.raises(CommandError, match="does not hold"):
        call_command("verify_pdf", str(path))
    captured = capsys.readouterr()
    assert "Everything holds" not in captured.out
    assert "Published version: none on this site has this SHA-256." in captured.out
