from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Accounts here have no password: they sign in with a code emailed to their address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?")

    def handle(self, *args: str, **options: object) -> None:
        raise CommandError(
            "Accounts have no password: everyone signs in with a code emailed to the address on "
            "their account (and staff with a second factor). To let someone in, correct that "
            "address in the admin (Settings → Users)."
        )
