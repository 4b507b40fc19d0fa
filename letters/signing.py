"""The coalition's signature on each published version's PDF, and the check of one.

A PAdES signature (ETSI EN 319 142, made with pyHanko) is added as an incremental update: what
WeasyPrint wrote, PDF/A-3b and PDF/UA-1, stays as it was, byte for byte, before the signature.
The certificate is a PKCS#12 file named by PDF_SIGNING_CERT (its password in
PDF_SIGNING_PASSWORD); with PDF_TIMESTAMP_URL, an RFC 3161 time-stamping authority dates the
signature. Without a certificate, versions are published unsigned, the deploy check warns and the
letter's page says so.
"""

import asyncio
import datetime
import functools
import io
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.signers import SimpleSigner

logger = logging.getLogger(__name__)

FIELD_NAME = "CoalitionSignature"
TIMESTAMP_TIMEOUT = 10  # seconds: the worker retries a failed render, the reader waits for it


class SigningError(Exception):
    """The certificate could not be read, or the timestamp could not be had."""


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    signer: str  # whose certificate signed it, as its subject reads; "" when unsigned


def _synchronously[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's coroutine to its end, also where an event loop already runs (a browser
    test's thread): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def certificate_path() -> Path | None:
    path = str(getattr(settings, "PDF_SIGNING_CERT", "") or "")
    return Path(path) if path else None


def signer() -> "SimpleSigner | None":
    """The configured signer, or None where no certificate is set. SigningError if it is set
    but cannot be read (a missing file, a wrong password, no key in it)."""
    path = certificate_path()
    if path is None:
        return None
    password = str(getattr(settings, "PDF_SIGNING_PASSWORD", "") or "")
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise SigningError(
            f"PDF_SIGNING_CERT names {path}, which cannot be read: {error}"
        ) from error
    return _load_signer(path, stamp, password)


@functools.lru_cache(maxsize=4)
def _load_signer(path: Path, stamp: int, password: str) -> "SimpleSigner":
    from pyhanko.sign.signers import SimpleSigner

    try:
        loaded = SimpleSigner.load_pkcs12_data(
            path.read_bytes(), other_certs=(), passphrase=password.encode() or None
        )
    except (OSError, ValueError) as error:
        raise SigningError(
            f"PDF_SIGNING_CERT ({path}) is not a PKCS#12 file that PDF_SIGNING_PASSWORD opens: "
            f"{error}"
        ) from error
    if loaded.signing_cert is None:
        raise SigningError(f"PDF_SIGNING_CERT ({path}) holds no certificate")
    return loaded


def subject_of(certificate: "asn1_x509.Certificate") -> str:
    return str(certificate.subject.human_friendly)


def sign(pdf: bytes, *, reason: str, location: str) -> Signed:
    """The PDF signed by the coalition's certificate (and timestamped, where an authority is
    set); the PDF as it was where no certificate is set."""
    found = signer()
    if found is None:
        return Signed(pdf=pdf, signer="")
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    class MetadataKept(IncrementalPdfFileWriter):
        """pyHanko rewrites the XMP metadata when it writes, and its reading takes any text
        that begins with "http" for a URI: the extension schema that declares PDF/UA's
        namespace (which PDF/A requires as text) would no longer pass. A signature does not
        change what the document says of itself, so the metadata is left as WeasyPrint wrote
        it (and the information dictionary with it, which PDF/A keeps in step)."""

        def _update_meta(self) -> None:
            return None

    url = str(getattr(settings, "PDF_TIMESTAMP_URL", "") or "")
    timestamper = HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT) if url else None
    writer = MetadataKept(io.BytesIO(pdf))
    subject = subject_of(found.signing_cert)
    # Invisible: outside the page, where neither PDF/UA-1 (7.18.1) asks for a Form tag nor a
    # reader sees an empty box. Readers show the signature in their signature panel.
    spec = fields.SigFieldSpec(
        FIELD_NAME,
        readable_field_name=f"Signature of {subject}",
        invis_sig_settings=fields.InvisSigSettings(box_out_of_bounds=True),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    output = io.BytesIO()
    try:
        _synchronously(
            signers.async_sign_pdf(
                writer,
                metadata,
                signer=found,
                timestamper=timestamper,
                new_field_spec=spec,
                output=output,
            )
        )
    except (TimestampRequestError, TimeoutError) as error:
        raise SigningError(f"No timestamp from {url}: {error}") from error
    return Signed(pdf=output.getvalue(), signer=subject)


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko's validator found of a PDF's signature."""

    signed: bool
    intact: bool = False  # the signed bytes are unchanged
    valid: bool = False  # and the signature over them is the certificate's
    whole_file: bool = False  # nothing was added after the signature
    trusted: bool = False  # the certificate is among the roots given
    signer: str = ""
    signed_at: datetime.datetime | None = None  # as the signer's clock said
    timestamped_at: datetime.datetime | None = None
    timestamp_authority: str = ""
    timestamp_valid: bool = False
    timestamp_trusted: bool = False
    fingerprint: str = ""  # SHA-256 of the signer's certificate

    @property
    def holds(self) -> bool:
        """Intact, valid and covering the whole file."""
        return self.signed and self.intact and self.valid and self.whole_file


def check_signature(
    pdf: bytes, *, trust_roots: "list[asn1_x509.Certificate] | None" = None
) -> SignatureCheck:
    """Validate the PDF's signature with pyHanko's own validator, trusting only `trust_roots`
    (the coalition's certificate by default). Never fetches revocation data."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return SignatureCheck(signed=False)  # not a PDF pyHanko can read: no signature in it
    if not embedded:
        return SignatureCheck(signed=False)
    roots = own_trust_roots() if trust_roots is None else trust_roots
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    timestamp_context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = _synchronously(
            async_validate_pdf_signature(
                embedded[-1],
                signer_validation_context=context,
                ts_validation_context=timestamp_context,
            )
        )
    except Exception:  # a hostile or broken file fails in many ways: then nothing holds
        logger.info("A signature could not be validated", exc_info=True)
        return SignatureCheck(signed=True)
    stamp = status.timestamp_validity
    return SignatureCheck(
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
        signer=subject_of(status.signing_cert),
        signed_at=status.signer_reported_dt,
        timestamped_at=stamp.timestamp if stamp else None,
        timestamp_authority=subject_of(stamp.signing_cert) if stamp else "",
        timestamp_valid=bool(stamp and stamp.intact and stamp.valid),
        timestamp_trusted=bool(stamp and stamp.trusted),
        fingerprint=status.signing_cert.sha256.hex(),
    )


def own_trust_roots() -> "list[asn1_x509.Certificate]":
    """The coalition's own certificate (and the chain its file carries): what this site vouches
    for. Empty where none is configured or it cannot be read."""
    try:
        found = signer()
    except SigningError:
        return []
    if found is None or found.signing_cert is None:
        return []
    return [found.signing_cert, *(found.cert_registry or [])]
