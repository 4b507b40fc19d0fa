import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters.models import LetterPage
from signatories.interchange import export_letter


class Command(BaseCommand):
    help = "Export a letter with its signatories in the interchange JSON format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The letter's slug, as in /letters/<slug>/.")
        parser.add_argument(
            "--output", "-o", type=Path, help="Write to this file instead of stdout."
        )

    def handle(self, *args: str, slug: str, output: Path | None, **options: object) -> None:
        letter = LetterPage.objects.filter(slug=slug).first()
        if letter is None:
            raise CommandError(f"No letter has the slug {slug!r}.")
        text = json.dumps(export_letter(letter), indent=2, ensure_ascii=False) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"Wrote {output}")
