"""Writing a checked plan to the database."""

from functools import partial

from django.apps import apps
from django.db import ProgrammingError, connection, models, transaction
from django.db.models.functions import Lower
from django.tasks import task
from django.utils import timezone
from taggit.models import Tag
from wagtail.search.backends import get_search_backend

from coalition.crm.models import (
    Contact,
    Membership,
    Organization,
    OrganizationTag,
    assign_slugs,
    sort_name_for,
)

from .base import BATCH, ImportReport, Progress
from .checking import ImportPlan

#: Records a search-index job covers: the index is written row by row in Python, about a
#: millisecond each, so 10,000 rows are several jobs of seconds rather than one of minutes.
INDEX_BATCH = 2000


def apply_plan(planner: ImportPlan, report: ImportReport, progress: Progress | None) -> None:
    now = timezone.now()
    total = len(planner.orgs) + len(planner.contacts) + len(planner.memberships)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("Writing", done, total)

    new_orgs: list[Organization] = []
    changed_orgs: list[Organization] = []
    changed_columns: set[str] = set()
    for plan in planner.orgs.values():
        if plan.existing is None:
            org = Organization(**plan.fields, created_at=now, updated_at=now)
            # bulk_create skips save(), which derives these two columns.
            org.name_key = plan.key
            org.sort_name = org.sort_name or sort_name_for(org.name)
            plan.instance = org
            new_orgs.append(org)
        else:
            plan.instance = plan.existing
            columns = [c for c in plan.changed if c != "tags"]
            if columns:
                for column in columns:
                    setattr(plan.existing, column, plan.fields[column])
                plan.existing.updated_at = now
                changed_columns.update(columns)
                changed_orgs.append(plan.existing)
            if plan.changed:
                report.organizations_updated += 1
    assign_slugs(new_orgs)
    for start in range(0, len(new_orgs), BATCH):
        Organization.objects.bulk_create(new_orgs[start : start + BATCH])
        step(len(new_orgs[start : start + BATCH]))
    if changed_orgs:
        Organization.objects.bulk_update(
            changed_orgs, [*changed_columns, "updated_at"], batch_size=BATCH
        )
    step(len(planner.orgs) - len(new_orgs))
    report.organizations_created = len(new_orgs)

    _apply_tags(planner)

    new_contacts: list[Contact] = []
    changed_contacts: list[Contact] = []
    contact_columns: set[str] = set()
    for plan in planner.contacts:
        if plan.existing is None:
            contact = Contact(
                organization_id=plan.org.instance.pk,
                email=planner.emails_by_row[plan.row],
                created_at=now,
                **plan.fields,
            )
            new_contacts.append(contact)
        else:
            for column in plan.changed:
                setattr(plan.existing, column, plan.fields[column])
            contact_columns.update(plan.changed)
            changed_contacts.append(plan.existing)
    for start in range(0, len(new_contacts), BATCH):
        Contact.objects.bulk_create(new_contacts[start : start + BATCH])
    if changed_contacts:
        Contact.objects.bulk_update(changed_contacts, list(contact_columns), batch_size=BATCH)
    step(len(planner.contacts))
    report.contacts_created = len(new_contacts)
    report.contacts_updated = len(changed_contacts)

    new_memberships: list[Membership] = []
    changed_memberships: list[Membership] = []
    for plan in planner.memberships:
        if plan.existing is None:
            membership = Membership(
                organization_id=plan.org.instance.pk, coalition=plan.coalition, tier=plan.tier
            )
            if plan.joined_on:
                membership.joined_on = plan.joined_on
            new_memberships.append(membership)
        else:
            plan.existing.tier = plan.tier
            changed_memberships.append(plan.existing)
    Membership.objects.bulk_create(new_memberships, batch_size=BATCH)
    if changed_memberships:
        Membership.objects.bulk_update(changed_memberships, ["tier"], batch_size=BATCH)
    step(len(planner.memberships))
    report.memberships_created = len(new_memberships)
    report.memberships_updated = len(changed_memberships)

    merge_pending_index_entries([Organization, Contact])

    # bulk_create sends no signals, so the search index learns of the new rows here: in the
    # worker once committed, because indexing takes longer than the import itself. The admin's
    # listings search the tables directly; only the choosers read this index.
    _index_later(Organization, [org.pk for org in new_orgs + changed_orgs])
    _index_later(Contact, [contact.pk for contact in new_contacts + changed_contacts])


def merge_pending_index_entries(tables: list[type[models.Model]]) -> None:
    """Merge what rows just written left in the pending lists of these tables' GIN indexes."""
    # PostgreSQL files a GIN index's new entries (the trigram indexes that serve the admin's
    # searches) in a list that every search reads through until VACUUM merges it: after
    # thousands of rows, a search took 800 ms instead of 20 until autovacuum came by.
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE a.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])",
                [[table._meta.db_table for table in tables]],
            )
    except ProgrammingError:
        pass  # not the indexes' owner: searches are slower until autovacuum merges the lists


def _index_later(model: type[models.Model], pks: list[int]) -> None:
    for start in range(0, len(pks), INDEX_BATCH):
        transaction.on_commit(
            partial(index_members.enqueue, model._meta.label, pks[start : start + INDEX_BATCH])
        )


@task(backend="background")
def index_members(model_label: str, pks: list[int]) -> int:
    """Add imported organizations or contacts to the search index (safe to run again)."""
    model = apps.get_model(model_label)
    found = list(model._default_manager.filter(pk__in=pks))
    if found:
        get_search_backend().add_bulk(model, found)
    return len(found)


def _apply_tags(planner: ImportPlan) -> None:
    wanted: dict[str, str] = {}
    for plan in planner.orgs.values():
        for tag in plan.tags:
            wanted.setdefault(tag.lower(), tag)
    if not wanted:
        return
    tags: dict[str, Tag] = {}
    found = Tag.objects.annotate(lowered=Lower("name")).filter(
        models.Q(name__in=list(wanted.values())) | models.Q(lowered__in=list(wanted))
    )
    for tag in found:
        lowered = tag.name.lower()
        # The tag spelled as in the file, else one that differs only in case.
        if lowered in wanted and (lowered not in tags or tag.name == wanted[lowered]):
            tags[lowered] = tag
    for lowered, name in wanted.items():
        if lowered not in tags:
            tags[lowered] = Tag.objects.create(name=name)
    links = []
    for plan in planner.orgs.values():
        have = planner.existing_tags.get(plan.instance.pk, set()) if plan.existing else set()
        for tag in {t.lower() for t in plan.tags} - have:
            links.append(OrganizationTag(content_object_id=plan.instance.pk, tag=tags[tag]))
    OrganizationTag.objects.bulk_create(links, batch_size=BATCH)
