"""Every state-changing write of the member CRM."""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.images.models import AbstractImage
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from coalition.crm.errors import CoalitionError, MergeError
from coalition.crm.hooks import merge_participants
from coalition.crm.indexing import index_later
from coalition.crm.models import (
    Contact,
    Interaction,
    Membership,
    Organization,
    OrganizationTag,
    assign_slugs,
    name_key,
    sort_name_for,
)

__all__ = [
    "FILLED_FROM_DUPLICATE",
    "INTERACTION_ACTION",
    "MERGE_ACTION",
    "CoalitionError",
    "MergeError",
    "MergeResult",
    "OrganizationDetails",
    "add_pending_organization",
    "admit_organization",
    "create_contact",
    "create_organization",
    "create_organizations",
    "log_interaction",
    "merge_organizations",
    "merged_status",
    "new_organization",
    "office_named",
    "tag_organization",
    "update_organization",
    "update_organizations",
]

MERGE_ACTION = "coalition.merge_organizations"
INTERACTION_ACTION = "coalition.log_interaction"
#: What the survivor of a merge takes from the duplicate where it has nothing of its own.
FILLED_FROM_DUPLICATE = ("acronym", "display", "website", "country", "description", "logo_id")


# Organizations -------------------------------------------------------------------------------

#: Organizations written per statement when they come in thousands.
BULK_BATCH = 500

#: An organization's columns as a file or a document gives them: {"name": …, "acronym": …}.
OrganizationDetails = Mapping[str, str | bool]


def create_organization(
    *, name: str, logo: AbstractImage | None = None, **details: str
) -> Organization:
    """Add one organization to the CRM: `details` are its other columns (acronym, country …)."""
    organization = Organization(name=name, logo=logo, **details)
    organization.save()
    return organization


def new_organization(
    details: OrganizationDetails, *, created_at: datetime.datetime | None = None
) -> Organization:
    """An organization not yet written, with its key and sort name derived from its name, for
    create_organizations to write once the caller has checked it or printed its name."""
    organization = Organization(**details)
    if created_at is not None:
        organization.created_at = created_at
    organization.derive_name_columns()
    return organization


def create_organizations(
    organizations: Iterable[Organization],
    *,
    batch_size: int = BULK_BATCH,
    written: Callable[[int], None] | None = None,
) -> list[Organization]:
    """Write many new organizations at once: each one's key, sort name and a slug of its own
    (one query for all), the rows in batches (`written` hears how many after each), and the
    search index in the worker once committed (bulk writes send no signals)."""
    created = list(organizations)
    if not created:
        return created
    for organization in created:
        organization.derive_name_columns()
    assign_slugs(created)
    for start in range(0, len(created), batch_size):
        batch = created[start : start + batch_size]
        Organization.objects.bulk_create(batch)
        if written is not None:
            written(len(batch))
    index_later(Organization, [organization.pk for organization in created])
    return created


def update_organizations(
    organizations: list[Organization], columns: Iterable[str], *, batch_size: int = BULK_BATCH
) -> None:
    """Write the changed `columns` of many organizations at once, and index them again."""
    if not organizations:
        return
    written = {*columns, "updated_at"}
    now = timezone.now()
    for organization in organizations:
        organization.derive_name_columns()
        organization.updated_at = now
    if "name" in written:
        written |= {"name_key", "sort_name"}
    Organization.objects.bulk_update(organizations, sorted(written), batch_size=batch_size)
    index_later(Organization, [organization.pk for organization in organizations])


def _rename(organization: Organization, name: str) -> list[str]:
    """Give the organization a new name, its sort name in step where it was derived from the
    old one (a sort name staff chose stays); the columns that changed."""
    changed = ["name", "name_key"]
    if organization.sort_name == sort_name_for(organization.name):
        organization.sort_name = sort_name_for(name)
        changed.append("sort_name")
    organization.name = name
    organization.derive_name_columns()
    return changed


def update_organization(
    organization: Organization,
    changes: Mapping[str, str],
    *,
    logo: AbstractImage | None = None,
) -> Organization:
    """Change an organization's details (and its logo); a new name renames it."""
    for column, value in changes.items():
        if column == "name":
            _rename(organization, value)
        else:
            setattr(organization, column, value)
    if logo is not None:
        organization.logo = logo
    organization.save()
    return organization


def tag_organization(organization: Organization, tags: Iterable[str]) -> None:
    """Add tags to an organization (those it has already are kept once)."""
    organization.tags.add(*tags)
    organization.save()


def add_pending_organization(*, name: str, description: str) -> Organization:
    """An organization nobody knows that asks to sign: held as pending (no member, in no
    listing) until staff approve it, under `name` alone. If a request through another sign-on
    added it meanwhile, that one."""
    organization = Organization(
        name=name,
        kind=Organization.Kind.OTHER,
        status=Organization.Status.PENDING,
        description=description,
    )
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError:
        return Organization.objects.get(name_key=name_key(name))
    return organization


def admit_organization(
    organization: Organization, *, name: str = "", acronym: str = "", website: str = ""
) -> Organization:
    """A pending organization becomes a member, with what its approved request said of it: the
    name as typed where it is the same name (by its key), an acronym and a website where it has
    none."""
    if organization.status != Organization.Status.PENDING:
        raise CoalitionError(f"{organization.name} is no pending organization: nothing to admit.")
    columns = ["status", "updated_at"]
    organization.status = Organization.Status.ACTIVE
    if name and name_key(name) == organization.name_key and name != organization.name:
        columns += _rename(organization, name)
    for column, value in (("acronym", acronym), ("website", website)):
        if value and not getattr(organization, column):
            setattr(organization, column, value)
            columns.append(column)
    organization.save(update_fields=columns)
    return organization


def office_named(name: str) -> Organization:
    """The organization of this name (by its key, whatever its case, spacing or punctuation),
    or a new one: an office a letter is addressed to (a ministry, an agency, a legislator's
    office) is an organization like any other, of kind "other"."""
    name = " ".join(name.split())
    if not name:
        raise CoalitionError("Office: give the name of the office or organization.")
    found = Organization.objects.filter(name_key=name_key(name)).first()
    if found is not None:
        return found.merged_into or found
    try:
        with transaction.atomic():
            return create_organization(name=name, kind=Organization.Kind.OTHER)
    except IntegrityError:  # created by someone else meanwhile
        return Organization.objects.get(name_key=name_key(name))


def create_contact(
    *, organization: Organization, name: str, email: str, title: str = ""
) -> Contact:
    """Add a person to an organization; refused where the address is another contact's."""
    name, email, title = " ".join(name.split()), email.strip(), " ".join(title.split())
    if not name:
        raise CoalitionError("Name: give the person's name.")
    if Contact.objects.filter(email__iexact=email).exists():
        raise CoalitionError(f"Email: {email} is already a contact's address.")
    contact = Contact(organization=organization, name=name, email=email, title=title)
    try:
        contact.full_clean(exclude=["organization", "user"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CoalitionError(f"{field.capitalize()}: {' '.join(messages)}") from None
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise CoalitionError(f"Email: {email} is already a contact's address.") from None
    return contact


# Interactions and merges ---------------------------------------------------------------------


def log_interaction(
    *,
    organization: Organization,
    author: User | None,
    kind: str,
    summary: str,
    occurred_on: datetime.date | None = None,
    contact: Contact | None = None,
) -> Interaction:
    """Record a call, meeting, email or note with an organization."""
    if not summary.strip():
        raise CoalitionError("Summary: say what was discussed.")
    if kind not in Interaction.Kind.values:
        raise CoalitionError(f"Kind: {kind!r} is not one of {', '.join(Interaction.Kind.values)}.")
    if contact is not None and contact.organization_id != organization.pk:
        raise CoalitionError(f"Contact: {contact.name} does not work at {organization.name}.")
    interaction = Interaction(
        organization=organization,
        author=author,
        kind=kind,
        summary=summary.strip(),
        contact=contact,
    )
    if occurred_on is not None:
        interaction.occurred_on = occurred_on
    interaction.save()
    return interaction


@dataclass
class MergeResult:
    """What a merge did: the rows it moved, by kind, and whether the duplicate was kept."""

    survivor: Organization
    moved: dict[str, int] = field(default_factory=dict)
    # True when history that is never rewritten (another app's audit events) refers to the
    # duplicate: it stays as a tombstone, archived and pointing at the survivor.
    kept: bool = False


def _conflicting_rows(
    rel: models.ForeignObjectRel, survivor: Organization, duplicate: Organization
) -> str | None:
    """Describe the first unique constraint that moving `rel`'s rows would violate, if any."""
    related = rel.related_model
    fk_name = rel.field.name
    checks: list[tuple[tuple[str, ...], models.Q | None]] = [
        (tuple(fields), None) for fields in related._meta.unique_together
    ]
    for constraint in related._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            checks.append((tuple(constraint.fields), constraint.condition))
    for fields, condition in checks:
        if fk_name not in fields:
            continue
        others = [f for f in fields if f != fk_name]
        theirs = related._base_manager.filter(**{fk_name: duplicate})
        ours = related._base_manager.filter(**{fk_name: survivor})
        if condition is not None:
            theirs, ours = theirs.filter(condition), ours.filter(condition)
        clash = theirs.filter(
            models.Exists(ours.filter(**{f: models.OuterRef(f) for f in others}).values("pk"))
        ).first()
        if clash is not None:
            described = ", ".join(
                f"{_field_label(related, f)} “{getattr(clash, f)}”" for f in others
            )
            return (
                f"both organizations have a {related._meta.verbose_name} with the same "
                f"{described}. Resolve it (withdraw or reject one) and merge again."
            )
    return None


def _field_label(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, models.Field) else name


def merge_organizations(
    *, survivor: Organization, duplicate: Organization, user: User | None
) -> MergeResult:
    """Move everything of `duplicate` to `survivor`, record it, and retire `duplicate`."""
    if survivor.pk == duplicate.pk:
        raise MergeError("Choose two different organizations to merge.")
    with transaction.atomic():
        survivor, duplicate = _lock_for_merge(survivor, duplicate)
        result = MergeResult(survivor=survivor)
        _combine_memberships(survivor, duplicate)
        # Tags the survivor already has would be duplicate rows.
        OrganizationTag.objects.filter(
            content_object=duplicate,
            tag_id__in=OrganizationTag.objects.filter(content_object=survivor).values("tag_id"),
        ).delete()
        # Records merged into the duplicate earlier now point at the survivor, so that one
        # level of tombstones is all a history needs to follow.
        Organization.objects.filter(merged_into=duplicate).update(merged_into=survivor)
        result.moved = _move_related_rows(survivor, duplicate, user)
        for name in FILLED_FROM_DUPLICATE:
            if not getattr(survivor, name) and getattr(duplicate, name):
                setattr(survivor, name, getattr(duplicate, name))
        survivor.status = merged_status(survivor, duplicate)
        survivor.save()

        content_type = ContentType.objects.get_for_model(Organization)
        ModelLogEntry.objects.filter(content_type=content_type, object_id=str(duplicate.pk)).update(
            object_id=str(survivor.pk)
        )
        merged_id = duplicate.pk
        _redirect_public_page(duplicate, survivor)
        result.kept = _retire(duplicate, survivor)
        log(
            instance=survivor,
            action=MERGE_ACTION,
            user=user,
            data={
                "merged": duplicate.name,
                "merged_id": merged_id,
                "moved": result.moved,
                "kept": result.kept,
            },
        )
    return result


def _lock_for_merge(
    survivor: Organization, duplicate: Organization
) -> tuple[Organization, Organization]:
    """The two organizations as the database has them, locked; neither merged already."""
    locked = {
        o.pk: o
        for o in Organization.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if len(locked) != 2:
        raise MergeError("One of the organizations no longer exists.")
    pair = locked[survivor.pk], locked[duplicate.pk]
    for org in pair:
        if org.merged_into_id is not None:
            raise MergeError(
                f"{org.name} was already merged into another organization: "
                "merge with that one instead."
            )
    return pair


def _combine_memberships(survivor: Organization, duplicate: Organization) -> None:
    """Active memberships of the same coalition cannot both survive: the survivor's keeps the
    higher tier and the earlier date joined."""
    for theirs in Membership.objects.filter(organization=duplicate, left_on__isnull=True):
        ours = Membership.objects.filter(
            organization=survivor, coalition_id=theirs.coalition_id, left_on__isnull=True
        ).first()
        if ours is None:
            continue
        rank = Membership.TIER_RANK
        if rank[theirs.tier] < rank[ours.tier]:
            ours.tier = theirs.tier
        ours.joined_on = min(ours.joined_on, theirs.joined_on)
        ours.save(update_fields=["tier", "joined_on"])
        theirs.delete()


def _move_related_rows(
    survivor: Organization, duplicate: Organization, user: User | None
) -> dict[str, int]:
    """Repoint every row of other tables naming the duplicate; how many moved, by kind.

    Other apps' rows move through their merge participants (coalition.crm.hooks), which know
    their own rules; the CRM's own relations are repointed here, reading the model's reverse
    relations.
    """
    moved: dict[str, int] = {}
    participants = merge_participants()
    handled = {model for participant in participants for model in participant.models}
    for rel in Organization._meta.related_objects:
        if rel.related_model in handled or rel.related_model is Organization:
            continue
        count = _move_relation(rel, survivor, duplicate)
        if count:
            moved[str(rel.related_model._meta.verbose_name_plural)] = count
    for participant in participants:
        for what, count in participant.move(survivor, duplicate, user).items():
            if count:
                moved[what] = moved.get(what, 0) + count
    return moved


def merged_status(survivor: Organization, duplicate: Organization) -> str:
    """The survivor's status after the merge: a member merged into the request it made through an
    open link stays a member, and does not drop out of the listings with all it just received."""
    pending = Organization.Status.PENDING
    if survivor.status == pending and duplicate.status != pending:
        return duplicate.status
    return survivor.status


def _redirect_public_page(duplicate: Organization, survivor: Organization) -> None:
    """Links to the duplicate's public page, printed in letters published before the merge, lead
    to the survivor's: a permanent redirect, followed by Wagtail's redirect middleware once the
    old address finds no page. Earlier redirects to the duplicate's page now go to the survivor's.
    """
    if duplicate.slug == survivor.slug:
        return
    try:
        old = reverse("public:organization", args=[duplicate.slug])
        new = reverse("public:organization", args=[survivor.slug])
    except NoReverseMatch:  # a project that mounts no public pages
        return
    Redirect.objects.filter(redirect_link=old).update(redirect_link=new)
    Redirect.objects.update_or_create(
        old_path=Redirect.normalise_path(old),
        site=None,
        defaults={"redirect_link": new, "redirect_page": None, "is_permanent": True},
    )


def _retire(duplicate: Organization, survivor: Organization) -> bool:
    """Delete the emptied duplicate, or keep it as a tombstone if history refers to it; True if kept."""
    try:
        # A savepoint: a refused delete leaves the merge's transaction usable.
        with transaction.atomic():
            duplicate.delete()
    except (ProtectedError, RestrictedError):
        # Append-only records (such as a sign-on's hash-chained events) name the duplicate and
        # can never be rewritten, so the row they point at stays: archived, out of every
        # listing, pointing at the survivor, and with its name free for a newcomer.
        # An update, not save(): save() would compute the name's key again.
        Organization.objects.filter(pk=duplicate.pk).update(
            status=Organization.Status.ARCHIVED,
            merged_into=survivor,
            name_key=f"merged:{duplicate.pk}",
        )
        return True
    return False


def _move_relation(
    rel: models.ForeignObjectRel, survivor: Organization, duplicate: Organization
) -> int:
    """Repoint one reverse relation of `duplicate` at `survivor`; return how many rows moved."""
    if isinstance(rel, models.ManyToManyRel) and rel.through is not None:
        through = rel.through
        keys = [f for f in through._meta.get_fields() if isinstance(f, models.ForeignKey)]
        # The through model's foreign key to Organization, and the one to the other side.
        fk = next(f for f in keys if f.related_model is Organization)
        other = next(f for f in keys if f.related_model is not Organization)
        already = through._base_manager.filter(**{fk.name: survivor}).values(other.attname)
        through._base_manager.filter(
            **{fk.name: duplicate, f"{other.attname}__in": already}
        ).delete()
        return through._base_manager.filter(**{fk.name: duplicate}).update(**{fk.name: survivor})

    if (
        rel.one_to_one
        and rel.related_model._base_manager.filter(**{rel.field.name: survivor}).exists()
    ):
        if rel.related_model._base_manager.filter(**{rel.field.name: duplicate}).exists():
            raise MergeError(
                f"Cannot merge: both organizations have a {rel.related_model._meta.verbose_name}."
            )
        return 0

    problem = _conflicting_rows(rel, survivor, duplicate)
    if problem:
        raise MergeError(f"Cannot merge {duplicate.name} into {survivor.name}: {problem}")
    try:
        with transaction.atomic():
            return rel.related_model._base_manager.filter(**{rel.field.name: duplicate}).update(
                **{rel.field.name: survivor}
            )
    except IntegrityError as error:
        raise MergeError(
            f"Cannot merge {duplicate.name} into {survivor.name}: moving its "
            f"{rel.related_model._meta.verbose_name_plural} would break a rule ({error})."
        ) from error
