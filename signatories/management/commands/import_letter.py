import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters.pdf import stored_letter_pdf
from signatories.interchange import LetterDocumentError, import_letter


class Command(BaseCommand):
    help = "Import a letter with its signatories from the interchange JSON format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A JSON file in the letter interchange format.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish the letter and render its PDF."
        )

    def handle(self, *args: str, file: Path, publish: bool, **options: object) -> None:
        try:
            document = json.loads(file.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{file}: not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            ) from None
        try:
            result = import_letter(document=document, publish=publish)
        except LetterDocumentError as error:
            lines = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(
                f"{file}: {len(error.problems)} problem(s); nothing was imported:\n{lines}"
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
