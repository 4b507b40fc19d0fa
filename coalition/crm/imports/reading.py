"""Reading a members file: CSV in any of the usual encodings, or XLSX.

Reading is bounded whatever the file claims: its size, its unpacked size (XLSX), its columns and
its rows are capped, and an XLSX sheet is streamed without trusting its <dimension> tag. Cells
holding control characters, which PostgreSQL refuses (NUL) or nobody meant, are listed by row and
column, as is a cell that an unclosed quote made swallow the lines after it.
"""

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coalition.crm.columns import import_name

from .base import CONTACTS_EXPORT_COLUMNS, FORMULA_STARTS, ImportFileError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 50
# An XLSX is a zip: its parts may unpack to far more than the upload (shared strings are read
# whole). A workbook of MAX_ROWS members stays well under this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# C0 and C1 control characters but tab, line feed and carriage return, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class Table:
    """What a members file holds: its header, its non-blank rows (by spreadsheet row number)
    and the problems found in reading them."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    problems: list[str] = field(default_factory=list)


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


def _unquoted(value: str) -> str:
    """A CSV cell as it was before the export made a would-be formula inert ("'+1 555" is "+1 555")."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def as_import_columns(header: list[str]) -> list[str]:
    """The header with the contacts export's column names read as the import's own.

    The contacts export calls the person's name "Name" and the organization "Organization";
    a file with "Organization" and "Email" but no "contact_email" is one.
    """
    present = set(header)
    if {"organization", "email"} <= present and "contact_email" not in present:
        return [CONTACTS_EXPORT_COLUMNS.get(name, name) for name in header]
    return header


def read_rows(data: bytes, filename: str = "") -> Table:
    """The header and the non-blank rows of a CSV or XLSX file, each with its spreadsheet row number."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    is_xlsx = data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")
    lines: CsvLines | None = None
    if is_xlsx:
        table: Iterator[tuple[object, ...] | list[str]] = _xlsx_rows(data)
    else:
        lines = CsvLines(data)
        table = iter(lines)
    try:
        header_row = next(table)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    header = as_import_columns([import_name(h) for h in header_row])
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(
            f"The first row has {len(header):,} columns; the limit is {MAX_COLUMNS}. "
            "It should name the columns (see the list below)."
        )
    result = Table(header=header, rows=[])
    for column, name in enumerate(header, start=1):
        if CONTROL_CHARACTERS.search(name):
            result.problems.append(
                f"Row 1, column {column}: the column name holds a control character "
                f"({_describe_control(name)}); remove it."
            )
    for number, values in enumerate(table, start=2):
        if number > MAX_ROWS + 1:
            raise ImportFileError(
                f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,} "
                "(besides the header). Split it into smaller files."
            )
        cells = [_cell(v) for v in values[: len(header)]]
        if lines is not None:
            cells = [_unquoted(cell) for cell in cells]
        if not any(cells):
            continue
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        result.rows.append((number, row))
        for heading, value in row.items():
            if CONTROL_CHARACTERS.search(value):
                result.problems.append(
                    f"Row {number}, column {heading}: holds a control character "
                    f"({_describe_control(value)}), which the database refuses or nobody "
                    "meant; remove it."
                )
        if lines is not None and lines.spanned > 1:
            result.problems.extend(lines.swallowed(number, row, columns=len(header)))
    return result


def _describe_control(value: str) -> str:
    match = CONTROL_CHARACTERS.search(value)
    code = ord(match.group()) if match else 0
    name = {0: " NUL", 0x1B: " ESC", 0x7F: " DEL"}.get(code, "")
    return f"U+{code:04X}{name}"


class CsvLines:
    """The rows of a CSV file, knowing which lines of the file each row took."""

    def __init__(self, data: bytes) -> None:
        text = decode_text(data)
        first_line = text[: text.find("\n")] if "\n" in text else text
        self.delimiter = max([",", ";", "\t"], key=first_line.count)
        self.reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        self.first_line = self.last_line = 0

    def __iter__(self) -> Iterator[list[str]]:
        while True:
            try:
                values = next(self.reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    f"The file cannot be read as CSV after line {self.last_line:,}: {error}. "
                    'Is a quote (") opened there and not closed?'
                ) from None
            self.first_line, self.last_line = self.last_line + 1, self.reader.line_num
            yield values

    @property
    def spanned(self) -> int:
        """How many lines of the file the last row took: more than one if a cell has line breaks."""
        return self.last_line - self.first_line + 1

    def swallowed(self, number: int, row: dict[str, str], *, columns: int) -> list[str]:
        """Cells whose line breaks hold what looks like rows of their own: an unclosed quote.

        A cell may hold line breaks (a description of two paragraphs); a line with as many
        delimiters as a row has is a row the quote took in.
        """
        enough = columns - 1
        problems = []
        for column, value in row.items():
            taken = [
                line for line in value.splitlines()[1:] if line.count(self.delimiter) >= enough
            ]
            if taken:
                problems.append(
                    f"Row {number}, column {column}: the cell runs over lines "
                    f"{self.first_line:,} to {self.last_line:,} of the file and takes in "
                    f"{len(taken):,} line(s) that look like rows of their own, such as "
                    f'“{taken[0][:60]}”. Is a quote (") opened there and not closed?'
                )
        return problems


def _xlsx_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
    except zipfile.BadZipFile as error:
        raise ImportFileError(f"The file is not a readable XLSX workbook ({error}).") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"The workbook unpacks to {unpacked // 1_048_576:,} MB; the limit is "
            f"{MAX_UNPACKED_BYTES // 1_048_576} MB. Save it again, or as CSV."
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"The file is not a readable XLSX workbook ({error}).") from error
    return _stream_sheet(workbook)


def _stream_sheet(workbook: Any) -> Iterator[tuple[object, ...]]:
    sheet = workbook.worksheets[0]
    # The <dimension> tag may be missing, or say anything: trusted, it cuts rows off or pads
    # each one to thousands of columns. Rows are read as they come, as wide as the header can be.
    sheet.reset_dimensions()
    try:
        # One column more than allowed, so that a header too wide is seen as such.
        yield from sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
    except Exception as error:  # a damaged sheet fails part-way through
        raise ImportFileError(f"The workbook cannot be read to the end ({error}).") from error
    finally:
        workbook.close()
