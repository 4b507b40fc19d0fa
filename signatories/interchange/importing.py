"""A letter document imported: checked, planned and written in one short transaction."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction

from coalition.crm.models import Organization
from coalition.crm.services import create_organizations, new_organization
from letters.models import LetterPage
from letters.services import (
    ImportedLetter,
    LetterDocumentRefused,
    ensure_letter_archive,
    unique_slug,
)

from ..models import Signature
from ..services import Actor, publish_letter
from .body import body_stream, derive_title
from .matching import match_organizations
from .validation import LetterDocumentError, validate_document


@dataclass
class ImportResult:
    letter: LetterPage
    organizations_created: int
    signatures_created: int


@dataclass
class _Plan:
    """Everything an import writes, built and checked before the write transaction opens."""

    letter: LetterPage
    organizations: list[Organization] = field(default_factory=list)
    # Each signature with the new organization it waits for (its primary key comes on writing).
    signatures: list[tuple[Signature, Organization | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_letter(
    *, document: Any, publish: bool = False, owner: User | None = None
) -> ImportResult:
    """Create a letter, its missing organizations and its approved signatures from a document.

    Everything is checked and built first; the write is one short transaction, all or nothing
    (on SQLite it holds the one write lock: 10,000 signatories took minutes when each
    organization was saved, indexed and looked up in turn inside it).
    """
    problems = validate_document(document)
    if problems:
        raise LetterDocumentError(problems)
    plan = _plan(document)
    if plan.problems:
        raise LetterDocumentError(plan.problems)
    letter = plan.letter
    letter.owner = owner
    with transaction.atomic():
        index = ensure_letter_archive()
        letter.slug = unique_slug(index, letter.title)
        index.add_child(instance=letter)
        revision = letter.save_revision(user=owner)
        create_organizations(plan.organizations, batch_size=500)
        for signature, new_org in plan.signatures:
            signature.letter = letter
            if new_org is not None:
                signature.organization = new_org
        Signature.objects.bulk_create([s for s, _ in plan.signatures], batch_size=500)
        if publish:
            # The same service as every other publication: a frozen list, a PDF and its SHA-256.
            publish_letter(letter=letter, revision=revision, actor=Actor.system("import_letter"))
    if publish:
        letter.refresh_from_db()
    return ImportResult(
        letter=letter,
        organizations_created=len(plan.organizations),
        signatures_created=len(plan.signatures),
    )


def _plan(document: dict[str, Any]) -> _Plan:
    plan = _Plan(letter=_letter_of(document))
    too_long: dict[str, str] = {}
    _check_lengths(
        plan.letter,
        {name: (f".{name}", "") for name in ("dateline", "salutation", "closing")},
        too_long,
    )
    _check_letter_fields(plan.letter, too_long)
    items = document["signatories"]
    organizations = match_organizations(items)
    for position, item in enumerate(items):
        where = f"$.signatories[{position}]"
        new_org = None
        if "name" in item:
            org = organizations.get(position)
            if org is None:
                new_org = org = _new_organization(item)
                plan.organizations.append(new_org)
                _check_lengths(new_org, _ORGANIZATION_SOURCES, too_long, where=where)
            signature = _organization_signature(item, position, org, is_new=new_org is not None)
        else:
            signature = _individual_signature(item, position)
        plan.signatures.append((signature, new_org))
        _check_lengths(signature, _signature_sources(item), too_long, where=where)
    plan.problems = list(too_long.values())
    return plan


def _letter_of(document: dict[str, Any]) -> LetterPage:
    """The letter a document describes, unsaved."""
    # A title made from a long recipient line is cut, not refused: nobody typed it.
    title = document.get("title") or derive_title(document)[:255]
    return LetterPage(
        title=title,
        letter_date=datetime.date.fromisoformat(document["date"]) if "date" in document else None,
        dateline=document.get("dateline", ""),
        recipients="\n".join(line.strip() for line in document.get("recipients", [])),
        salutation=document.get("salutation", ""),
        body=body_stream(document["body"]),
        closing=document.get("closing", ""),
        cc="\n".join(document.get("cc", [])),
        footnotes="\n".join(document.get("footnotes", [])),
        signatory_order=LetterPage.SignatoryOrder.AS_ENTERED,
        signatory_style=(
            LetterPage.SignatoryStyle.SIGNERS
            if any("signer" in item for item in document["signatories"])
            else LetterPage.SignatoryStyle.ORGANIZATIONS
        ),
        accepts_individuals=any("person" in item for item in document["signatories"]),
        live=False,
    )


def _new_organization(item: dict[str, Any]) -> Organization:
    """The organization a signatory names that is not among the members yet, unsaved."""
    return new_organization(
        {
            "name": item["name"].strip(),
            "acronym": item.get("acronym", ""),
            "display": item.get("display", ""),
            "website": item.get("website", ""),
            "country": item.get("country", ""),
        }
    )


def _organization_signature(
    item: dict[str, Any], position: int, org: Organization, *, is_new: bool
) -> Signature:
    """An organization's signature; a new organization is attached once it is written."""
    default = f"{item['name']} ({item['acronym']})" if item.get("acronym") else item["name"]
    return Signature(
        organization=None if is_new else org,
        display_name=item.get("display") or default,
        sort_key=org.sort_name,
        signer_name=item.get("signer", ""),
        signer_title=item.get("title", ""),
        logo_id=org.logo_id,
        **_common(item, position),
    )


def _individual_signature(item: dict[str, Any], position: int) -> Signature:
    default = Signature.default_individual_line(
        item["person"], item.get("title", ""), item.get("affiliation", "")
    )
    return Signature(
        display_name=item.get("display") or default,
        sort_key=item["person"].split()[-1] if item["person"].split() else item["person"],
        signer_name=item["person"],
        signer_title=item.get("title", ""),
        affiliation=item.get("affiliation", ""),
        website=item.get("website", ""),
        country=item.get("country", ""),
        **_common(item, position),
    )


# Where each model field comes from, below the signatory: a JSON key, and how it is made from it
# when it is not taken as it is.
Sources = dict[str, tuple[str, str]]
_ORGANIZATION_SOURCES: Sources = {
    "name": (".name", ""),
    "acronym": (".acronym", ""),
    "display": (".display", ""),
    "website": (".website", ""),
    "country": (".country", ""),
    "name_key": (".name", "normalized to match organizations by, it"),
    "sort_name": (".name", "as it sorts, it"),
}
_SIGNATURE_SOURCES: Sources = {
    "signer_name": (".signer", ""),
    "signer_title": (".title", ""),
    "group": (".group", ""),
}
_INDIVIDUAL_SOURCES: Sources = {
    "sort_key": (".person", ""),
    "signer_name": (".person", ""),
    "signer_title": (".title", ""),
    "affiliation": (".affiliation", ""),
    "group": (".group", ""),
    "website": (".website", ""),
    "country": (".country", ""),
}


def _signature_sources(item: dict[str, Any]) -> Sources:
    if "person" in item:
        line = ("", "the line printed from person, title and affiliation")
        return {
            **_INDIVIDUAL_SOURCES,
            "display_name": (".display", "") if "display" in item else line,
        }
    line = ("", "the line printed from name and acronym")
    return {**_SIGNATURE_SOURCES, "display_name": (".display", "") if "display" in item else line}


def _check_lengths(
    instance: models.Model, sources: Sources, found: dict[str, str], *, where: str = "$"
) -> None:
    """Note every text too long for its column, under the JSON path it came from.

    PostgreSQL refuses such a value with a DataError mid-import; SQLite stores it whole. The
    first limit met for a path is the one reported (an organization's before its line's).
    """
    for model_field in instance._meta.concrete_fields:
        limit = getattr(model_field, "max_length", None)
        value = getattr(instance, model_field.attname)
        if model_field.name not in sources or not isinstance(value, str):
            continue
        if not limit or len(value) <= limit:
            continue
        key, made = sources[model_field.name]
        path = where + key
        if path not in found:
            what = f"{made} is {len(value):,} characters" if made else f"{len(value):,} characters"
            found[path] = f"{path}: {what}; the limit is {limit:,}"


# The letter's fields that a document fills, with the JSON path each comes from.
_LETTER_FIELDS = {
    "title": "$.title",
    "letter_date": "$.date",
    "dateline": "$.dateline",
    "recipients": "$.recipients",
    "salutation": "$.salutation",
    "closing": "$.closing",
    "cc": "$.cc",
    "footnotes": "$.footnotes",
}


def _check_letter_fields(letter: LetterPage, found: dict[str, str]) -> None:
    """The letter's own validators, run before the write: saving its first revision runs them,
    and what they refuse there ended the import in a traceback."""
    exclude = [f.name for f in LetterPage._meta.fields if f.name not in _LETTER_FIELDS]
    try:
        letter.clean_fields(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            path = _LETTER_FIELDS.get(name, "$")
            if not any(known == path or known.startswith(path + "[") for known in found):
                found[path] = f"{path}: {' '.join(messages)}"


def _common(item: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "group": item.get("group", ""),
        "position": position,
        "status": Signature.Status.APPROVED,
        "response": Signature.Response.SIGNED,
        "imported": True,
    }


# The Word import (letters app) imports finished letters and matches signatories through these.


def import_word_document(
    document: dict[str, Any], *, publish: bool, owner: User | None = None
) -> ImportedLetter:
    try:
        result = import_letter(document=document, publish=publish, owner=owner)
    except LetterDocumentError as error:
        raise LetterDocumentRefused(error.problems) from None
    return ImportedLetter(
        letter=result.letter,
        organizations_created=result.organizations_created,
        signatures_created=result.signatures_created,
    )
