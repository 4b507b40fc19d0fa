"""What a version's PDF carries to prove itself, and the reading of it back.

Each version's PDF/A-3 carries two associated files: its signatory list (the version's
open-data JSON, `signatories.json`) and the sign-on's record up to the head at publication
(`record.json`). The record gives each event's sequence, action, time and hash links; not who
acted, their address or which organization an event concerns (a decline is staff's to know).
The hashes are keyed with the site's secret: anyone can check that the links hold and that
they end at the head the page printed; the site, holding the key, checks each hash as well.

`manage.py verify_pdf` and /verify/ read a PDF with `read_proof`.
"""

import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from letters import signing
from letters.models import Publication
from letters.pdf import AssociatedFile

from . import selectors

LIST_FILE = "signatories.json"
RECORD_FILE = "record.json"
RECORD_FORMAT = "coalition sign-on record 1"
# The PDF's information dictionary keeps the head as publication wrote it ("sign-on-record").
METADATA_HEAD = re.compile(r"last HMAC-SHA256 ([0-9a-f]{64})")


def version_files(publication: Publication) -> list[AssociatedFile]:
    """The files a version's PDF carries (the LETTER_VERSION_FILES setting names this)."""
    from .public_views import letter_facts, signatory_rows

    letter_url = settings.SITE_URL + (publication.letter.url or "")
    listed = {
        "letter": letter_facts(letter_url, publication),
        "signatories": signatory_rows(lambda path: settings.SITE_URL + path, publication),
    }
    files = [
        AssociatedFile(
            name=LIST_FILE,
            data=_json(listed),
            description="The signatories as this version prints them (the letter's open data)",
        )
    ]
    record = record_document(publication)
    if record is not None:
        files.append(
            AssociatedFile(
                name=RECORD_FILE,
                data=_json(record),
                description="The sign-on's record up to this version: each event's hash links",
                relationship="Supplement",
            )
        )
    return files


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def record_document(publication: Publication) -> dict[str, Any] | None:
    """The sign-on's record as it stood at the version's publication; None without one."""
    if not publication.chain_head:
        return None
    events = selectors.events_up_to(publication.chain_head)
    return {
        "format": RECORD_FORMAT,
        "letter": publication.letter.title,
        "version": publication.version,
        "events": len(events),
        "head": publication.chain_head,
        "hashes": "HMAC-SHA256 under the site's key, each over its event and the hash before it",
        "chain": [
            {
                "sequence": event.sequence,
                "action": event.action,
                "at": event.created_at.isoformat(timespec="seconds"),
                "previous_hash": event.previous_hash,
                "hash": event.hash,
            }
            for event in events
        ],
    }


# ---------------------------------------------------------------------------------------------
# Reading a PDF back


@dataclass
class Proof:
    """What a PDF says of itself, and what holds of it."""

    sha256: str
    size: int
    signature: signing.SignatureCheck
    version: Publication | None = None  # the published version with this SHA-256, if any
    listed: list[str] = field(default_factory=list)  # the lines its signatories.json gives
    list_problems: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None
    record_problems: list[str] = field(default_factory=list)  # links, head (anyone can check)
    keyed_problems: list[str] = field(default_factory=list)  # against the site's keyed chain
    problems: list[str] = field(default_factory=list)  # files missing or unreadable

    @property
    def holds(self) -> bool:
        return not (
            self.problems or self.list_problems or self.record_problems or self.keyed_problems
        ) and (self.signature.holds or not self.signature.signed)


def read_proof(pdf: bytes, *, on_site: bool = True) -> Proof:
    """Read a PDF's signature, files and printed list, and check them against each other (and,
    `on_site`, against this site's published versions and keyed record)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    proof = Proof(
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        signature=signing.check_signature(pdf),
    )
    try:
        reader = PdfReader(io.BytesIO(pdf))
        attached = {name: data[-1] for name, data in reader.attachments.items() if data}
        printed = "".join(page.extract_text() or "" for page in reader.pages)
        metadata: dict[str, Any] = dict(reader.metadata or {})
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        # A hostile or broken file: said so, and nothing of it is trusted.
        proof.problems.append(f"The file cannot be read as a PDF: {error}")
        return proof
    if on_site:
        proof.version = selectors.version_with_digest(proof.sha256)
    listed = _read_json(attached, LIST_FILE, proof)
    if listed is not None:
        lines = [str(row.get("line", "")) for row in listed.get("signatories", [])]
        proof.listed = lines
        proof.list_problems = unprinted(lines, printed)
    record = _read_json(attached, RECORD_FILE, proof, required=False)
    if record is not None:
        proof.record = record
        head = METADATA_HEAD.search(str(metadata.get("/signonrecord", "")))
        proof.record_problems = link_problems(record, head.group(1) if head else None)
        if on_site and not proof.record_problems:
            proof.keyed_problems = selectors.keyed_record_problems(record["chain"])
    return proof


def _read_json(
    attached: dict[str, bytes], name: str, proof: Proof, *, required: bool = True
) -> dict[str, Any] | None:
    if name not in attached:
        if required:
            proof.problems.append(f"The PDF carries no {name}.")
        return None
    try:
        document = json.loads(attached[name])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        proof.problems.append(f"{name} inside the PDF is not JSON: {error}")
        return None
    if not isinstance(document, dict):
        proof.problems.append(f"{name} inside the PDF is not a JSON object.")
        return None
    return document


def _comparable(text: str) -> str:
    """Text as extraction and the JSON both give it: compatibility forms folded (Arabic
    presentation forms, ligatures), without spaces, line breaks or soft hyphens."""
    folded = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return "".join(folded.split())


def unprinted(lines: list[str], printed: str) -> list[str]:
    """The listed lines the PDF does not print, in the order listed."""
    text = _comparable(printed)
    missing = []
    position = 0
    for line in lines:
        found = text.find(_comparable(line), position)
        if found < 0:
            missing.append(f"“{line}” is listed but not printed where the list has it")
        else:
            position = found + len(_comparable(line))
    return missing


def link_problems(record: dict[str, Any], metadata_head: str | None) -> list[str]:
    """Whether the record's hash links hold and end at its head (what anyone can check)."""
    chain = record.get("chain")
    if record.get("format") != RECORD_FORMAT or not isinstance(chain, list):
        return [f"record.json is not a record this site writes ({RECORD_FORMAT!r})."]
    problems = []
    previous = ""
    for expected, event in enumerate(chain, start=1):
        if not isinstance(event, dict):
            return [f"Event {expected} of the record is not an object."]
        if event.get("sequence") != expected:
            problems.append(f"Event {expected} is missing (event {event.get('sequence')} next).")
        if event.get("previous_hash") != previous:
            problems.append(f"Event {expected} does not link to the event before it.")
        previous = str(event.get("hash", ""))
    if previous != record.get("head") or len(chain) != record.get("events"):
        problems.append("The record does not end at the head it names.")
    if metadata_head is not None and metadata_head != record.get("head"):
        problems.append("The record's head is not the one the PDF's metadata gives.")
    return problems
