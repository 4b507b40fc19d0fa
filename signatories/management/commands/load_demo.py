import json
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils.text import slugify
from faker import Faker
from wagtail.models import Site

from coalition.crm import demo as coalition_demo
from coalition.crm.models import Coalition, Contact, Membership, Organization, name_key
from coalition.crm.portal.selectors import active_organizations
from coalition.crm.services import create_organization
from letters import demo as letters_demo
from letters import demo_translations, signing
from letters.models import Letterhead, LetterPage
from letters.word_samples import sample_plain_lines_letter_docx, sample_signed_letter_docx
from signatories import demo as signatories_demo
from signatories import selectors
from signatories.interchange import import_letter
from signatories.models import SignOn
from signatories.services import Actor, publish_letter

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
STAFF_EMAIL = "staff@example.org"
PUBLISHER_EMAIL = "publisher@example.org"


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
                letter = self.publish_seed(seed)
                self.stdout.write(f"Published the seed letter, with logos, at {letter.get_url()}")
            else:
                self.stdout.write(f"The seed letter is already at {letter.get_url()}")
            coalition = self.coalition(seed)
            if letter.coalition_id is None:
                letter.coalition = coalition
                letter.save(update_fields=["coalition"])
        coalition_demo.load(self.stdout)
        letters_demo.load(self.stdout)
        signatories_demo.load(self.stdout)
        demo_translations.load(self.stdout)
        self.stdout.write(f"Staff login: {staff.email} (login by emailed code)")
        publisher = self.publisher()
        self.stdout.write(
            f"A publisher, who publishes letters and their corrections but reviews no "
            f"signature: {publisher.email}"
        )
        if not settings.STAFF_MFA_REQUIRED:
            self.stdout.write(
                "Two-factor sign-in for staff is off in development: set STAFF_MFA_REQUIRED=1 to "
                "try it (the admin then sends you to /accounts/2fa/ to add an app or a passkey)."
            )
        self.portal_login()
        self.word_sample()
        self.proof_note()

    def proof_note(self) -> None:
        """Where the published PDFs' signatures and contents are checked."""
        path = signing.certificate_path()
        signed = (
            f"signed with a development certificate ({path}), with a QR code of their "
            "verification page"
            if path is not None
            else "unsigned (PDF_SIGNING_CERT is not set)"
        )
        self.stdout.write(
            f"Published PDFs are {signed}: drop one on {settings.SITE_URL}/verify/, or run "
            "`manage.py verify_pdf FILE.pdf`."
        )

    def word_sample(self) -> None:
        """Letters in Word, to try the import page with."""
        path = Path(settings.BASE_DIR) / "var" / "samples" / "joint-statement.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sample_signed_letter_docx())
        self.stdout.write(
            f"A signed letter in Word to import: {path.relative_to(settings.BASE_DIR)} "
            "(admin: Letters, Import from Word; choose the finished letter with its signatories)."
        )
        plain = path.with_name("community-networks.docx")
        plain.write_bytes(sample_plain_lines_letter_docx())
        self.stdout.write(
            f"A letter whose signatories are plain lines: {plain.relative_to(settings.BASE_DIR)} "
            "(the import shows where the list begins, and lets you move it)."
        )

    def publish_seed(self, seed: dict[str, Any]) -> LetterPage:
        """The seed letter, published with the logos of a few of its signatories.

        Their organizations are made first, with the logos, so that the import finds them and
        their signatures carry the logos as they print.
        """
        for item in seed["signatories"]:
            acronym = item.get("acronym", "")
            if acronym not in coalition_demo.DEMO_LOGOS or "name" not in item:
                continue
            if not Organization.objects.filter(name_key=name_key(item["name"])).exists():
                create_organization(
                    name=item["name"],
                    acronym=acronym,
                    display=item.get("display", ""),
                    website=item.get("website", ""),
                    country=item.get("country", ""),
                    logo=coalition_demo.demo_logo(acronym),
                )
        letter = import_letter(document=seed).letter
        letter.show_logos = True
        revision = letter.save_revision()
        publish_letter(letter=letter, revision=revision, actor=Actor.system("load_demo"))
        letter.refresh_from_db()
        return letter

    def portal_login(self) -> None:
        """How a member contact signs in to the member portal: one still asked to answer."""
        sign_on = SignOn.objects.filter(status=SignOn.Status.OPEN).order_by("pk").first()
        contact = None
        if sign_on is not None:
            waiting = (
                selectors.awaiting_response(sign_on)
                .filter(contact__isnull=False, organization__in=active_organizations())
                .select_related("contact", "organization")
                .order_by("organization__logo", "organization__sort_name", "pk")
            )
            with_logo = [i for i in waiting if i.organization.logo_id is not None]
            chosen = with_logo[0] if with_logo else waiting.first()
            contact = chosen.contact if chosen is not None else None
        if contact is None:
            contact = (
                Contact.objects.filter(organization__in=active_organizations())
                .select_related("organization")
                .order_by("organization__sort_name", "pk")
                .first()
            )
        if contact is None:
            return
        shared = signatories_demo.share_draft_with(contact)
        self.stdout.write(
            f"Member portal: sign in at {settings.SITE_URL}/accounts/login/ with {contact.email} "
            f"(a contact of {contact.organization.name}); the code is printed in this terminal "
            "(the console email backend), and you land on /portal/"
            + (", where the draft shared with them to comment on is listed." if shared else ".")
        )

    def letterhead(self) -> None:
        site = Site.objects.get(is_default_site=True)
        letterhead = Letterhead.for_site(site)
        if not letterhead.coalition_name:
            letterhead.coalition_name = "Digital Trade Coalition"
            letterhead.address = "1200 G Street NW, Suite 800\nWashington, DC 20005"
            letterhead.footer = "Digital Trade Coalition · digitaltrade.example.org"
            letterhead.save()
        home = site.root_page
        # Wagtail's first page, or the site's name that a new database gives it (letters
        # migration 0014): the admin's page tree shows the site under the coalition's name.
        if home.title.startswith("Welcome to your new Wagtail site") or (
            home.title == settings.WAGTAIL_SITE_NAME
        ):
            home.title = letterhead.coalition_name
            home.draft_title = letterhead.coalition_name
            home.save(update_fields=["title", "draft_title"])

    def publisher(self) -> User:
        """Someone in "Publishers" only: the tracker's Publish is theirs, the review queue not."""
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=PUBLISHER_EMAIL).first()
        if user is None:
            user = user_model(username="publisher", email=PUBLISHER_EMAIL, first_name="Demo")
            user.set_unusable_password()
            user.save()
            EmailAddress.objects.create(
                user=user, email=PUBLISHER_EMAIL, primary=True, verified=True
            )
            user.groups.add(Group.objects.get(name="Publishers"))
        return user

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
