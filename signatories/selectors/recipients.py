"""Reads of what follows publication: a letter's recipients and whether its address block names
them, each delivery's status as staff see it, the answers, who is due a reminder, and across
letters, who listens."""

import datetime
import re
import statistics
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from coalition.core.models import EmailDelivery
from coalition.crm.models import Contact
from letters.models import LetterPage, Publication
from signatories.models import Answer, LetterDelivery, Recipient, Signature

#: How many contacts a search of the CRM lists at once.
SEARCH_LIMIT = 20
WORD = re.compile(r"\w+")


def letter_recipients(letter: LetterPage) -> QuerySet[Recipient]:
    """The letter's recipients in address-block order, with their contact and office."""
    return (
        Recipient.objects.filter(letter=letter)
        .select_related("contact", "contact__organization")
        .order_by("position", "pk")
    )


def find_recipient(letter: LetterPage, pk: int) -> Recipient | None:
    """One of the letter's recipients, by its id."""
    return letter_recipients(letter).filter(pk=pk).first()


def contacts_matching(letter: LetterPage, query: str) -> list[Contact]:
    """CRM contacts whose name, email or organization holds `query`, not yet recipients."""
    query = " ".join(query.split())[:100]
    if len(query) < 2:
        return []
    chosen = Recipient.objects.filter(letter=letter).values("contact_id")
    return list(
        Contact.objects.select_related("organization")
        .filter(
            Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(organization__name__icontains=query)
        )
        .exclude(pk__in=chosen)
        .order_by("name", "pk")[:SEARCH_LIMIT]
    )


def contact_by_id(pk: int) -> Contact | None:
    return Contact.objects.select_related("organization").filter(pk=pk).first()


# The address block -------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    """The words of a text, case and accents aside, leaving out initials ("R.")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return {word for word in WORD.findall(plain) if len(word) > 1}


def address_blocks(letter: LetterPage) -> list[list[str]]:
    """The address block as its addressees: runs of lines parted by a blank line."""
    blocks: list[list[str]] = [[]]
    for line in letter.recipients.splitlines():
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _names(recipient: Recipient) -> list[set[str]]:
    """What may name a recipient in the address block: their name, or their office's."""
    return [
        words
        for words in (
            _words(recipient.contact.name),
            _words(recipient.contact.organization.name),
        )
        if words
    ]


def address_block_warnings(letter: LetterPage, recipients: list[Recipient]) -> list[str]:
    """Where the letter's address block and its recipients disagree, in words for staff: a
    recipient the block does not name, and an addressee of the block who is no recipient.

    A recipient is named when every word of their name (or their office's) is in one addressee's
    lines, whatever the case, accents, titles and initials around it.
    """
    blocks = [(block, _words(" ".join(block))) for block in address_blocks(letter)]
    warnings = []
    named_blocks: set[int] = set()
    for recipient in recipients:
        names = _names(recipient)
        found = [i for i, (_, words) in enumerate(blocks) if any(n <= words for n in names)]
        named_blocks.update(found)
        if not found:
            warnings.append(
                f"{recipient.contact.name} ({recipient.contact.organization.name}) is a "
                "recipient, but the letter's address block does not name them."
            )
    for i, (block, _) in enumerate(blocks):
        if i not in named_blocks:
            warnings.append(
                f"The address block names “{block[0]}”, who is not among the recipients: add "
                "them from the CRM, or correct the address block."
            )
    return warnings


# Deliveries --------------------------------------------------------------------------------


def _with_outbox_status(deliveries: QuerySet[LetterDelivery]) -> QuerySet[LetterDelivery]:
    outbox = EmailDelivery.objects.filter(key=OuterRef("outbox_key")).values("status")[:1]
    return deliveries.annotate(outbox_status=Subquery(outbox))


def shown_status(delivery: LetterDelivery) -> str:
    """A delivery's status in words: the provider's latest word, or the outbox's before any.

    With a provider that reports nothing (SMTP, the console), "sent" is the outbox's: the mail
    server took it. A failed or uncertain send shows as such.
    """
    if not delivery.by_email:
        on = f" on {delivery.delivered_on:%-d %B %Y}" if delivery.delivered_on else ""
        return f"Delivered ({delivery.get_method_display().lower()}){on}"
    outbox = getattr(delivery, "outbox_status", None)
    if delivery.status == LetterDelivery.Status.QUEUED:
        if outbox == EmailDelivery.Status.SENT:
            return "Sent"
        if outbox in (EmailDelivery.Status.FAILED, EmailDelivery.Status.UNCERTAIN):
            return f"Not sent ({EmailDelivery.Status(outbox).label})"
        if outbox == EmailDelivery.Status.RETRYING:
            return "Queued (the mail server is away; retrying)"
    return str(delivery.get_status_display())


def letter_deliveries(letter: LetterPage) -> QuerySet[LetterDelivery]:
    """Every delivery of the letter, oldest first, with its recipient, version and outbox."""
    return _with_outbox_status(
        LetterDelivery.objects.filter(recipient__letter=letter)
        .select_related("recipient__contact__organization", "publication")
        .order_by("created_at", "pk")
    )


def deliveries_of_letters(letter_ids: list[int]) -> QuerySet[LetterDelivery]:
    """Every delivery of these letters, oldest first, with its recipient and outbox status."""
    return _with_outbox_status(
        LetterDelivery.objects.filter(recipient__letter_id__in=letter_ids)
        .select_related("recipient__contact__organization")
        .order_by("created_at", "pk")
    )


def find_delivery(letter: LetterPage, pk: int) -> LetterDelivery | None:
    """One of the letter's deliveries, by its id."""
    return letter_deliveries(letter).filter(pk=pk).first()


def find_answer(letter: LetterPage, pk: int) -> Answer | None:
    """One of the letter's answers, by its id."""
    return letter_answers(letter).filter(pk=pk).first()


def delivery_by_outbox_key(key: str) -> LetterDelivery | None:
    return LetterDelivery.objects.filter(outbox_key=key, method="email").first()


def emailed_this_version(recipients: list[Recipient], publication: Publication) -> set[int]:
    """Of these recipients, those the version was emailed to already."""
    return set(
        LetterDelivery.objects.filter(
            recipient__in=recipients, publication=publication, method="email"
        ).values_list("recipient_id", flat=True)
    )


# Answers -----------------------------------------------------------------------------------


def letter_answers(letter: LetterPage) -> QuerySet[Answer]:
    return (
        Answer.objects.filter(recipient__letter=letter)
        .select_related("recipient__contact__organization")
        .order_by("received_on", "pk")
    )


def published_answers(letter: LetterPage) -> QuerySet[Answer]:
    return letter_answers(letter).filter(published_at__isnull=False)


def published_answers_of_letters(letter_ids: list[int]) -> QuerySet[Answer]:
    """The published answers to these letters, oldest first, with who gave them."""
    return (
        Answer.objects.filter(recipient__letter_id__in=letter_ids, published_at__isnull=False)
        .select_related("recipient__contact__organization")
        .order_by("received_on", "pk")
    )


def published_answer(slug: str, key: str) -> Answer | None:
    """A published answer by its letter's slug and its own key, on a live letter."""
    return (
        Answer.objects.select_related("recipient__letter")
        .filter(
            public_key=key,
            published_at__isnull=False,
            recipient__letter__slug=slug,
            recipient__letter__live=True,
        )
        .first()
    )


def signer_addresses(letter_id: int) -> list[str]:
    """Each address a printed signature of the letter gives, once (case aside), whose signer
    did not ask to hear no more of it."""
    seen: dict[str, str] = {}
    for email in (
        Signature.objects.printable()
        .filter(letter_id=letter_id, publication_emails=True)
        .exclude(signer_email="")
        .order_by("pk")
        .values_list("signer_email", flat=True)
    ):
        seen.setdefault(email.strip().casefold(), email.strip())
    return list(seen.values())


# Reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    """A recipient emailed the letter who has not answered after the days set."""

    recipient: Recipient
    sent_at: datetime.datetime
    days: int
    reminders_sent: int = 0
    problems: list[str] = field(default_factory=list)


def reminders_due(letter: LetterPage, *, after_days: int) -> list[DueReminder]:
    """Recipients emailed the letter at least `after_days` ago (or reminded that long ago) who
    have not answered, and whose email did not bounce."""
    now = timezone.now()
    before = now - datetime.timedelta(days=after_days)
    deliveries = Prefetch(
        "deliveries",
        queryset=LetterDelivery.objects.filter(method="email").order_by("created_at"),
        to_attr="emailed",
    )
    due = []
    for recipient in (
        letter_recipients(letter)
        .filter(answers__isnull=True, deliveries__method="email")
        .distinct()
        .prefetch_related(deliveries)
    ):
        emailed = [d for d in recipient.emailed if d.status not in ("bounced", "complained")]
        if not emailed or recipient.contact.email_opt_out:
            continue
        last = max([emailed[-1].created_at, recipient.reminded_at or emailed[-1].created_at])
        if last <= before:
            due.append(
                DueReminder(
                    recipient=recipient,
                    sent_at=emailed[0].created_at,
                    days=(now - emailed[0].created_at).days,
                    reminders_sent=recipient.reminders_sent,
                )
            )
    return due


# The letter's timeline after publication ---------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """One thing that happened to the letter after publication, as its timeline lists it."""

    at: datetime.datetime
    what: str


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def letter_timeline(
    letter: LetterPage, deliveries: list[LetterDelivery], answers: list[Answer]
) -> list[Moment]:
    """Publication, each delivery and what its provider reported, each answer and reminder:
    oldest first, from the rows the caller read."""
    moments = [
        Moment(p.published_at, f"Version {p.version} published")
        for p in Publication.objects.filter(letter=letter).only("published_at", "version")
    ]
    for d in deliveries:
        who = d.recipient.contact.name
        if not d.by_email:
            day = _at(d.delivered_on) if d.delivered_on else d.created_at
            moments.append(Moment(day, f"Delivered to {who} ({d.get_method_display().lower()})"))
            continue
        moments.append(Moment(d.created_at, f"Emailed to {who} (version {d.publication.version})"))
        for column, words in (
            ("delivered_at", "reached {who}'s mailbox"),
            ("opened_at", "opened by {who}"),
            ("bounced_at", "bounced at {who}'s address"),
            ("complained_at", "marked as spam by {who}"),
        ):
            when = getattr(d, column)
            if when is not None:
                moments.append(Moment(when, "Letter " + words.format(who=who)))
    for recipient in {d.recipient.pk: d.recipient for d in deliveries}.values():
        if recipient.reminded_at is not None:
            moments.append(
                Moment(recipient.reminded_at, f"{recipient.contact.name} reminded of an answer")
            )
    for a in answers:
        who = a.recipient.contact.name
        moments.append(Moment(_at(a.received_on), f"Answer received from {who}"))
        if a.published_at is not None:
            moments.append(Moment(a.published_at, f"Answer of {who} published; signers told"))
    return sorted(moments, key=lambda m: m.at)


# Who listens: each recipient across letters ------------------------------------------------

#: A delivery whose status says it reached the recipient: a spam complaint comes from their inbox.
REACHED = (
    LetterDelivery.Status.DELIVERED,
    LetterDelivery.Status.OPENED,
    LetterDelivery.Status.COMPLAINED,
)
#: How the report may be ordered, by the name the page's address gives it.
REPORT_ORDERS: dict[str, tuple[str, ...]] = {
    "name": ("contact__name", "contact_id"),
    "office": ("contact__organization__name", "contact__name", "contact_id"),
    "sent": ("-sent", "contact__name", "contact_id"),
    "delivered": ("-delivered", "contact__name", "contact_id"),
    "answered": ("-answered", "contact__name", "contact_id"),
}


@dataclass(frozen=True)
class RecipientRecord:
    """One recipient (a contact, whatever the letters) as the report lists them."""

    contact_id: int
    name: str
    title: str
    office: str
    email: str
    # Letters: sent to them, that reached them, that they answered.
    sent: int
    delivered: int
    answered: int
    # From the first sending of a letter to their first answer to it, over the letters answered
    # that were sent; None before any.
    median_days: float | None


def _gone_out() -> QuerySet[LetterDelivery]:
    """The deliveries of the recipient row `OuterRef("pk")` that went out: every delivery by
    hand, and every email but one the outbox gave up on (it never left)."""
    failed = EmailDelivery.objects.filter(status=EmailDelivery.Status.FAILED).values("key")
    return LetterDelivery.objects.filter(recipient=OuterRef("pk")).exclude(
        method=LetterDelivery.Method.EMAIL, outbox_key__in=failed
    )


def _days_to_answer(
    answered_on: datetime.date,
    emailed_at: datetime.datetime | None,
    handed_on: datetime.date | None,
) -> int | None:
    """Days from the letter's first sending to the recipient's first answer; None if it was never
    sent (an answer to a letter that reached them some other way has no start to count from)."""
    starts = [day for day in (handed_on, emailed_at and timezone.localdate(emailed_at)) if day]
    if not starts:
        return None
    # An answer dated before the sending recorded (a letter handed over after they had read a
    # copy) was an answer at once, not one from the future.
    return max((answered_on - min(starts)).days, 0)


class RecipientReport:
    """Each recipient with the letters sent, delivered and answered, and the median days to an
    answer: counted by the database, one row per contact. A paginator's sequence: its length is
    one query, and any slice of it, or the whole, two more, however many letters and people."""

    def __init__(self, order: str = "name") -> None:
        gone_out = _gone_out()
        self.rows = (
            Recipient.objects.annotate(
                was_sent=Exists(gone_out),
                was_delivered=Exists(gone_out.filter(status__in=REACHED)),
                was_answered=Exists(Answer.objects.filter(recipient=OuterRef("pk"))),
            )
            .values(
                "contact_id",
                "contact__name",
                "contact__title",
                "contact__email",
                "contact__organization__name",
            )
            .annotate(
                sent=Count("pk", filter=Q(was_sent=True)),
                delivered=Count("pk", filter=Q(was_delivered=True)),
                answered=Count("pk", filter=Q(was_answered=True)),
            )
            .order_by(*REPORT_ORDERS.get(order, REPORT_ORDERS["name"]))
        )

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> RecipientRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecipientRecord]: ...
    def __getitem__(self, index: int | slice) -> RecipientRecord | list[RecipientRecord]:
        if isinstance(index, int):
            return self._records(list(self.rows[index : index + 1]))[0]
        return self._records(list(self.rows[index]))

    def __iter__(self) -> Iterator[RecipientRecord]:
        return iter(self._records(list(self.rows)))

    def _records(self, rows: Sequence[Mapping[str, Any]]) -> list[RecipientRecord]:
        days = self._days_to_answers([row["contact_id"] for row in rows])
        return [
            RecipientRecord(
                contact_id=row["contact_id"],
                name=row["contact__name"],
                title=row["contact__title"],
                office=row["contact__organization__name"],
                email=row["contact__email"],
                sent=row["sent"],
                delivered=row["delivered"],
                answered=row["answered"],
                median_days=(
                    statistics.median(days[row["contact_id"]])
                    if days.get(row["contact_id"])
                    else None
                ),
            )
            for row in rows
        ]

    @staticmethod
    def _days_to_answers(contact_ids: list[int]) -> dict[int, list[int]]:
        """For each contact, the days each letter they answered took them: one query."""
        gone_out = _gone_out()
        answers = Answer.objects.filter(recipient=OuterRef("pk")).order_by("received_on")
        emails = gone_out.filter(method=LetterDelivery.Method.EMAIL).order_by("created_at")
        by_hand = gone_out.exclude(method=LetterDelivery.Method.EMAIL).order_by("delivered_on")
        rows = (
            Recipient.objects.filter(contact_id__in=contact_ids)
            .annotate(
                answered_on=Subquery(answers.values("received_on")[:1]),
                emailed_at=Subquery(emails.values("created_at")[:1]),
                handed_on=Subquery(by_hand.values("delivered_on")[:1]),
            )
            .filter(answered_on__isnull=False)
            .values_list("contact_id", "answered_on", "emailed_at", "handed_on")
        )
        found: dict[int, list[int]] = {}
        for contact_id, answered_on, emailed_at, handed_on in rows:
            days = _days_to_answer(answered_on, emailed_at, handed_on)
            if days is not None:
                found.setdefault(contact_id, []).append(days)
        return found


def recipient_report(order: str = "name") -> RecipientReport:
    """Every recipient of every letter, one row per contact, as the report and its export list
    them (`order`: one of REPORT_ORDERS, else by name)."""
    return RecipientReport(order)
