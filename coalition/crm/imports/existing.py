"""What the database holds already of the members a file names, read in a few queries for any
number of rows: organizations (by key, or spelled differently), contacts, coalitions, active
memberships and tags."""

from dataclasses import dataclass, field

from django.db.models.functions import Lower

from coalition.crm.duplicates import DuplicateIndex, LikelyMatch
from coalition.crm.models import (
    Coalition,
    Contact,
    Membership,
    Organization,
    OrganizationTag,
    name_key,
    website_key,
)

from .base import BATCH

EMAIL_BATCH = 5000

Rows = list[tuple[int, dict[str, str]]]


@dataclass
class Resolution:
    """What a name in the file stands for: an existing organization, and what else it looks like."""

    existing: Organization | None = None
    taken_as: LikelyMatch | None = None  # spelled differently, matched because nothing else fits
    likely: list[LikelyMatch] = field(default_factory=list)  # shown, not matched


@dataclass
class Existing:
    """The members a file names as the database has them."""

    organizations: dict[str, Organization] = field(default_factory=dict)  # by name key
    resolutions: dict[str, Resolution] = field(default_factory=dict)  # by name key
    # Every organization's name by its website's key, for the warning "same website as".
    by_website: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)  # by address, in lower case
    coalitions: dict[str, Coalition] = field(default_factory=dict)  # by name and slug, lowered
    memberships: dict[tuple[int, int], Membership] = field(default_factory=dict)
    tags: dict[int, set[str]] = field(default_factory=dict)  # lowered, by organization


def load_existing(rows: Rows) -> Existing:
    """Read what the database holds of the organizations and contacts these rows name."""
    found = Existing()
    keys = {name_key(row.get("name", "")) for _, row in rows} - {""}
    key_list = list(keys)
    for start in range(0, len(key_list), BATCH):
        for org in Organization.objects.filter(name_key__in=key_list[start : start + BATCH]):
            found.organizations[org.name_key] = org
    _resolve_likely_duplicates(found, rows, keys)
    _load_contacts(found, rows)
    for coalition in Coalition.objects.all():
        found.coalitions[coalition.name.lower()] = coalition
        found.coalitions[coalition.slug.lower()] = coalition
    org_ids = list(
        {org.pk for org in found.organizations.values()}
        | {r.existing.pk for r in found.resolutions.values() if r.existing is not None}
    )
    for start in range(0, len(org_ids), BATCH):
        for m in Membership.objects.filter(
            organization_id__in=org_ids[start : start + BATCH], left_on__isnull=True
        ):
            found.memberships[(m.organization_id, m.coalition_id)] = m
    for start in range(0, len(org_ids), BATCH):
        for org_id, tag in OrganizationTag.objects.filter(
            content_object_id__in=org_ids[start : start + BATCH]
        ).values_list("content_object_id", "tag__name"):
            found.tags.setdefault(org_id, set()).add(tag.lower())
    return found


def _load_contacts(found: Existing, rows: Rows) -> None:
    emails = {row.get("contact_email", "").lower() for _, row in rows} - {""}
    email_list = list(emails)
    # PostgreSQL answers a list of addresses with a scan of the table, not an index lookup
    # each: a few long lists cost a few scans (SQLite takes up to 32,766 parameters).
    for start in range(0, len(email_list), EMAIL_BATCH):
        contacts = (
            Contact.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=email_list[start : start + EMAIL_BATCH])
            .select_related("organization")
        )
        for contact in contacts:
            found.contacts[contact.email.lower()] = contact


def _resolve_likely_duplicates(found: Existing, rows: Rows, keys: set[str]) -> None:
    """For each name the database lacks, the existing organization it likely means, if one.

    One query reads every organization's name, acronym and website (for the warnings too);
    the organizations taken for a row are read in one more.
    """
    known = []
    for pk, name, acronym, website in (
        Organization.objects.filter(merged_into__isnull=True)
        .values_list("pk", "name", "acronym", "website")
        .iterator(chunk_size=5000)
    ):
        known.append((pk, name, acronym))
        if website:
            found.by_website.setdefault(website_key(website), name)
    index = DuplicateIndex(known)
    # The first spelling of each name in the file, with the first acronym given for it.
    spelled: dict[str, tuple[str, str]] = {}
    for _, row in rows:
        key = name_key(row.get("name", ""))
        if not key:
            continue
        name, acronym = spelled.get(key, (row["name"].strip(), ""))
        spelled[key] = (name, acronym or row.get("acronym", "").strip())
    taken: dict[int, list[str]] = {}
    for key in keys:
        existing = found.organizations.get(key)
        resolution = found.resolutions[key] = Resolution(existing=existing)
        if existing is not None:
            continue  # the name as the database has it: nothing to guess
        name, acronym = spelled[key]
        matches = index.matches(name=name, acronym=acronym)
        if len(matches) == 1 and matches[0].certain:
            resolution.taken_as = matches[0]
            taken.setdefault(matches[0].pk, []).append(key)
        else:
            resolution.likely = matches
    by_pk = Organization.objects.in_bulk(list(taken))
    for pk, keys_taking in taken.items():
        for key in keys_taking:
            found.resolutions[key].existing = by_pk.get(pk)
