from django.core.management.base import BaseCommand, CommandError

from signatories.selectors import checkpoint_log_problems, sign_ons_with_broken_chains


class Command(BaseCommand):
    help = (
        "Check the record of every sign-on (keyed event chain, its head, each response against "
        "its last event, and the heads kept outside the database in EVENT_CHECKPOINTS); exits "
        "non-zero if one was changed outside the services. Run it from cron."
    )

    def handle(self, *args: str, **options: object) -> None:
        broken = sign_ons_with_broken_chains()
        for sign_on, problems in broken.items():
            self.stderr.write(f"The record of the sign-on on “{sign_on.letter.title}” is broken:")
            for problem in problems:
                self.stderr.write(f"  - {problem}")
        log_problems = checkpoint_log_problems()
        for problem in log_problems:
            self.stderr.write(f"The checkpoint log outside the database: {problem}")
        if broken:
            raise CommandError(f"{len(broken)} sign-on record(s) do not hold.")
        if log_problems:
            raise CommandError("The checkpoint log holds lines this site did not write.")
        self.stdout.write("Every sign-on's record holds.")
