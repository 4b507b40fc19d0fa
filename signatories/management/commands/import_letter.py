from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from letters.pdf import stored_letter_pdf
from signatories.interchange import (
    MAX_DOCUMENT_BYTES,
    LetterDocumentError,
    import_letter,
    load_document,
)

# A document wrong on every one of 10,000 signatories says so in a screenful, then a count.
MAX_PROBLEMS_SHOWN = 100


class Command(BaseCommand):
    help = "Import a letter with its signatories from the interchange JSON format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A JSON file in the letter interchange format.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish the letter and render its PDF."
        )

    def handle(self, *args: str, file: Path, publish: bool, **options: object) -> None:
        try:
            size = file.stat().st_size
            if size > MAX_DOCUMENT_BYTES:
                raise CommandError(
                    f"{file}: {size / 1_048_576:.1f} MB; the limit is "
                    f"{MAX_DOCUMENT_BYTES // 1_048_576} MB"
                )
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{file}: not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None
        try:
            result = import_letter(document=load_document(text), publish=publish)
        except LetterDocumentError as error:
            shown = error.problems[:MAX_PROBLEMS_SHOWN]
            more = len(error.problems) - len(shown)
            lines = "\n".join(f"  {problem}" for problem in shown)
            if more:
                lines += f"\n  … and {more:,} more"
            raise CommandError(
                f"{file}: {len(error.problems):,} problem(s); nothing was imported:\n{lines}"
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
