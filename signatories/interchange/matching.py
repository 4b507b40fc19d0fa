"""Signatories matched to the members list, for an import and for the Word import's review."""

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from coalition.crm.models import Organization, name_key
from coalition.crm.selectors import organizations_named
from letters.services import (
    SignatoryMatch,
)

# Names matched per query: SQLite takes at most 32,766 parameters.
MATCH_BATCH = 5000


def match_organizations(items: list[dict[str, Any]]) -> dict[int, Organization]:
    """Existing organizations for the signatories that name one: by normalized name, else by
    acronym (as coalition.crm.selectors.best_named), looked up in a few queries for any length."""
    named = [item for item in items if "name" in item]
    by_key: dict[str, Organization] = {}
    by_acronym: dict[str, Organization] = {}
    for start in range(0, len(named), MATCH_BATCH):
        batch = named[start : start + MATCH_BATCH]
        for org in organizations_named(
            names=[item["name"] for item in batch],
            acronyms=[item.get("acronym", "") for item in batch],
        ):
            if org.merged_into_id is not None:
                continue
            by_key.setdefault(org.name_key, org)
            if org.acronym:
                by_acronym.setdefault(org.acronym.lower(), org)
    matched = {}
    for i, item in enumerate(items):
        if "name" in item:
            key = name_key(item["name"])
            acronym = item.get("acronym", "").strip().lower()
            found = (by_key.get(key) if key else None) or (
                by_acronym.get(acronym) if acronym else None
            )
            if found is not None:
                matched[i] = found
    return matched


def match_signatories(signatories: list[dict[str, str]]) -> list[SignatoryMatch | None]:
    """Each signatory's organization in the members list, matched as an import matches it;
    invitable when it is an active member (a pending one is no member yet)."""
    matched = match_organizations(signatories)
    return [
        SignatoryMatch(
            organization_id=org.pk,
            name=org.name,
            invitable=org.status == Organization.Status.ACTIVE,
        )
        if (org := matched.get(position)) is not None
        else None
        for position in range(len(signatories))
    ]


def invite_url(organization_ids: list[int]) -> str:
    """The page that opens a sign-on, with these organizations picked."""
    query = urlencode({"organizations": organization_ids}, doseq=True)
    return f"{reverse('signatories_admin:open')}?{query}"
