"""A letter's recipients: CRM contacts chosen from the CRM, or added to it on the spot (with their
office as an organization, through the CRM's own services)."""

from django.db import IntegrityError, transaction
from django.db.models import Max

from coalition.crm import services as crm
from coalition.crm.errors import CoalitionError
from coalition.crm.models import Contact
from letters.models import LetterPage
from signatories.errors import SignOnError
from signatories.models import Recipient

from .events import Actor


def add_recipient(*, letter: LetterPage, contact: Contact, actor: Actor) -> Recipient:
    """Address the letter to a CRM contact too, after those it has."""
    with transaction.atomic():
        LetterPage.objects.select_for_update().filter(pk=letter.pk).first()
        if Recipient.objects.filter(letter=letter, contact=contact).exists():
            raise SignOnError(
                f"{contact.name} is already a recipient of this letter.", field="contact"
            )
        last = Recipient.objects.filter(letter=letter).aggregate(last=Max("position"))["last"]
        try:
            with transaction.atomic():
                return Recipient.objects.create(
                    letter=letter,
                    contact=contact,
                    position=(last or 0) + 1,
                    added_by=actor.user,
                )
        except IntegrityError:
            raise SignOnError(
                f"{contact.name} is already a recipient of this letter.", field="contact"
            ) from None


def add_new_recipient(
    *, letter: LetterPage, name: str, email: str, title: str, office: str, actor: Actor
) -> Recipient:
    """Address the letter to someone the CRM does not know yet: their office is found by its
    name or added, they are added to it as a contact, then made a recipient. A person whose
    address the CRM knows is that contact, whatever name was typed."""
    found = Contact.objects.filter(email__iexact=email.strip()).first()
    if found is not None:
        return add_recipient(letter=letter, contact=found, actor=actor)
    try:
        with transaction.atomic():
            contact = crm.create_contact(
                organization=crm.office_named(office), name=name, email=email, title=title
            )
            return add_recipient(letter=letter, contact=contact, actor=actor)
    except CoalitionError as error:
        message = str(error)
        field = message.partition(":")[0].strip().lower()
        raise SignOnError(message, field=field if field in FIELDS else None) from None


FIELDS = {"name", "email", "title", "office"}


def remove_recipient(*, recipient: Recipient, actor: Actor) -> None:
    """The letter is no longer addressed to them: only while nothing was sent or answered."""
    with transaction.atomic():
        if recipient.deliveries.exists() or recipient.answers.exists():
            raise SignOnError(
                f"{recipient.contact.name} was sent the letter or answered it: the record stays."
            )
        Recipient.objects.filter(pk=recipient.pk).delete()
