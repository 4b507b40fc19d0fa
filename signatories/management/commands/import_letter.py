from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from letters.pdf import stored_letter_pdf
from letters.word import (
    WordImportError,
    WordLetter,
    interchange_document,
    read_word_letter,
    with_word_lines,
)
from signatories.interchange import (
    MAX_DOCUMENT_BYTES,
    LetterDocumentError,
    import_letter,
    load_document,
)

# A document wrong on every one of 10,000 signatories says so in a screenful, then a count.
MAX_PROBLEMS_SHOWN = 100


class Command(BaseCommand):
    help = (
        "Import a letter with its signatories from the interchange JSON format, or from a Word "
        "(.docx) file whose signatory block ends the letter."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            type=Path,
            help="A JSON file in the letter interchange format, or a Word letter (.docx).",
        )
        parser.add_argument(
            "--publish", action="store_true", help="Publish the letter and render its PDF."
        )

    def handle(self, *args: str, file: Path, publish: bool, **options: object) -> None:
        # A Word letter is read into the interchange format and imported by the same function,
        # with the same messages (each naming the Word line it is about) and all or nothing.
        word = self._read_word(file) if file.suffix.lower() == ".docx" else None
        text = self._read_json(file) if word is None else ""
        try:
            document = interchange_document(word) if word else load_document(text)
            result = import_letter(document=document, publish=publish)
        except LetterDocumentError as error:
            problems = with_word_lines(error.problems, word) if word else error.problems
            shown = problems[:MAX_PROBLEMS_SHOWN]
            more = len(problems) - len(shown)
            lines = "\n".join(f"  {problem}" for problem in shown)
            if more:
                lines += f"\n  … and {more:,} more"
            raise CommandError(
                f"{file}: {len(problems):,} problem(s); nothing was imported:\n{lines}"
            ) from None
        except DatabaseError as error:
            # What no check foresaw (an organization added meanwhile under the same name): the
            # transaction was rolled back whole.
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise CommandError(
                f"{file}: the database refused the import ({reason}); nothing was imported"
            ) from None
        letter = result.letter
        self.stdout.write(
            f"Imported {letter.title!r}: {result.signatures_created} signatories, "
            f"{result.organizations_created} new organizations."
        )
        if publish:
            stored_letter_pdf(letter, letter.signatory_lines())
            self.stdout.write(letter.get_url())
        else:
            self.stdout.write(f"Saved as a draft: /admin/pages/{letter.pk}/edit/")

    def _read_word(self, file: Path) -> WordLetter:
        """The Word letter with its signatory block; what was read uncertainly goes to stderr."""
        try:
            with file.open("rb") as upload:
                word = read_word_letter(upload, name=file.name)
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except WordImportError as error:
            raise CommandError(f"{file}: {error} Nothing was imported.") from None
        if not word.signatories:
            raise CommandError(
                f"{file}: no signatories were found at the end of the letter. Put a closing line "
                "such as “Sincerely,” or a heading such as “Signatories” before the list; nothing "
                "was imported."
            )
        for note in word.notes:
            self.stderr.write(f"{file}: {note}")
        return word

    def _read_json(self, file: Path) -> str:
        try:
            with file.open("rb") as source:
                # No more is read than the limit, whatever size the file system gives (a pipe's
                # is 0).
                data = source.read(MAX_DOCUMENT_BYTES + 1)
            size = max(file.stat().st_size, len(data))
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{file}: a folder, not a file") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise CommandError(
                f"{file}: {size / 1_048_576:.1f} MB; the limit is "
                f"{MAX_DOCUMENT_BYTES // 1_048_576} MB. Split the letter or its signatories; "
                "nothing was imported"
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{file}: not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None
