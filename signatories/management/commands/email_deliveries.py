from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from signatories.deliveries import needing_attention
from signatories.models import EmailDelivery


class Command(BaseCommand):
    help = (
        "List the emails that were not sent and need a person: failed after their retries, "
        "uncertain (the worker died while sending: maybe sent, never sent again automatically), "
        "or stuck. With --check, exit non-zero when there are any (run it from cron)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--all", action="store_true", dest="everything", help="List every email recorded."
        )
        parser.add_argument("--sign-on", type=int, help="Only the emails of this sign-on (id).")
        parser.add_argument(
            "--check", action="store_true", help="Exit non-zero if any email needs attention."
        )

    def handle(
        self, *args: str, everything: bool, sign_on: int | None, check: bool, **options: object
    ) -> None:
        deliveries = (
            EmailDelivery.objects.select_related("sign_on__letter")
            if everything
            else needing_attention()
        )
        if sign_on is not None:
            deliveries = deliveries.filter(sign_on_id=sign_on)
        count = 0
        for delivery in deliveries.order_by("created_at"):
            count += 1
            letter = delivery.sign_on.letter.title if delivery.sign_on else "no sign-on"
            self.stdout.write(
                f"{delivery.created_at:%Y-%m-%d %H:%M} {delivery.get_status_display()}: "
                f"{delivery.job} to {delivery.recipient} ({letter}), “{delivery.subject}”, "
                f"{delivery.attempts} attempt(s)"
            )
            if delivery.error:
                self.stdout.write(f"    {delivery.error}")
        if not count:
            self.stdout.write("No email recorded." if everything else "No email needs attention.")
        elif check and not everything:
            raise CommandError(f"{count} email(s) need attention.")
