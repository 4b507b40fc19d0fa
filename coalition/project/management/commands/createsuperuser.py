import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from coalition.crm.accounts import AccountError, create_staff


class Command(BaseCommand):
    help = (
        "Make a superuser who signs in with a code emailed to their address. Asks for the address "
        "only: accounts here have no password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="The address the sign-in codes go to.")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Ask nothing: the address comes from --email or DJANGO_SUPERUSER_EMAIL.",
        )

    def handle(self, *args: str, email: str | None, interactive: bool, **options: object) -> None:
        if os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            self.stderr.write("DJANGO_SUPERUSER_PASSWORD is ignored: accounts have no password.")
        email = email or os.environ.get("DJANGO_SUPERUSER_EMAIL")
        if email is None and not interactive:
            raise CommandError("Give the address with --email (or DJANGO_SUPERUSER_EMAIL).")
        while True:
            if email is None:
                try:
                    email = input("Email address: ")
                except (EOFError, KeyboardInterrupt):
                    raise CommandError("Cancelled: no account was made.") from None
            try:
                user = create_staff(email=email)
                break
            except AccountError as error:
                if not interactive:
                    raise CommandError(str(error)) from None
                self.stderr.write(str(error))
                email = None
        self.stdout.write(
            f"Superuser {user.get_username()} made. It has no password: sign in at "
            f"{settings.SITE_URL}{reverse('account_request_login_code')} with the code emailed "
            f"to {user.email}, then add a second factor."
        )
