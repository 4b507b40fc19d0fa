"""Reading a members file: CSV in any of the usual encodings, or XLSX."""

import csv
import datetime
import io
from collections.abc import Iterable

from .base import ImportFileError


def decode_text(data: bytes) -> str:
    """Text of a CSV file in UTF-8 (with or without BOM), UTF-16 or, failing those, Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:400]
    if head and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a byte-order mark: the NUL halves give away the byte order.
        return data.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel on Windows writes when asked for "CSV"; a superset of Latin-1's printables.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _header_name(value: object) -> str:
    return str(value or "").strip().lower().replace(" ", "_").replace("-", "_")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(
    data: bytes, filename: str = ""
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-blank rows of a CSV or XLSX file, each with its spreadsheet row number."""
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        table = _xlsx_rows(data)
    else:
        table = _csv_rows(data)
    try:
        header_row = next(table)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    header = [_header_name(h) for h in header_row]
    rows = []
    for number, values in enumerate(table, start=2):
        cells = [_cell(v) for v in values]
        if not any(cells):
            continue
        rows.append(
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
        )
    return header, rows


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    return iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> Iterable[tuple]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"The file is not a readable XLSX workbook ({error}).") from error
    return workbook.worksheets[0].iter_rows(values_only=True)
