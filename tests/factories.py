import factory
from django.contrib.auth import get_user_model
from wagtail.models import Site

from coalition.crm.models import Coalition, Contact, Interaction, Membership, Organization
from letters.models import LetterIndexPage, LetterPage
from signatories.models import Signature


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(None)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Association of Widget Makers {n}")
    acronym = factory.Sequence(lambda n: f"AWM{n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@members.example.org")
    title = "Director of Policy"


class CoalitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coalition

    name = factory.Sequence(lambda n: f"Coalition {n}")
    slug = factory.Sequence(lambda n: f"coalition-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    coalition = factory.SubFactory(CoalitionFactory)
    organization = factory.SubFactory(OrganizationFactory)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    organization = factory.SubFactory(OrganizationFactory)
    summary = "Called about the spring letter."


def letter_index() -> LetterIndexPage:
    index = LetterIndexPage.objects.first()
    if index is None:
        root = Site.objects.get(is_default_site=True).root_page
        index = root.add_child(instance=LetterIndexPage(title="Letters", slug="letters"))
    return index


def make_letter(*, live: bool = True, **fields) -> LetterPage:
    """A letter under the archive, published unless live=False, saved with one revision."""
    defaults = {
        "title": "A joint letter on widgets",
        "slug": "widgets",
        "recipients": "The Honorable Jane Doe\nSecretary of Widgets",
        "salutation": "Dear Secretary Doe:",
        "closing": "Sincerely,",
        "body": [
            {"type": "paragraph", "value": "<p>We write about widgets.</p>"},
            {"type": "heading", "value": "Our asks"},
            {"type": "bullets", "value": ["<p>Fewer tariffs</p>", "<p>More widgets</p>"]},
        ],
    }
    defaults.update(fields)
    letter = LetterPage(**defaults, live=False)
    letter_index().add_child(instance=letter)
    revision = letter.save_revision()
    if live:
        revision.publish()
        letter.refresh_from_db()
    return letter


def publish(letter: LetterPage) -> LetterPage:
    """Publish a letter without a sign-on as staff would: its signatories are frozen as they are."""
    from signatories.services import Actor, publish_letter

    publish_letter(letter=letter, actor=Actor.system("test"))
    letter.refresh_from_db()
    return letter


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.LazyAttribute(
        lambda s: s.organization.printed_name if s.organization else "Someone"
    )
    status = Signature.Status.APPROVED
    response = Signature.Response.SIGNED
    position = factory.Sequence(int)
