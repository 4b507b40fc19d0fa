"""Hostile files made in the tests: large Word documents, spreadsheets that lie, deep JSON."""

import io
import re
import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import docx
from openpyxl import Workbook


def rewrite_zip(data: bytes, name: str, change) -> bytes:
    """The zip archive with one member's text passed through `change`."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item)
            if item.filename == name:
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(item.filename, content)
    return buffer.getvalue()


def docx_with_paragraphs(count: int) -> bytes:
    """A letter of `count` body paragraphs, written as XML: python-docx takes minutes for 100,000."""
    document = docx.Document()
    document.add_paragraph("March 12, 2025")
    document.add_paragraph("Dear Secretary:")
    document.add_paragraph("MARKER")
    document.add_paragraph("Sincerely,")
    buffer = io.BytesIO()
    document.save(buffer)
    paragraphs = "".join(
        f"<w:p><w:r><w:t>Paragraph {i} of a very long letter.</w:t></w:r></w:p>"
        for i in range(count)
    )
    marker = "<w:p><w:r><w:t>MARKER</w:t></w:r></w:p>"
    return rewrite_zip(
        buffer.getvalue(), "word/document.xml", lambda xml: xml.replace(marker, paragraphs)
    )


def docx_with_huge_part(megabytes: int) -> bytes:
    """A small .docx whose document.xml unpacks to `megabytes` MB (whitespace compresses well)."""
    document = docx.Document()
    document.add_paragraph("Dear Secretary:")
    buffer = io.BytesIO()
    document.save(buffer)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item.filename, source.read(item))
                continue
            xml = source.read(item)
            head, tail = xml.split(b"<w:body>", 1)
            with target.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                chunk = b" " * 1_048_576
                for _ in range(megabytes):
                    part.write(chunk)
                part.write(tail)
    return out.getvalue()


def xlsx_without_dimension(header: list[str], rows: Iterator[list[str]]) -> bytes:
    """An XLSX written by openpyxl, then stripped of its <dimension> tag as some tools write it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return rewrite_zip(
        buffer.getvalue(),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r"<dimension [^>]*/>", "", xml),
    )


def xlsx_with_dimension(header: list[str], rows: list[list[str]], dimension: str) -> bytes:
    """An XLSX whose <dimension> tag says `dimension`, whatever its rows are."""
    data = xlsx_without_dimension(header, iter(rows))
    return rewrite_zip(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<sheetData", f'<dimension ref="{dimension}"/><sheetData', 1),
    )


def nested_json(depth: int, *, inside: str = "title") -> str:
    """A letter document whose `inside` field is `depth` arrays deep."""
    return (
        '{"body": [{"type": "paragraph", "text": "Text."}], "signatories": [], '
        f'"{inside}": ' + "[" * depth + "]" * depth + "}"
    )


class TooSlow(Exception):
    pass


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the test, instead of hanging it, when the block runs longer than `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise TooSlow(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def xlsx_bomb(megabytes: int = 200) -> bytes:
    """An XLSX whose shared strings unpack to `megabytes` MB: openpyxl reads them whole."""
    workbook = Workbook()
    workbook.active.append(["name"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, source.read(item))
        with target.open("xl/padding.xml", "w", force_zip64=True) as part:
            chunk = b" " * 1_048_576
            for _ in range(megabytes):
                part.write(chunk)
    return out.getvalue()
