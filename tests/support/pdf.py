"""Reading the PDFs the project serves: the bytes of a response, the text poppler extracts."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader


def body(response) -> bytes:
    """A response's bytes, whether it streams (a stored PDF) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def read_pdf(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def pdftotext(pdf: bytes, tmp_path: Path, *, layout: bool = False, raw: bool = True) -> str:
    """The text of a PDF as poppler extracts it (pypdf garbles WeasyPrint's CID fonts).

    By default in content-stream order (`-raw`), so that columns read one after the other.
    """
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install poppler-utils (apt-get install poppler-utils)")
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    args = (
        ["pdftotext", "-enc", "UTF-8"]
        + (["-layout"] if layout else ["-raw"] if raw else [])
        + [str(source), "-"]
    )
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout
