"""/verify/: anyone holding a copy of a letter's PDF, or its SHA-256, learns which letter and
version it is, whether that version is current or was superseded (and by which correction),
whether its signature is valid and whose it is, and the head of the sign-on's record when it was
published, with what the file carries of that record checked against the site's. Each version
also has a page of its own, which its PDF's QR code opens, giving the SHA-256 to compare.

A dropped PDF is hashed as it arrives and never stored: no byte of it is kept, in memory or on
disk, past the chunk being read; only its first bytes are looked at (a PDF begins "%PDF-").
"""

import hashlib
import re
from typing import Any

from django import forms
from django.core.cache import cache
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from coalition.crm.accounts import client_ip
from letters.models import Publication

from . import proof, ratelimits, selectors
from .errors import RateLimited

# A version's file never changes, but the record it is checked against might: checked again
# after this many seconds.
PROOF_TTL = 600
# The largest PDF a letter makes is a few megabytes; a copy larger than this is no letter of ours.
MAX_PDF_BYTES = 50 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class HashedFile:
    """What remains of an upload: its SHA-256 and size, and why it was refused, if it was."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.problem = ""
        self.arrived = False  # a file was sent, empty or not


class HashingUploadHandler(FileUploadHandler):
    """Hash each chunk of the upload as it arrives and keep nothing of it."""

    def __init__(self, request: HttpRequest, hashed: HashedFile) -> None:
        super().__init__(request)
        self.hashed = hashed

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != "pdf":
            raise StopUpload(connection_reset=False)
        self.hashed.arrived = bool(file_name)  # a browser sends an empty name for no file

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        hashed = self.hashed
        if hashed.problem:
            return None
        if len(hashed.head) < 5:
            hashed.head += raw_data[: 5 - len(hashed.head)]
        hashed.size += len(raw_data)
        if hashed.size > MAX_PDF_BYTES:
            hashed.problem = (
                f"The file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB: no letter's PDF "
                "is. Paste its SHA-256 instead."
            )
            raise StopUpload(connection_reset=False)
        hashed.sha256.update(raw_data)
        return None  # nothing is handed on: no handler after this one keeps the bytes

    def file_complete(self, file_size: int) -> None:
        return None


class DigestForm(forms.Form):
    sha256 = forms.CharField(
        label="SHA-256 of the PDF",
        required=False,
        max_length=100,
        help_text="64 hexadecimal characters, as the letter's page and the signers' email give it.",
    )

    def clean_sha256(self) -> str:
        value = "".join(str(self.cleaned_data.get("sha256", "")).split()).lower()
        if value and not SHA256.match(value):
            raise forms.ValidationError(
                "A SHA-256 is 64 characters, each a digit or a letter from a to f; this is not one."
            )
        return value


@csrf_exempt  # the upload handler must be set before the CSRF check reads the body
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    hashed = HashedFile()
    if request.method == "POST":
        request.upload_handlers = [HashingUploadHandler(request, hashed)]
    return _verify(request, hashed)


@csrf_protect
def _verify(request: HttpRequest, hashed: HashedFile) -> HttpResponse:
    if request.method != "POST":
        return _page(request, DigestForm())
    try:
        ratelimits.consume("verify", ip=client_ip(request))
    except RateLimited as error:
        response = _page(request, DigestForm(), problem=error.message, status=429)
        response["Retry-After"] = str(error.retry_after)
        return response
    form = DigestForm(request.POST)
    uploaded = hashed.arrived or hashed.size or hashed.problem
    if hashed.problem:
        return _page(request, form, problem=hashed.problem, status=400)
    if uploaded:
        if hashed.head != b"%PDF-":
            return _page(
                request,
                form,
                problem="The file is not a PDF: a PDF begins with “%PDF-”. Choose the letter's "
                "PDF, or paste its SHA-256.",
                status=400,
            )
        return redirect("public:verified", sha256=hashed.sha256.hexdigest())
    if not form.is_valid():
        return _page(request, form, status=400)
    if not form.cleaned_data["sha256"]:
        return _page(request, form, problem="Choose a PDF, or paste its SHA-256.", status=400)
    return redirect("public:verified", sha256=form.cleaned_data["sha256"])


def _page(
    request: HttpRequest, form: DigestForm, *, problem: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "signatories/public/verify.html",
        {"form": form, "problem": problem, "max_mb": MAX_PDF_BYTES // (1024 * 1024)},
        status=status,
    )


@require_safe
def verified(request: HttpRequest, sha256: str) -> HttpResponse:
    """What the site published with this SHA-256, if anything: the letter, the version, whether
    it is current or which correction superseded it, its signature and the record's head then."""
    if not SHA256.match(sha256):
        return _page(request, DigestForm({"sha256": sha256}), status=404)
    version = selectors.version_with_digest(sha256)
    return _result(request, version, sha256)


@require_safe
def version_checked(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """One version's page, which its PDF's QR code opens: the same facts, and the SHA-256 to
    compare a copy with (the PDF cannot print its own)."""
    found = selectors.published_version(slug, version)
    if found is None:
        raise Http404("No such version of a published letter.")
    return _result(request, found, found.pdf_sha256, by_version=True)


def _result(
    request: HttpRequest, version: Publication | None, sha256: str, *, by_version: bool = False
) -> HttpResponse:
    later: list[Publication] = selectors.versions_after(version) if version is not None else []
    return render(
        request,
        "signatories/public/verified.html",
        {
            "sha256": sha256,
            "version": version,
            "by_version": by_version,
            "superseded_by": later[0] if later else None,
            # The latest version is the current one.
            "current": later[-1] if later else version,
            "proof": _proof_of(version) if version is not None else None,
            "verify_url": reverse("public:verify"),
        },
        status=200 if version is not None else 404,
    )


def _proof_of(version: Publication) -> proof.Proof | None:
    """What the version's stored PDF proves (the same bytes as the copy, by its SHA-256):
    its signature by pyHanko's validator, its list against the printed one, its record against
    the site's keyed chain. Kept in the cache for a while: validation takes a moment."""
    if not version.pdf or not version.pdf_sha256:
        return None
    key = f"verify:proof:{version.pdf_sha256}"
    found: proof.Proof | None = cache.get(key)
    if found is None:
        with version.pdf.open("rb") as file:
            found = proof.read_proof(file.read(), on_site=True)
        found.version = None  # the caller has it; a cached row would go stale
        cache.set(key, found, PROOF_TTL)
    return found
