import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from coalition.crm.imports import import_members


class Command(BaseCommand):
    help = (
        "Import organizations with their contacts and memberships from a CSV or XLSX file. "
        "Always checks the file first and shows what would change, row by row; --commit (or "
        "answering yes) then writes it, all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--commit", action="store_true", help="Write the changes (the default is a dry run)."
        )
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Never ask to confirm."
        )
        parser.add_argument("--quiet-rows", action="store_true", help="Do not list row by row.")

    def handle(
        self,
        *args: str,
        file: Path,
        commit: bool,
        interactive: bool,
        quiet_rows: bool,
        **options: object,
    ) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="row", file=self.stderr._out)
            bar.update(done - bar.n)

        data = file.read_bytes()
        started = time.perf_counter()
        report = import_members(data=data, filename=file.name, dry_run=True, progress=progress)
        for bar in bars.values():
            bar.close()
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(report.errors)} problem(s) in {file.name}: nothing was imported."
            )
        if not quiet_rows:
            for row in report.rows:
                changes = "; ".join(row.changes) or "no changes"
                warnings = "".join(f" [warning: {w}]" for w in row.warnings)
                self.stdout.write(
                    f"row {row.number}: {row.action} {row.organization}: {changes}{warnings}"
                )
        self.stdout.write(report.summary())
        if not commit and interactive and sys.stdin.isatty():
            commit = input("Import these rows? [y/N] ").strip().lower() in {"y", "yes"}
        if not commit:
            self.stdout.write("Dry run: nothing was written. Run again with --commit to import.")
            return
        bars.clear()
        report = import_members(data=data, filename=file.name, dry_run=False, progress=progress)
        for bar in bars.values():
            bar.close()
        if not report.ok:  # the data changed between the two runs
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError("Nothing was imported.")
        elapsed = time.perf_counter() - started
        self.stdout.write(report.summary())
        self.stdout.write(self.style.SUCCESS(f"Imported {file.name} in {elapsed:.1f} s."))
