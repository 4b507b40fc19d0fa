from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from coalition.core.deliveries import needing_attention
from coalition.core.models import EmailDelivery


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
        parser.add_argument(
            "--about", help="Only the emails sent for this, e.g. a letter's title or “sign-on 12”."
        )
        parser.add_argument(
            "--check", action="store_true", help="Exit non-zero if any email needs attention."
        )

    def handle(
        self, *args: str, everything: bool, about: str | None, check: bool, **options: object
    ) -> None:
        deliveries = EmailDelivery.objects.all() if everything else needing_attention()
        if about:
            deliveries = deliveries.filter(topic__icontains=about)
        count = 0
        for delivery in deliveries.order_by("created_at"):
            count += 1
            topic = delivery.topic or "no topic"
            self.stdout.write(
                f"{delivery.created_at:%Y-%m-%d %H:%M} {delivery.get_status_display()}: "
                f"{delivery.job} to {delivery.recipient} ({topic}), “{delivery.subject}”, "
                f"{delivery.attempts} attempt(s)"
            )
            if delivery.error:
                self.stdout.write(f"    {delivery.error}")
        if not count:
            self.stdout.write("No email recorded." if everything else "No email needs attention.")
        elif check and not everything:
            raise CommandError(f"{count} email(s) need attention.")
