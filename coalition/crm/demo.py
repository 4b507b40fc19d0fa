"""Demo and development data for the member CRM.

`load()` adds to the demo content (a second coalition, tags, interactions, logos) and is idempotent;
`generate_members()` makes large, realistic fake data sets for development and benchmarks.
"""

import datetime
import random
from io import BytesIO
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from taggit.models import Tag
from wagtail.images import get_image_model

from coalition.crm.indexing import settle_bulk_writes
from coalition.crm.models import (
    Coalition,
    Contact,
    Interaction,
    Membership,
    Organization,
    OrganizationTag,
    name_key,
    sort_name_for,
)
from coalition.crm.services import (
    create_organization,
    create_organizations,
    log_interaction,
    new_organization,
    tag_organization,
    update_organization,
)

if TYPE_CHECKING:
    from faker import Faker

DEMO_TAGS = {
    "ACT": ["apps", "small business"],
    "CCIA": ["platforms", "ai"],
    "CTA": ["hardware", "ai"],
    "SIIA": ["software", "data", "ai"],
    "NAM": ["manufacturing", "trade"],
    "NFTC": ["trade"],
    "USCIB": ["trade"],
    "NSBA": ["small business"],
}
DEMO_INTERACTIONS = [
    (
        "CTA",
        Interaction.Kind.CALL,
        30,
        "Walked through the AI letter's asks; they will take it to their board.",
    ),
    (
        "CSI",
        Interaction.Kind.MEETING,
        21,
        "Steering group meeting: agreed the deadline and the recipients.",
    ),
    ("CCIA", Interaction.Kind.EMAIL, 14, "Sent the draft text for comments."),
    ("ACT", Interaction.Kind.NOTE, 7, "Prefers to print as “ACT | The App Association”."),
    ("SIIA", Interaction.Kind.EMAIL, 10, "Asked to mention data flows; the draft now does."),
]


# Logos for a few demo members, drawn here rather than shipped: a wordmark on a colour, as a
# member might upload one.
# Members whose names are in other scripts: they import, match, sort and print like any other.
DEMO_WORLD_MEMBERS = [
    ("Союз промышленников и предпринимателей", "РСПП", "RU", "policy@rspp.example.org"),
    ("Ελληνική Ένωση Βιομηχανιών", "", "GR", "policy@sev.example.org"),
    ("東京商工会議所", "", "JP", "policy@tokyo-cci.example.org"),
    ("اتحاد الصناعات", "", "AE", "policy@fei.example.org"),
]
# A likely duplicate of a member, as a spreadsheet would have typed it: offered for merging.
DEMO_LIKELY_DUPLICATE = ("Computer and Communications Industry Assn", "ccia-dc@example.org")
# Typed with a letter missing: "Likely duplicates" catches it beside the real one.
DEMO_MISSPELT = ("Nationl Foreign Trade Council", "nftc-desk@example.org")

DEMO_LOGOS = {"ACT": "#1f5f7a", "CSI": "#7a1f3d", "CCIA": "#2c6e31", "CTA": "#4f3a80"}


def logo_png(wordmark: str, colour: str) -> bytes:
    """A small PNG logo: the wordmark in white on the colour."""
    image = Image.new("RGB", (240, 96), colour)
    font = ImageFont.load_default(size=52)
    ImageDraw.Draw(image).text((120, 48), wordmark, fill="white", font=font, anchor="mm")
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def demo_logo(acronym: str) -> Any:
    """The demo logo of the member with this acronym, as a Wagtail image (made once)."""
    images = get_image_model()
    title = f"{acronym} logo"
    existing = images.objects.filter(title=title).first()
    if existing is not None:
        return existing
    data = logo_png(acronym, DEMO_LOGOS[acronym])
    return images.objects.create(
        title=title, file=ImageFile(BytesIO(data), name=f"{acronym.lower()}-logo.png")
    )


class Output(Protocol):
    """Where a demo says what it did: a command's stdout, or a StringIO in tests."""

    def write(self, text: str) -> object: ...


def load(stdout: "Output") -> None:
    """Add a second coalition, tags and a few interactions to the demo members (idempotent)."""
    with transaction.atomic():
        staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        by_acronym = {o.acronym.upper(): o for o in Organization.objects.exclude(acronym="")}
        for acronym in DEMO_LOGOS:
            org = by_acronym.get(acronym)
            if org is not None and org.logo_id is None:
                update_organization(org, {}, logo=demo_logo(acronym))
        for acronym, tags in DEMO_TAGS.items():
            org = by_acronym.get(acronym)
            if org is not None:
                tag_organization(org, tags)
        ai, created = Coalition.objects.get_or_create(
            slug="ai-policy-working-group",
            defaults={
                "name": "AI Policy Working Group",
                "description": "Members following AI legislation and executive action.",
            },
        )
        for i, acronym in enumerate(["CCIA", "CTA", "SIIA", "ACT"]):
            org = by_acronym.get(acronym)
            if org is not None:
                Membership.objects.get_or_create(
                    coalition=ai,
                    organization=org,
                    left_on=None,
                    defaults={"tier": Membership.Tier.LEAD if i == 0 else Membership.Tier.MEMBER},
                )
        _world_members()
        _likely_duplicate(ai)
        today = timezone.localdate()
        for acronym, kind, days_ago, summary in DEMO_INTERACTIONS:
            org = by_acronym.get(acronym)
            if org is None or org.interactions.filter(summary=summary).exists():
                continue
            log_interaction(
                organization=org,
                author=staff,
                kind=kind,
                summary=summary,
                occurred_on=today - datetime.timedelta(days=days_ago),
                contact=org.contacts.first(),
            )
    stdout.write(
        f"CRM demo: {'created' if created else 'kept'} the coalition {ai.name}; "
        f"{Interaction.objects.count()} interactions."
    )


def _member(name: str, *, acronym: str = "", country: str = "") -> Organization:
    organization = Organization.objects.filter(name_key=name_key(name)).first()
    if organization is None:
        organization = create_organization(name=name, acronym=acronym, country=country)
    return organization


def _world_members() -> None:
    """Members in Cyrillic, Greek, Japanese and Arabic, in the seed letter's coalition: they are
    invited to the demo sign-ons, and the published demo letter prints their names."""
    coalition = Coalition.objects.filter(slug="digital-trade-coalition").first()
    if coalition is None:
        return
    for name, acronym, country, email in DEMO_WORLD_MEMBERS:
        organization = _member(name, acronym=acronym, country=country)
        Membership.objects.get_or_create(
            coalition=coalition,
            organization=organization,
            left_on=None,
            defaults={"tier": Membership.Tier.MEMBER},
        )
        Contact.objects.get_or_create(
            email=email,
            defaults={
                "organization": organization,
                "name": "Policy office",
                "is_authorized_signer": True,
                "is_primary": True,
            },
        )


def _likely_duplicate(coalition: Coalition) -> None:
    """A second record of a member under an abbreviated name: the admin's "Likely duplicates"
    page offers the pair for merging."""
    for name, email in (DEMO_LIKELY_DUPLICATE, DEMO_MISSPELT):
        organization = _member(name, country="US")
        Membership.objects.get_or_create(
            coalition=coalition,
            organization=organization,
            left_on=None,
            defaults={"tier": Membership.Tier.MEMBER},
        )
        Contact.objects.get_or_create(
            email=email, defaults={"organization": organization, "name": "Front desk"}
        )


# Fake data at scale ---------------------------------------------------------------------------

KINDS = [
    (Organization.Kind.TRADE_ASSOCIATION, 55),
    (Organization.Kind.COMPANY, 20),
    (Organization.Kind.NGO, 12),
    (Organization.Kind.UNION, 5),
    (Organization.Kind.ACADEMIC, 5),
    (Organization.Kind.OTHER, 3),
]
TIERS = [
    (Membership.Tier.LEAD, 2),
    (Membership.Tier.STEERING, 8),
    (Membership.Tier.MEMBER, 80),
    (Membership.Tier.OBSERVER, 10),
]
COUNTRIES = ["US"] * 12 + ["CA", "GB", "DE", "FR", "BE", "NL", "JP", "KR", "AU", "IN", "BR", "MX"]
TAGS = ["ai", "privacy", "trade", "tax", "telecom", "health", "energy", "small business", "data"]
SHAPES = [
    "{w} Association",
    "Association of {w} Manufacturers",
    "{w} Industry Council",
    "National {w} Alliance",
    "The {w} Institute",
    "{w} Federation",
    "{c}",
    "{w} Workers Union",
    "Center for {w} Policy",
]
BATCH = 2000


def _acronym(name: str) -> str:
    words = [w for w in sort_name_for(name).replace(",", " ").split() if w[0].isalpha()]
    return "".join(w[0] for w in words if w.lower() not in {"of", "for", "and", "the"}).upper()[:8]


def generate_members(
    *,
    organizations: int,
    contacts: int,
    coalitions: int = 3,
    seed: int | None = None,
    stdout: "Output | None" = None,
) -> dict[str, int]:
    """Create realistic fake organizations with contacts, memberships, tags and interactions."""
    from faker import Faker

    fake = Faker(["en_US"])
    rng = random.Random(seed)
    if seed is not None:
        Faker.seed(seed)
    now = timezone.now()
    with transaction.atomic():
        coalition_rows = _fake_coalitions(fake, rng, coalitions)
        orgs = create_organizations(
            _fake_organizations(fake, rng, organizations, now=now), batch_size=BATCH
        )
        _fake_tags(rng, orgs)
        memberships = _fake_memberships(rng, orgs, coalition_rows)
        counts = {
            "organizations": len(orgs),
            "contacts": _fake_contacts(fake, rng, orgs, contacts, now=now),
            "memberships": memberships,
            "interactions": _fake_interactions(fake, rng, orgs, now=now),
        }
        settle_bulk_writes([Organization, Contact, Membership, Interaction])
    if stdout is not None:
        stdout.write(", ".join(f"{n} {what}" for what, n in counts.items()))
    return counts


def _fake_coalitions(fake: "Faker", rng: random.Random, count: int) -> list[Coalition]:
    rows = []
    for i in range(count):
        name = f"{fake.unique.bs().title()} Coalition"[:200] if i else "Generated Members Coalition"
        rows.append(
            Coalition.objects.get_or_create(
                name=name, defaults={"slug": f"generated-{i}-{rng.randrange(10**8)}"}
            )[0]
        )
    return rows


def _fake_organizations(
    fake: "Faker", rng: random.Random, count: int, *, now: datetime.datetime
) -> list[Organization]:
    """Organizations named as members are, each name unique as the database insists."""
    existing = set(Organization.objects.values_list("name_key", flat=True))
    orgs: list[Organization] = []
    while len(orgs) < count:
        shape = rng.choice(SHAPES)
        word = fake.word().title() if rng.random() < 0.5 else fake.last_name()
        name = shape.format(w=word, c=fake.company())
        key = name_key(name)
        if key in existing:
            name = f"{name} {fake.city()}"
            key = name_key(name)
            if key in existing:
                continue
        existing.add(key)
        domain = f"{key[:30]}.example.org"
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        details: dict[str, str] = {
            "name": name,
            "acronym": _acronym(name) if rng.random() < 0.8 else "",
            "kind": kind,
            "country": rng.choice(COUNTRIES),
            "website": f"https://www.{domain}",
            "description": fake.catch_phrase(),
            "status": Organization.Status.ARCHIVED
            if rng.random() < 0.05
            else Organization.Status.ACTIVE,
        }
        orgs.append(new_organization(details, created_at=now))
    return orgs


def _fake_tags(rng: random.Random, orgs: list[Organization]) -> None:
    tags = [
        Tag.objects.get_or_create(name=t, defaults={"slug": t.replace(" ", "-")})[0] for t in TAGS
    ]
    links = []
    for org in orgs:
        for tag in rng.sample(tags, rng.choice([0, 1, 1, 2])):
            links.append(OrganizationTag(content_object=org, tag=tag))
    OrganizationTag.objects.bulk_create(links, batch_size=BATCH)


def _fake_memberships(
    rng: random.Random, orgs: list[Organization], coalitions: list[Coalition]
) -> int:
    today = timezone.localdate()
    memberships = []
    for org in orgs:
        for coalition in coalitions:
            if rng.random() < (0.8 if coalition is coalitions[0] else 0.25):
                memberships.append(
                    Membership(
                        organization=org,
                        coalition=coalition,
                        tier=rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0],
                        joined_on=today - datetime.timedelta(days=rng.randrange(3650)),
                    )
                )
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    return len(memberships)


def _fake_contacts(
    fake: "Faker",
    rng: random.Random,
    orgs: list[Organization],
    count: int,
    *,
    now: datetime.datetime,
) -> int:
    """People at the organizations: every organization gets one before any gets a second."""
    people = []
    emails = {e.lower() for e in Contact.objects.values_list("email", flat=True)}
    for i in range(count if orgs else 0):
        org = orgs[i % len(orgs)]
        first, last = fake.first_name(), fake.last_name()
        domain = org.website.split("www.", 1)[1]
        email = f"{first}.{last}@{domain}".lower()
        if email in emails:
            email = f"{first}.{last}.{i}@{domain}".lower()
        emails.add(email)
        first_at_org = i < len(orgs)
        people.append(
            Contact(
                organization=org,
                name=f"{first} {last}",
                email=email,
                title=fake.job()[:200],
                phone=fake.numerify("+1 ###-###-####"),
                is_primary=first_at_org,
                is_authorized_signer=first_at_org or rng.random() < 0.1,
                email_opt_out=rng.random() < 0.02,
                created_at=now,
            )
        )
    Contact.objects.bulk_create(people, batch_size=BATCH)
    return len(people)


def _fake_interactions(
    fake: "Faker", rng: random.Random, orgs: list[Organization], *, now: datetime.datetime
) -> int:
    today = timezone.localdate()
    interactions = []
    for org in rng.sample(orgs, min(len(orgs), len(orgs) // 3)):
        interactions.append(
            Interaction(
                organization=org,
                kind=rng.choice(Interaction.Kind.values),
                occurred_on=today - datetime.timedelta(days=rng.randrange(365)),
                summary=fake.sentence(nb_words=12),
                created_at=now,
            )
        )
    Interaction.objects.bulk_create(interactions, batch_size=BATCH)
    return len(interactions)
