import json
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils.text import slugify
from faker import Faker
from wagtail.models import Site

from coalition import demo as coalition_demo
from coalition.models import Coalition, Contact, Membership, Organization, name_key
from letters import demo as letters_demo
from letters.models import Letterhead, LetterPage
from signatories import demo as signatories_demo
from signatories.interchange import import_letter

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
STAFF_EMAIL = "staff@example.org"


class Command(BaseCommand):
    help = "Load the demo content: the seed letter, its signatories, their coalition and a staff login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--staff-email", default=STAFF_EMAIL)

    def handle(self, *args: str, staff_email: str, **options: object) -> None:
        # The demo's workflow and sign-on send real emails; keep them out of the setup output.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self.load(staff_email)

    def load(self, staff_email: str) -> None:
        with transaction.atomic():
            self.letterhead()
            staff = self.staff(staff_email)
            seed = json.loads((DEMO_DIR / "seed-letter.json").read_text())
            letter = LetterPage.objects.filter(title=seed["title"]).first()
            if letter is None:
                letter = import_letter(document=seed, publish=True).letter
                self.stdout.write(f"Published the seed letter at {letter.get_url()}")
            else:
                self.stdout.write(f"The seed letter is already at {letter.get_url()}")
            coalition = self.coalition(seed)
            if letter.coalition_id is None:
                letter.coalition = coalition
                letter.save(update_fields=["coalition"])
        coalition_demo.load(self.stdout)
        letters_demo.load(self.stdout)
        signatories_demo.load(self.stdout)
        self.stdout.write(f"Staff login: {staff.email} (login by emailed code)")

    def letterhead(self) -> None:
        site = Site.objects.get(is_default_site=True)
        letterhead = Letterhead.for_site(site)
        if not letterhead.coalition_name:
            letterhead.coalition_name = "Digital Trade Coalition"
            letterhead.address = "1200 G Street NW, Suite 800\nWashington, DC 20005"
            letterhead.footer = "Digital Trade Coalition · digitaltrade.example.org"
            letterhead.save()

    def staff(self, email: str) -> User:
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email).first()
        if user is None:
            user = user_model(username="staff", email=email, first_name="Demo", last_name="Staff")
            user.set_unusable_password()
            user.is_staff = user.is_superuser = True
            user.save()
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        return user

    def coalition(self, seed: dict[str, Any]) -> Coalition:
        """The seed letter's signatories as members of a coalition, with a contact each."""
        coalition, _ = Coalition.objects.get_or_create(
            slug="digital-trade-coalition",
            defaults={
                "name": "Digital Trade Coalition",
                "description": "Trade associations working together on digital trade and AI policy.",
            },
        )
        fake = Faker("en_US")
        fake.seed_instance(2025)
        for i, item in enumerate(seed["signatories"]):
            org = Organization.objects.get(name_key=name_key(item["name"]))
            tier = (
                Membership.Tier.LEAD
                if i == 0
                else Membership.Tier.STEERING
                if i < 4
                else Membership.Tier.MEMBER
            )
            Membership.objects.get_or_create(
                coalition=coalition, organization=org, left_on=None, defaults={"tier": tier}
            )
            handle = slugify(item.get("acronym") or item["name"]).replace("-", "")[:20]
            name = fake.name()
            Contact.objects.get_or_create(
                email=f"policy@{handle}.example.org",
                defaults={
                    "organization": org,
                    "name": name,
                    "title": "Director of Policy",
                    "is_authorized_signer": True,
                    "is_primary": True,
                },
            )
        return coalition
