"""Every state-changing write of the member CRM."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.urls import NoReverseMatch, reverse
from wagtail.contrib.redirects.models import Redirect
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from coalition.crm.errors import CoalitionError, MergeError
from coalition.crm.hooks import merge_participants
from coalition.crm.models import Contact, Interaction, Membership, Organization, OrganizationTag

__all__ = [
    "FILLED_FROM_DUPLICATE",
    "INTERACTION_ACTION",
    "MERGE_ACTION",
    "CoalitionError",
    "MergeError",
    "MergeResult",
    "log_interaction",
    "merge_organizations",
    "merged_status",
]

MERGE_ACTION = "coalition.merge_organizations"
INTERACTION_ACTION = "coalition.log_interaction"
#: What the survivor of a merge takes from the duplicate where it has nothing of its own.
FILLED_FROM_DUPLICATE = ("acronym", "display", "website", "country", "description", "logo_id")


def log_interaction(
    *,
    organization: Organization,
    author: AbstractBaseUser | None,
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
                f"{related._meta.get_field(f).verbose_name} “{getattr(clash, f)}”" for f in others
            )
            return (
                f"both organizations have a {related._meta.verbose_name} with the same "
                f"{described}. Resolve it (withdraw or reject one) and merge again."
            )
    return None


def merge_organizations(
    *, survivor: Organization, duplicate: Organization, user: AbstractBaseUser | None
) -> MergeResult:
    """Move everything of `duplicate` to `survivor`, record it, and retire `duplicate`."""
    if survivor.pk == duplicate.pk:
        raise MergeError("Choose two different organizations to merge.")
    with transaction.atomic():
        locked = {
            o.pk: o
            for o in Organization.objects.select_for_update().filter(
                pk__in=[survivor.pk, duplicate.pk]
            )
        }
        if len(locked) != 2:
            raise MergeError("One of the organizations no longer exists.")
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        for org in (survivor, duplicate):
            if org.merged_into_id is not None:
                raise MergeError(
                    f"{org.name} was already merged into another organization: "
                    "merge with that one instead."
                )
        result = MergeResult(survivor=survivor)

        # Active memberships of the same coalition cannot both survive: keep the higher tier.
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

        # Tags the survivor already has would be duplicate rows.
        OrganizationTag.objects.filter(
            content_object=duplicate,
            tag_id__in=OrganizationTag.objects.filter(content_object=survivor).values("tag_id"),
        ).delete()

        # Records merged into the duplicate earlier now point at the survivor, so that one
        # level of tombstones is all a history needs to follow.
        Organization.objects.filter(merged_into=duplicate).update(merged_into=survivor)

        participants = merge_participants()
        handled = {model for participant in participants for model in participant.models}
        for rel in Organization._meta.related_objects:
            if rel.related_model in handled or rel.related_model is Organization:
                continue
            moved = _move_relation(rel, survivor, duplicate)
            if moved:
                result.moved[str(rel.related_model._meta.verbose_name_plural)] = moved
        for participant in participants:
            for what, moved in participant.move(survivor, duplicate, user).items():
                if moved:
                    result.moved[what] = result.moved.get(what, 0) + moved

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
    if rel.many_to_many:
        through = rel.through
        # The through model's foreign key to Organization.
        fk = next(
            f
            for f in through._meta.get_fields()
            if f.many_to_one and f.related_model is Organization
        )
        other = next(
            f
            for f in through._meta.get_fields()
            if f.many_to_one and f.related_model is not Organization
        )
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
