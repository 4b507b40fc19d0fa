from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signatories import proof, selectors


class Command(BaseCommand):
    help = (
        "Check a letter's PDF: its signature (pyHanko's validator), the signatory list it "
        "carries against the one it prints, the record it carries (its hash links, and against "
        "this site's keyed record), and which published version it is. Exits with an error if "
        "anything does not hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The PDF to check.")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        try:
            pdf = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from error
        if not pdf.startswith(b"%PDF-"):
            raise CommandError(f"{path} is not a PDF (a PDF begins with “%PDF-”).")
        found = proof.read_proof(pdf, on_site=True)
        out = self.stdout.write
        out(f"{path}: {found.size} bytes, SHA-256 {found.sha256}")
        version = found.version
        if version is None:
            out("Published version: none on this site has this SHA-256.")
        else:
            later = selectors.versions_after(version)
            standing = (
                f"superseded by version {later[0].version} ({later[0].note})"
                if later
                else "current"
            )
            out(
                f"Published version: “{version.letter.title}”, version {version.version}, {standing}"
            )
        check = found.signature
        if not check.signed:
            out("Signature: none (published unsigned)")
        else:
            verdict = "valid" if check.holds else "NOT VALID"
            trust = "this site's certificate" if check.trusted else "not this site's certificate"
            out(
                f"Signature: {verdict}, by {check.signer} ({trust}), intact: {check.intact}, "
                f"covers the whole file: {check.whole_file}"
            )
            if check.timestamped_at:
                held = "holds" if check.timestamp_valid else "DOES NOT HOLD"
                out(
                    f"Timestamp: {check.timestamped_at.isoformat()} by {check.timestamp_authority} "
                    f"({held})"
                )
        if found.listed or found.list_problems:
            out(
                f"Signatory list: {len(found.listed)} lines, "
                + ("matches the printed list" if not found.list_problems else "DIFFERS")
            )
        if found.record is not None:
            out(
                f"Record: {found.record.get('events')} events to head {found.record.get('head')}, "
                + ("hash links hold" if not found.record_problems else "LINKS DO NOT HOLD")
                + (
                    ""
                    if found.record_problems
                    else (
                        ", matches this site's keyed record"
                        if not found.keyed_problems
                        else ", DOES NOT MATCH this site's keyed record"
                    )
                )
            )
        problems = [
            *found.problems,
            *found.list_problems,
            *found.record_problems,
            *found.keyed_problems,
        ]
        if check.signed and not check.holds:
            problems.append("The signature does not hold.")
        for problem in problems:
            self.stderr.write(f"  {problem}")
        if problems:
            raise CommandError(f"{path} does not hold: {len(problems)} problem(s).")
        out("Everything holds.")
