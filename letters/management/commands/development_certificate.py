from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from wagtail.models import Site

from letters.certificates import write_development_certificate
from letters.models import Letterhead


class Command(BaseCommand):
    help = (
        "Make a development certificate at PDF_SIGNING_CERT, unless one is there, so that "
        "published versions are signed as in production (`make run` does this). Nobody else "
        "trusts it: production sets PDF_SIGNING_CERT to the coalition's own certificate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name",
            default="",
            help="Whose it is: by default the coalition the letterhead names, or the site's name.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("A development certificate is for development: DEBUG is off.")
        if not settings.PDF_SIGNING_CERT:
            raise CommandError("Set PDF_SIGNING_CERT to where the certificate should be.")
        path = Path(settings.PDF_SIGNING_CERT)
        name = str(options["name"]) or _coalition_name()
        if write_development_certificate(path, name=name, password=settings.PDF_SIGNING_PASSWORD):
            self.stdout.write(f"Made a development certificate for {name} at {path}.")
        else:
            self.stdout.write(f"The certificate at {path} is kept.")


def _coalition_name() -> str:
    """The coalition the default site's letterhead names (read, never created here)."""
    site = Site.objects.filter(is_default_site=True).first()
    letterhead = Letterhead.objects.filter(site=site).first() if site is not None else None
    if letterhead is not None and letterhead.coalition_name:
        return str(letterhead.coalition_name)
    return str(settings.WAGTAIL_SITE_NAME)
