"""The letter interchange format (schema/letter.schema.json): validation, import and export.

A package by step: `validation` checks a document, `body` turns its text into the letter's rich
text and back, `matching` finds its signatories among the members, `importing` writes a letter
from it and `exporting` writes one out.
"""

from letters.services import LetterImporter

from .body import body_stream, clean_inline, derive_title, rich_to_paragraphs
from .exporting import export_letter
from .importing import ImportResult, import_letter, import_word_document
from .matching import MATCH_BATCH, invite_url, match_organizations, match_signatories
from .validation import (
    BLOCK_TYPES,
    FORBIDDEN_CHARACTERS,
    INLINE_TAGS,
    MAX_BODY_CHARACTERS,
    MAX_BODY_PARAGRAPHS,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_LINE_CHARACTERS,
    MAX_LINES,
    MAX_MESSAGE,
    MAX_PARAGRAPH_CHARACTERS,
    MAX_SIGNATORIES,
    SCHEMA,
    SIGNATORY_NAMES,
    LetterDocumentError,
    json_path,
    load_document,
    validate_document,
)

__all__ = [
    "BLOCK_TYPES",
    "FORBIDDEN_CHARACTERS",
    "INLINE_TAGS",
    "LETTER_IMPORTER",
    "MATCH_BATCH",
    "MAX_BODY_CHARACTERS",
    "MAX_BODY_PARAGRAPHS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_LINES",
    "MAX_LINE_CHARACTERS",
    "MAX_MESSAGE",
    "MAX_PARAGRAPH_CHARACTERS",
    "MAX_SIGNATORIES",
    "SCHEMA",
    "SIGNATORY_NAMES",
    "ImportResult",
    "LetterDocumentError",
    "body_stream",
    "clean_inline",
    "derive_title",
    "export_letter",
    "import_letter",
    "invite_url",
    "json_path",
    "load_document",
    "match_organizations",
    "match_signatories",
    "rich_to_paragraphs",
    "validate_document",
]

#: Named by the project's LETTER_IMPORTER setting: how the letters app's Word import creates a
#: finished letter with its signatures and recognizes the members among its signatories.
LETTER_IMPORTER = LetterImporter(
    import_document=import_word_document,
    match_signatories=match_signatories,
    invite_url=invite_url,
)
