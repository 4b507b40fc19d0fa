from django.core.management.base import BaseCommand

from signatories.services import close_due_sign_ons


class Command(BaseCommand):
    help = "Close every open sign-on whose deadline has passed (run it from cron every minute)."

    def handle(self, *args: str, **options: object) -> None:
        closed = close_due_sign_ons()
        for sign_on in closed:
            self.stdout.write(f"Closed the sign-on on “{sign_on.letter.title}”.")
        if not closed:
            self.stdout.write("No sign-on is past its deadline.")
