"""Writing a checked plan to the database."""

from collections.abc import Callable

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from taggit.models import Tag

from coalition.crm.indexing import index_later, settle_bulk_writes
from coalition.crm.models import Contact, Membership, Organization, OrganizationTag
from coalition.crm.services import create_organizations, new_organization, update_organizations

from .base import BATCH, ImportReport, Progress
from .checking import ImportPlan

Step = Callable[[int], None]


def apply_plan(planner: ImportPlan, report: ImportReport, progress: Progress | None) -> None:
    """Write what the plan creates and changes: organizations, their tags, contacts, memberships."""
    total = len(planner.orgs) + len(planner.contacts) + len(planner.memberships)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("Writing", done, total)

    _write_organizations(planner, report, step)
    _apply_tags(planner)
    _write_contacts(planner, report, step)
    _write_memberships(planner, report, step)
    settle_bulk_writes([Organization, Contact])


def _write_organizations(planner: ImportPlan, report: ImportReport, step: Step) -> None:
    now = timezone.now()
    new_orgs: list[Organization] = []
    changed_orgs: list[Organization] = []
    changed_columns: set[str] = set()
    for plan in planner.orgs.values():
        if plan.existing is None:
            plan.instance = new_organization(plan.fields, created_at=now)
            new_orgs.append(plan.instance)
            continue
        plan.instance = plan.existing
        columns = [c for c in plan.changed if c != "tags"]
        if columns:
            for column in columns:
                setattr(plan.existing, column, plan.fields[column])
            changed_columns.update(columns)
            changed_orgs.append(plan.existing)
        if plan.changed:
            report.organizations_updated += 1
    create_organizations(new_orgs, batch_size=BATCH, written=step)
    update_organizations(changed_orgs, changed_columns, batch_size=BATCH)
    step(len(planner.orgs) - len(new_orgs))
    report.organizations_created = len(new_orgs)


def _write_contacts(planner: ImportPlan, report: ImportReport, step: Step) -> None:
    now = timezone.now()
    new_contacts: list[Contact] = []
    changed_contacts: list[Contact] = []
    contact_columns: set[str] = set()
    for plan in planner.contacts:
        if plan.existing is None:
            new_contacts.append(
                Contact(
                    organization_id=plan.org.organization.pk,
                    email=planner.emails_by_row[plan.row],
                    created_at=now,
                    **plan.fields,
                )
            )
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
    # Bulk writes send no signals: the contact chooser's search index learns of them here.
    index_later(Contact, [contact.pk for contact in new_contacts + changed_contacts])


def _write_memberships(planner: ImportPlan, report: ImportReport, step: Step) -> None:
    new_memberships: list[Membership] = []
    changed_memberships: list[Membership] = []
    for plan in planner.memberships:
        if plan.existing is None:
            membership = Membership(
                organization_id=plan.org.organization.pk, coalition=plan.coalition, tier=plan.tier
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
        have = planner.existing.tags.get(plan.organization.pk, set()) if plan.existing else set()
        for tag in {t.lower() for t in plan.tags} - have:
            links.append(OrganizationTag(content_object_id=plan.organization.pk, tag=tags[tag]))
    OrganizationTag.objects.bulk_create(links, batch_size=BATCH)
