import time

from django.core.management.base import BaseCommand, CommandParser

from coalition.crm.demo import generate_members


class Command(BaseCommand):
    help = "Make realistic fake organizations, contacts, memberships and interactions (Faker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organizations", type=int, default=1000)
        parser.add_argument("--contacts", type=int, default=5000)
        parser.add_argument("--coalitions", type=int, default=3)
        parser.add_argument("--seed", type=int, default=None, help="For repeatable data.")

    def handle(
        self,
        *args: str,
        organizations: int,
        contacts: int,
        coalitions: int,
        seed: int | None,
        **options: object,
    ) -> None:
        started = time.perf_counter()
        counts = generate_members(
            organizations=organizations, contacts=contacts, coalitions=coalitions, seed=seed
        )
        made = ", ".join(f"{n} {what}" for what, n in counts.items())
        self.stdout.write(f"Made {made} in {time.perf_counter() - started:.1f} s.")
