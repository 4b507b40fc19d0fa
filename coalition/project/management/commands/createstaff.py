from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from coalition.crm.accounts import AccountError, create_staff


class Command(BaseCommand):
    help = (
        "Make a staff account that signs in with a code emailed to EMAIL; it has no password. "
        "The first one of an installation is a superuser, who adds the others in the admin; "
        "--group makes one with the permissions of those groups alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", metavar="EMAIL", help="The address the sign-in codes go to.")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            dest="groups",
            metavar="GROUP",
            help="A group to put the account in instead of making it a superuser (Editors, "
            "Moderators, Publishers, Coalition managers …); may be given more than once.",
        )

    def handle(self, *args: str, email: str, groups: list[str], **options: object) -> None:
        try:
            user = create_staff(email=email, groups=groups)
        except AccountError as error:
            raise CommandError(str(error)) from None
        rights = (
            f"in {', '.join(groups)}"
            if groups
            else "a superuser, who adds the other staff under Settings → Users"
        )
        factor = (
            "The admin then asks for a second factor (an authenticator app, a security key or a "
            f"passkey) at {settings.SITE_URL}{reverse('mfa_index')} before anything else."
            if settings.STAFF_MFA_REQUIRED
            else "A second factor can be added at "
            f"{settings.SITE_URL}{reverse('mfa_index')} (required when STAFF_MFA_REQUIRED is on)."
        )
        self.stdout.write(
            f"Staff account {user.email} made ({rights}). It has no password: sign in at "
            f"{settings.SITE_URL}{reverse('account_request_login_code')} with the code emailed "
            f"to {user.email} (the task worker sends it). {factor}"
        )
