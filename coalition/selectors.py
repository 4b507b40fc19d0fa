"""Read logic of the member CRM: duplicates, search and an organization's timeline."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from wagtail.models import ModelLogEntry

from coalition.models import Contact, Organization, name_key, website_key


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
    candidates = Organization.objects.filter(query)
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
    return found


def organizations_named(
    *, names: Iterable[str] = (), acronyms: Iterable[str] = ()
) -> models.QuerySet[Organization]:
    """Organizations with one of these names (as duplicates compare them) or acronyms (any case)."""
    keys = {name_key(name) for name in names} - {""}
    lowered = {acronym.strip().lower() for acronym in acronyms} - {""}
    return Organization.objects.annotate(acronym_lower=Lower("acronym")).filter(
        models.Q(name_key__in=keys) | models.Q(acronym_lower__in=lowered)
    )


def best_named(
    candidates: Iterable[Organization], *, names: Iterable[str], acronyms: Iterable[str] = ()
) -> Organization | None:
    """Among organizations_named() results, one with one of the names, else one of the acronyms."""
    keys = {name_key(name) for name in names} - {""}
    lowered = {acronym.strip().lower() for acronym in acronyms} - {""}
    by_acronym = None
    for org in candidates:
        if org.name_key in keys:
            return org
        if by_acronym is None and org.acronym.lower() in lowered:
            by_acronym = org
    return by_acronym


def search_organizations(queryset: models.QuerySet, query: str) -> models.QuerySet:
    """Organizations whose name or acronym, or whose contacts' names or emails, contain `query`."""
    query = query.strip()
    if not query:
        return queryset
    contacts = Contact.objects.filter(organization_id=models.OuterRef("pk")).filter(
        models.Q(name__icontains=query) | models.Q(email__icontains=query)
    )
    return queryset.filter(
        models.Q(name__icontains=query)
        | models.Q(acronym__icontains=query)
        | models.Exists(contacts)
    )


def search_contacts(queryset: models.QuerySet, query: str) -> models.QuerySet:
    """Contacts by name, email or title, or by their organization's name or acronym."""
    query = query.strip()
    if not query:
        return queryset
    return queryset.filter(
        models.Q(name__icontains=query)
        | models.Q(email__icontains=query)
        | models.Q(title__icontains=query)
        | models.Q(organization__name__icontains=query)
        | models.Q(organization__acronym__icontains=query)
    )


def contact_email_taken(email: str, *, exclude_pk: int | None = None) -> Contact | None:
    """The contact that already uses this email address, ignoring case."""
    found = Contact.objects.annotate(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower()
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.select_related("organization").first()


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    kind: str  # interaction, invitation, signature, decline, history
    label: str
    summary: str
    detail: str = ""


def _as_datetime(value: datetime.date | datetime.datetime) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


def _reverse_queryset(org: Organization, related_name: str) -> models.QuerySet | None:
    """A reverse relation of the organization by name, or None where the app does not have it yet."""
    manager = getattr(org, related_name, None)
    if manager is None or not hasattr(manager, "all"):
        return None
    return manager.all()


def _select_letter(queryset: models.QuerySet) -> models.QuerySet:
    """Join the letter (directly, or through the sign-on) so that titles cost no extra queries."""
    related = []
    for name in ("letter", "sign_on", "signon"):
        try:
            field = queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.is_relation:
            continue
        try:
            inner = field.related_model._meta.get_field("letter")
        except FieldDoesNotExist:
            inner = None
        related.append(f"{name}__letter" if inner is not None and inner.is_relation else name)
    return queryset.select_related(*related) if related else queryset


def _letter_title(row: models.Model) -> str:
    for name in ("letter", "sign_on", "signon"):
        target = getattr(row, name, None)
        if target is not None:
            inner = getattr(target, "letter", None)
            return str(getattr(inner, "title", None) or getattr(target, "title", None) or target)
    return ""


def organization_timeline(org: Organization, *, limit: int = 200) -> list[TimelineEntry]:
    """Interactions, invitations, signatures, declines and merges, newest first, in a few queries."""
    entries: list[TimelineEntry] = []

    for item in org.interactions.select_related("contact", "author")[:limit]:
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

    signatures = _reverse_queryset(org, "signatures")
    if signatures is not None:
        for sig in _select_letter(signatures).order_by("-created_at")[:limit]:
            declined = getattr(sig, "response", "") == "declined"
            status = sig.get_status_display() if hasattr(sig, "get_status_display") else ""
            signer = getattr(sig, "signer_name", "")
            entries.append(
                TimelineEntry(
                    when=sig.created_at,
                    kind="decline" if declined else "signature",
                    label=("Declined" if declined else "Signed") + f" “{_letter_title(sig)}”",
                    summary=(getattr(sig, "reason", "") if declined else sig.display_name),
                    detail=", ".join(p for p in (signer and f"by {signer}", status) if p),
                )
            )

    if apps.is_installed("signatories"):
        try:
            apps.get_model("signatories", "Invitation")
        except LookupError:
            invitations = None
        else:
            invitations = _reverse_queryset(org, "invitations")
        if invitations is not None:
            for inv in _select_letter(invitations).order_by("-pk")[:limit]:
                sent = getattr(inv, "sent_at", None)
                opened = getattr(inv, "opened_at", None)
                responded = getattr(inv, "responded_at", None)
                when = sent or getattr(inv, "created_at", None)
                if when is None:
                    continue
                progress = "responded" if responded else "opened" if opened else "not opened yet"
                entries.append(
                    TimelineEntry(
                        when=when,
                        kind="invitation",
                        label=f"Invited to sign “{_letter_title(inv)}”",
                        summary=", ".join(getattr(inv, "emailed_to", None) or []),
                        detail=progress,
                    )
                )

    history = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Organization),
        object_id=str(org.pk),
        action="coalition.merge_organizations",
    ).select_related("user")
    for entry in history.order_by("-timestamp")[:limit]:
        merged = (entry.data or {}).get("merged", "another organization")
        entries.append(
            TimelineEntry(
                when=entry.timestamp,
                kind="history",
                label=f"Merged {merged} into this organization",
                summary="",
                detail=f"by {entry.user.get_username()}" if entry.user else "",
            )
        )

    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
