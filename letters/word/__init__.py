"""Reading a Word (.docx) letter: its fields, its body and its signatory block.

`reading` reads the file within its bounds, `signatories` recognizes the signatory block at the
end of the letter, and `interchange` turns what was read into the letter interchange format.
"""

from .blocks import Para, ReadLine, WordLetter
from .boundary import Ending, EndLine, EndRow, allowed_boundaries, ending, reading_of
from .interchange import interchange_document, with_word_lines
from .reading import (
    MAX_ELEMENTS,
    MAX_PARAGRAPHS,
    MAX_PARTS,
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    PROGRESS_EVERY,
    READ_SECONDS,
    Progress,
    WordImportError,
    open_document,
    paragraph_count,
    parse_date,
    read_word_letter,
)
from .signatories import (
    SignatoryBlock,
    line_kind,
    list_begins,
    parse_signatory,
    reads_as_name,
    recognize_signatory_block,
)

__all__ = [
    "MAX_ELEMENTS",
    "MAX_PARAGRAPHS",
    "MAX_PARTS",
    "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES",
    "PROGRESS_EVERY",
    "READ_SECONDS",
    "EndLine",
    "EndRow",
    "Ending",
    "Para",
    "Progress",
    "ReadLine",
    "SignatoryBlock",
    "WordImportError",
    "WordLetter",
    "allowed_boundaries",
    "ending",
    "interchange_document",
    "line_kind",
    "list_begins",
    "open_document",
    "paragraph_count",
    "parse_date",
    "parse_signatory",
    "read_word_letter",
    "reading_of",
    "reads_as_name",
    "recognize_signatory_block",
    "with_word_lines",
]
