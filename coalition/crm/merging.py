"""What merging two organizations will do, read before merge_organizations does it.

Field by field, each record's value and the survivor's after the merge, by the rules the merge
itself applies (coalition/crm/services.py); relation by relation, the rows each has and the survivor
will have. The relations are read from the model's own reverse relations, as the merge moves
them: the signatures and invitations of the sign-on app are counted without naming its models.
"""

import copy
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst

from coalition.crm.models import Membership, Organization, OrganizationTag
from coalition.crm.services import FILLED_FROM_DUPLICATE, merged_status

__all__ = ["MergePreview", "MergedField", "MergedRelation", "merge_preview"]


@dataclass(frozen=True)
class MergedField:
    """One field of two organizations to be merged: each one's value, and the survivor's after."""

    label: str
    survivor: str
    duplicate: str
    after: str
    # Where the value after comes from: "same", "survivor", "duplicate" or "both".
    source: str
    # What becomes of the two values, in words ("" where both are the same).
    note: str = ""


@dataclass(frozen=True)
class MergedRelation:
    """Rows of one kind each organization has, how many the survivor has after, and why."""

    label: str
    survivor: int
    duplicate: int
    after: int
    note: str = ""


@dataclass(frozen=True)
class MergePreview:
    """What merging `duplicate` into `survivor` will do, field by field and relation by relation."""

    survivor: Organization
    duplicate: Organization
    fields: list[MergedField]
    relations: list[MergedRelation]
    # The history that will keep the duplicate, archived, rather than deleted: "12 events" ("" if
    # it will be deleted).
    kept_because: str


#: The fields compared, by the labels the editor gives them; tags and the printed name follow.
SHOWN_FIELDS = {
    "name": "Name",
    "acronym": "Acronym",
    "display": "Printed as",
    "sort_name": "Sort name",
    "kind": "Kind",
    "status": "Status",
    "country": "Country",
    "website": "Website",
    "logo_id": "Logo",
    "description": "Description",
    "public_page": "Public page",
    "slug": "Public page address",
}


def _shown(org: Organization, name: str) -> str:
    """A field's value as the page prints it."""
    if name == "logo_id":
        return org.logo.title if org.logo is not None else ""
    if name in ("kind", "status"):
        return str(getattr(org, f"get_{name}_display")())
    if name == "public_page":
        return "Yes" if org.public_page else "No"
    if name == "slug":
        try:
            return reverse("public:organization", args=[org.slug])
        except NoReverseMatch:  # a project that mounts no public pages
            return org.slug
    return str(getattr(org, name) or "")


def _merged_fields(survivor: Organization, duplicate: Organization) -> list[MergedField]:
    after = copy.copy(survivor)
    for name in FILLED_FROM_DUPLICATE:
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(after, name, getattr(duplicate, name))
            if name == "logo_id":
                after.logo = duplicate.logo
    after.status = merged_status(survivor, duplicate)
    fields = []
    for name, label in SHOWN_FIELDS.items():
        ours, theirs, result = _shown(survivor, name), _shown(duplicate, name), _shown(after, name)
        fields.append(_merged_field(label, ours, theirs, result, duplicate))
    fields.insert(
        3,
        _merged_field(
            "Prints on letters as",
            survivor.printed_name,
            duplicate.printed_name,
            after.printed_name,
            duplicate,
        ),
    )
    ours_tags = {tag.name for tag in survivor.tags.all()}
    theirs_tags = {tag.name for tag in duplicate.tags.all()}
    fields.append(
        _merged_field(
            "Tags",
            ", ".join(sorted(ours_tags)),
            ", ".join(sorted(theirs_tags)),
            ", ".join(sorted(ours_tags | theirs_tags)),
            duplicate,
        )
    )
    return fields


def _merged_field(
    label: str, ours: str, theirs: str, after: str, duplicate: Organization
) -> MergedField:
    if ours == theirs:
        return MergedField(label, ours, theirs, after, "same")
    if after == ours:
        if label == "Public page address":
            note = "kept; the other address leads here"
        else:
            note = "kept; the other is dropped" if theirs else "kept"
        return MergedField(label, ours, theirs, after, "survivor", note)
    if after == theirs:
        return MergedField(label, ours, theirs, after, "duplicate", f"taken from {duplicate.name}")
    return MergedField(label, ours, theirs, after, "both", "from both")


def _counts(
    rows: models.QuerySet[Any], field: str, survivor: Organization, duplicate: Organization
) -> tuple[int, int]:
    counted = dict(
        rows.filter(**{f"{field}__in": [survivor.pk, duplicate.pk]})
        .order_by()
        .values_list(field)
        .annotate(n=models.Count("pk"))
    )
    return counted.get(survivor.pk, 0), counted.get(duplicate.pk, 0)


def _merged_relations(survivor: Organization, duplicate: Organization) -> list[MergedRelation]:
    relations = []
    # The relations merge_organizations moves: every one but the tags (a field above) and the
    # records merged earlier (counted last).
    for rel in Organization._meta.related_objects:
        related = rel.related_model
        if related in (Organization, OrganizationTag):
            continue
        label = capfirst(str(related._meta.verbose_name_plural))
        note, shared = "", 0
        if rel.many_to_many:
            through = rel.through
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
            rows = through._base_manager.all()
            ours, theirs = _counts(rows, fk.attname, survivor, duplicate)
            shared = rows.filter(
                **{
                    fk.attname: duplicate.pk,
                    f"{other.attname}__in": rows.filter(**{fk.attname: survivor.pk}).values(
                        other.attname
                    ),
                }
            ).count()
            label = f"{label} naming it"
            if shared:
                note = f"{shared} name both: listed once"
        else:
            ours, theirs = _counts(
                related._base_manager.all(), rel.field.attname, survivor, duplicate
            )
            if related is Membership:
                shared = Membership.objects.filter(
                    organization=duplicate,
                    left_on__isnull=True,
                    coalition_id__in=Membership.objects.filter(
                        organization=survivor, left_on__isnull=True
                    ).values("coalition_id"),
                ).count()
                if shared:
                    note = (
                        f"{shared} of the same coalition combined into one, with the higher "
                        "tier and the earlier date joined"
                    )
        if ours or theirs:
            relations.append(MergedRelation(label, ours, theirs, ours + theirs - shared, note))
    earlier = Organization.objects.filter(merged_into=duplicate).count()
    if earlier:
        relations.append(
            MergedRelation(
                "Records merged into it earlier",
                Organization.objects.filter(merged_into=survivor).count(),
                earlier,
                Organization.objects.filter(merged_into__in=[survivor, duplicate]).count(),
                "they point at the survivor",
            )
        )
    return relations


def _kept_because(duplicate: Organization) -> str:
    """What history names the duplicate and is never rewritten, so that it must be kept."""
    moved = set(Organization._meta.related_objects)
    reasons = []
    for rel in Organization._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel in moved or rel.many_to_many:
            continue
        if rel.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        count = rel.related_model._base_manager.filter(**{rel.field.name: duplicate}).count()
        if count:
            model = rel.related_model._meta
            reasons.append(
                f"{count} {model.verbose_name if count == 1 else model.verbose_name_plural}"
            )
    return ", ".join(reasons)


def merge_preview(*, survivor: Organization, duplicate: Organization) -> MergePreview:
    """What merge_organizations would do with these two, before it does it."""
    return MergePreview(
        survivor=survivor,
        duplicate=duplicate,
        fields=_merged_fields(survivor, duplicate),
        relations=_merged_relations(survivor, duplicate),
        kept_because=_kept_because(duplicate),
    )
