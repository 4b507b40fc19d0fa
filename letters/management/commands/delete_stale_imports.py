from django.core.management.base import BaseCommand

from letters.services import delete_stale_imports


class Command(BaseCommand):
    help = (
        "Delete the uploads of imports nobody finished: members files checked but never "
        "imported, and Word import jobs, started more than a day ago. The task worker runs this "
        "daily; without it, run it from cron."
    )

    def handle(self, *args: object, **options: object) -> None:
        deleted = delete_stale_imports()
        self.stdout.write(f"Deleted {deleted} abandoned import upload(s).")
