"""Read logic of the member CRM: duplicates, search and an organization's timeline."""

import datetime
from collections.abc import Iterable
from heapq import nlargest
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.functions import Lower
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from wagtail.models import ModelLogEntry

from coalition.crm.duplicates import distinct_from, likely_duplicates_of
from coalition.crm.hooks import TimelineEntry, timeline_sources
from coalition.crm.models import (
    Contact,
    Interaction,
    Membership,
    Organization,
    name_key,
    website_key,
)
from coalition.crm.services import MERGE_ACTION
from coalition.crm.trigrams import has_trigrams

__all__ = [
    "TimelineEntry",
    "best_named",
    "contact_email_taken",
    "current_organizations",
    "find_duplicate_organizations",
    "is_member",
    "member_organizations",
    "organization_timeline",
    "organizations_named",
    "search_contacts",
    "search_interactions",
    "search_memberships",
    "search_organizations",
]


def is_member(prefix: str = "") -> models.Q:
    """Neither pending approval nor merged away: a filter on organizations, or via `prefix`."""
    return models.Q(**{f"{prefix}merged_into__isnull": True}) & ~models.Q(
        **{f"{prefix}status": Organization.Status.PENDING}
    )


def current_organizations() -> models.QuerySet[Organization]:
    """Organizations that were not merged into another: what staff can still find and choose."""
    return Organization.objects.filter(merged_into__isnull=True)


def member_organizations() -> models.QuerySet[Organization]:
    """The organizations the CRM lists, exports and counts: pending requests and tombstones aside."""
    return Organization.objects.filter(is_member())


def find_duplicate_organizations(
    *, name: str = "", acronym: str = "", website: str = "", exclude_pk: int | None = None
) -> list[tuple[Organization, str]]:
    """Existing organizations that look like the same one, each with the reason it matches."""
    query = models.Q(pk__in=[])
    key = name_key(name) if name else ""
    if key:
        query |= models.Q(name_key=key)
    if acronym.strip():
        query |= models.Q(acronym__iexact=acronym.strip())
        # An acronym typed as the name (or the other way round) is still the same organization.
        query |= models.Q(name_key=name_key(acronym))
    if key:
        query |= models.Q(acronym__iexact=name.strip())
    host = website_key(website) if website else ""
    if host:
        query |= models.Q(website__icontains=host.split("/")[0])
    # Pending requests are matched too, so that staff notice them; tombstones are history only.
    candidates = current_organizations().filter(query)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for org in candidates[:20]:
        if key and org.name_key == key:
            reason = "same name"
        elif acronym.strip() and org.acronym.lower() == acronym.strip().lower():
            reason = "same acronym"
        elif host and org.website and website_key(org.website) == host:
            reason = "same website"
        elif acronym.strip() and org.name_key == name_key(acronym):
            reason = "name matches the acronym"
        elif key and org.acronym.lower() == name.strip().lower():
            reason = "acronym matches the name"
        else:
            continue
        found.append((org, reason))
    # Spellings the name key keeps apart: "&" for "and", "Assn", "Inc.", the acronym as the name,
    # and names spelled alike: a slip of a letter, a word shortened or left out.
    seen = {org.pk for org, _ in found}
    for org, match in likely_duplicates_of(name=name, acronym=acronym, exclude_pk=exclude_pk):
        if org.pk not in seen:
            found.append((org, match.reason))
    if exclude_pk is not None and found:
        # Pairs staff found to be two organizations stay apart; only the same name is refused.
        apart = distinct_from(exclude_pk)
        found = [
            (org, reason) for org, reason in found if reason == "same name" or org.pk not in apart
        ]
    return found


def organizations_named(
    *, names: Iterable[str] = (), acronyms: Iterable[str] = ()
) -> models.QuerySet[Organization]:
    """Organizations with one of these names (as duplicates compare them) or acronyms (any case)."""
    keys = {name_key(name) for name in names} - {""}
    lowered = {acronym.strip().lower() for acronym in acronyms} - {""}
    return (
        current_organizations()
        .annotate(acronym_lower=Lower("acronym"))
        .filter(models.Q(name_key__in=keys) | models.Q(acronym_lower__in=lowered))
    )


def best_named(
    candidates: Iterable[Organization], *, names: Iterable[str], acronyms: Iterable[str] = ()
) -> Organization | None:
    """Among organizations_named() results, one with one of the names, else one of the acronyms."""
    keys = {name_key(name) for name in names} - {""}
    lowered = {acronym.strip().lower() for acronym in acronyms} - {""}
    by_acronym = None
    for org in candidates:
        if org.merged_into_id is not None:
            continue
        if org.name_key in keys:
            return org
        if by_acronym is None and org.acronym.lower() in lowered:
            by_acronym = org
    return by_acronym


#: The columns of which PostgreSQL keeps an upper-cased copy, `<column>_upper` (migration 0013).
UPPER_CASED_COPIES = {
    Organization: frozenset({"name", "acronym"}),
    Contact: frozenset({"name", "email", "title"}),
}


class UpperCopyContains(models.Expression):
    """`<column>_upper LIKE UPPER('%query%')` on the queried table: what `column__icontains`
    compares, `UPPER(column::text) LIKE UPPER('%query%')`, without upper-casing every row."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column: str, query: str) -> None:
        super().__init__()
        self.column, self.query = column, query

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        column = connection.ops.quote_name(f"{self.column}_upper")
        # The pattern escaped as icontains escapes it.
        return f"{table}.{column} LIKE UPPER(%s)", (
            f"%{connection.ops.prep_for_like_query(self.query)}%",
        )


def _containing(query: str, *fields: str, model: type[models.Model] | None = None) -> models.Q:
    """`model`'s rows of which one of `fields` contains `query`, in any case."""
    copies = UPPER_CASED_COPIES.get(model, frozenset()) if model else frozenset()
    # A term of a word or two letters long has no trigram: PostgreSQL reads every row, and the
    # upper-cased copies cost it less than half of upper-casing each one (35 ms at 50,000
    # contacts).
    # A longer term reads the trigram indexes, which are on UPPER(column).
    short = connection.vendor == "postgresql" and not has_trigrams(query)
    found = models.Q()
    for field in fields:
        if short and field in copies:
            found |= models.Q(UpperCopyContains(field, query))
        else:
            found |= models.Q(**{f"{field}__icontains": query})
    return found


# Each search reads one table with one condition: its own columns contain the words, or it is
# linked to the other table's rows that do, whose ids are read first. On PostgreSQL that is one
# bitmap over the table's trigram indexes (migration 0006) and its foreign key's index, or the
# listing's ordering index walked until the page is full. A union of ids joined back to the
# table, as before, joined every match to the whole table: 50 ms for "smith" in 50,000 contacts,
# and 10 s just after a bulk import, before autovacuum had gathered statistics (a nested loop of
# every match by every contact).


class AnyOf(models.Lookup[Any]):
    """`column = ANY(%s)`, the ids passed as one array: PostgreSQL hashes a constant array, or
    looks it up in the column's index, where an array a subquery computes is searched from its
    start for every row, and `IN (subquery)` inside an OR rules the indexes out. `IN (...)` on
    the other databases."""

    lookup_name = "any_of"

    def get_prep_lookup(self) -> list[Any]:
        return list(self.rhs)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = models.lookups.In(self.lhs, self.rhs).as_sql(compiler, connection)
        return sql, tuple(params)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self.rhs)


def _linked_to(field: str, matches: models.QuerySet[Any], column: str) -> models.Q:
    """`field` is the `column` of one of `matches`."""
    # Each once: 10,920 contacts of "association" are 2,184 organizations.
    found = sorted(matches.order_by().values_list(column, flat=True).distinct())
    if not found:
        return models.Q(pk__in=[])
    return models.Q(AnyOf(models.F(field), found))


def search_organizations(
    queryset: models.QuerySet[Organization], query: str
) -> models.QuerySet[Organization]:
    """Organizations whose name or acronym, or whose contacts' names or emails, contain `query`."""
    query = query.strip()
    if not query:
        return queryset
    contacts = Contact.objects.filter(_containing(query, "name", "email", model=Contact))
    return queryset.filter(
        _containing(query, "name", "acronym", model=Organization)
        | _linked_to("pk", contacts, "organization_id")
    )


def search_contacts(queryset: models.QuerySet[Contact], query: str) -> models.QuerySet[Contact]:
    """Contacts by name, email or title, or by their organization's name or acronym."""
    query = query.strip()
    if not query:
        return queryset
    organizations = Organization.objects.filter(
        _containing(query, "name", "acronym", model=Organization)
    )
    return queryset.filter(
        _containing(query, "name", "email", "title", model=Contact)
        | _linked_to("organization_id", organizations, "pk")
    )


def search_memberships(
    queryset: models.QuerySet[Membership], query: str
) -> models.QuerySet[Membership]:
    """Memberships of organizations whose name or acronym contains `query`."""
    query = query.strip()
    if not query:
        return queryset
    organizations = Organization.objects.filter(
        _containing(query, "name", "acronym", model=Organization)
    ).values("pk")
    return queryset.filter(organization_id__in=organizations)


def search_interactions(
    queryset: models.QuerySet[Interaction], query: str
) -> models.QuerySet[Interaction]:
    """Interactions by summary, organization name or acronym, or the contact's name."""
    query = query.strip()
    if not query:
        return queryset
    organizations = Organization.objects.filter(
        _containing(query, "name", "acronym", model=Organization)
    ).values("pk")
    contacts = Contact.objects.filter(_containing(query, "name", model=Contact)).values("pk")
    return queryset.filter(
        models.Q(summary__icontains=query)
        | models.Q(organization_id__in=organizations)
        | models.Q(contact_id__in=contacts)
    )


def contact_email_taken(email: str, *, exclude_pk: int | None = None) -> Contact | None:
    """The contact that already uses this email address, ignoring case."""
    found = Contact.objects.annotate(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower()
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.select_related("organization").first()


def _as_datetime(value: datetime.date | datetime.datetime) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


def _interaction_entries(organizations: list[Organization], limit: int) -> list[TimelineEntry]:
    interactions = Interaction.objects.filter(organization__in=organizations).select_related(
        "contact", "author"
    )
    entries = []
    for item in interactions[:limit]:
        who = item.author.get_full_name() or item.author.get_username() if item.author else ""
        with_whom = f" with {item.contact.name}" if item.contact else ""
        entries.append(
            TimelineEntry(
                when=_as_datetime(item.occurred_on),
                kind="interaction",
                label=f"{item.get_kind_display()}{with_whom}",
                summary=item.summary,
                detail=f"Logged by {who}" if who else "",
            )
        )
    return entries


def _merge_entries(organizations: list[Organization], limit: int) -> list[TimelineEntry]:
    history = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Organization),
        object_id__in=[str(org.pk) for org in organizations],
        action=MERGE_ACTION,
    ).select_related("user")
    entries = []
    for entry in history.order_by("-timestamp")[:limit]:
        data = entry.data or {}
        by = f"by {entry.user.get_username()}" if entry.user else ""
        kept = "kept as a record of the merge" if data.get("kept") else ""
        entries.append(
            TimelineEntry(
                when=entry.timestamp,
                kind="history",
                label=f"Merged {data.get('merged', 'another organization')} into this organization",
                summary="",
                detail="; ".join(part for part in (by, kept) if part),
            )
        )
    return entries


def organization_timeline(org: Organization, *, limit: int = 200) -> list[TimelineEntry]:
    """Interactions, merges and what each app contributes, newest first, in a few queries."""
    # The records merged into it: another app's history (events, responses) may name them.
    organizations = [org, *Organization.objects.filter(merged_into=org)]
    entries = _interaction_entries(organizations, limit) + _merge_entries(organizations, limit)
    for source in timeline_sources():
        # The newest of each source, whatever order it gives them in.
        entries.extend(nlargest(limit, source(organizations, limit), key=lambda e: e.when))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
