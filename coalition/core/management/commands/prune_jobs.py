from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from coalition.core import deliveries, worker

BACKEND = "background"


class Command(BaseCommand):
    help = (
        "Delete finished jobs (successful after 7 days, failed after 30) and old email records "
        "(sent after 30 days, the others after 180). `manage.py worker` does it daily."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: str, dry_run: bool, **options: object) -> None:
        jobs = worker.prune_finished_jobs(backend_name=BACKEND, dry_run=dry_run)
        emails = deliveries.prune_deliveries(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {jobs} finished job(s) and {emails} email record(s).")
