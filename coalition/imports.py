"""Import organizations with their contacts and memberships from a CSV or XLSX file.

A file has one row per organization, contact or membership: an organization may span several
rows (its details on any of them, which must agree), each adding a contact, a membership or both.
Everything is checked before anything is written; with any error nothing is imported.
"""

import csv
import datetime
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from taggit.models import Tag
from wagtail.search.backends import get_search_backend

from coalition.models import (
    Coalition,
    Contact,
    Membership,
    Organization,
    OrganizationTag,
    name_key,
    sort_name_for,
    website_key,
)

ORGANIZATION_COLUMNS = [
    "name",
    "acronym",
    "display",
    "kind",
    "country",
    "website",
    "description",
    "tags",
    "status",
]
CONTACT_COLUMNS = [
    "contact_name",
    "contact_email",
    "contact_title",
    "contact_phone",
    "authorized_signer",
    "primary_contact",
    "email_opt_out",
]
MEMBERSHIP_COLUMNS = ["coalition", "tier", "joined_on"]
COLUMNS = ORGANIZATION_COLUMNS + CONTACT_COLUMNS + MEMBERSHIP_COLUMNS
REQUIRED_COLUMNS = ["name"]
TRUE = {"1", "yes", "y", "true", "x", "✓"}
FALSE = {"", "0", "no", "n", "false"}
BATCH = 500

Progress = Callable[[str, int, int], None]


class ImportFileError(Exception):
    """The file cannot be read at all (encoding, format, header)."""


@dataclass
class RowResult:
    number: int
    organization: str
    action: str = "skip"  # create, update or skip
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = True
    organizations_created: int = 0
    organizations_updated: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    memberships_created: int = 0
    memberships_updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"{len(self.rows)} rows: {self.count('create')} {verb} created, "
            f"{self.count('update')} {verb} updated, {self.count('skip')} skipped "
            f"(organizations: {self.organizations_created} new, {self.organizations_updated} "
            f"updated; contacts: {self.contacts_created} new, {self.contacts_updated} updated; "
            f"memberships: {self.memberships_created} new, {self.memberships_updated} updated)."
        )


# Reading ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """Text of a CSV file in UTF-8 (with or without BOM), UTF-16 or, failing those, Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:400]
    if head and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a byte-order mark: the NUL halves give away the byte order.
        return data.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel on Windows writes when asked for "CSV"; a superset of Latin-1's printables.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _header_name(value: object) -> str:
    return str(value or "").strip().lower().replace(" ", "_").replace("-", "_")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(
    data: bytes, filename: str = ""
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-blank rows of a CSV or XLSX file, each with its spreadsheet row number."""
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        table = _xlsx_rows(data)
    else:
        table = _csv_rows(data)
    try:
        header_row = next(table)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    header = [_header_name(h) for h in header_row]
    rows = []
    for number, values in enumerate(table, start=2):
        cells = [_cell(v) for v in values]
        if not any(cells):
            continue
        rows.append(
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
        )
    return header, rows


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    return iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> Iterable[tuple]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"The file is not a readable XLSX workbook ({error}).") from error
    return workbook.worksheets[0].iter_rows(values_only=True)


# Checking -----------------------------------------------------------------------------------


def _choice(value: str, choices: list[tuple[str, str]], column: str, number: int) -> str:
    wanted = value.strip().lower()
    for key, label in choices:
        if wanted in (key, str(label).lower()):
            return key
    allowed = ", ".join(str(label).lower() for _, label in choices)
    raise ValidationError(f"Row {number}: {column} “{value}” is not one of: {allowed}.")


def _boolean(value: str, column: str, number: int) -> bool | None:
    wanted = value.strip().lower()
    if wanted in TRUE:
        return True
    if wanted in FALSE:
        return None if wanted == "" else False
    raise ValidationError(f"Row {number}: {column} “{value}” should be yes or no.")


@dataclass
class _OrgPlan:
    key: str
    first_row: int
    fields: dict[str, str]
    tags: list[str]
    existing: Organization | None
    changed: list[str] = field(default_factory=list)
    instance: Organization | None = None


@dataclass
class _ContactPlan:
    org: _OrgPlan
    row: int
    fields: dict
    existing: Contact | None
    changed: list[str] = field(default_factory=list)


@dataclass
class _MembershipPlan:
    org: _OrgPlan
    row: int
    coalition: Coalition
    tier: str
    joined_on: datetime.date | None
    existing: Membership | None


class _Planner:
    def __init__(self, header: list[str], rows: list[tuple[int, dict[str, str]]]) -> None:
        self.header = header
        self.rows = rows
        self.errors: list[str] = []
        self.orgs: dict[str, _OrgPlan] = {}
        self.contacts: list[_ContactPlan] = []
        self.memberships: list[_MembershipPlan] = []
        self.results: list[RowResult] = []
        self.emails_by_row = {n: row.get("contact_email", "").strip() for n, row in rows}

    def check_header(self) -> bool:
        present = set(self.header)
        for column in REQUIRED_COLUMNS:
            if column not in present:
                self.errors.append(
                    f"Missing column: {column}. The first row must name the columns."
                )
        if present & set(CONTACT_COLUMNS) and "contact_email" not in present:
            self.errors.append(
                "Missing column: contact_email (needed with the other contact columns)."
            )
        if "tier" in present and "coalition" not in present:
            self.errors.append("Missing column: coalition (needed with tier).")
        unknown = [h for h in self.header if h and h not in COLUMNS]
        if unknown:
            self.errors.append(
                f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"Known columns: {', '.join(COLUMNS)}."
            )
        seen: set[str] = set()
        for h in self.header:
            if h and h in seen:
                self.errors.append(f"Column {h} appears twice.")
            seen.add(h)
        return not self.errors

    def load_existing(self) -> None:
        keys = {name_key(row.get("name", "")) for _, row in self.rows} - {""}
        self.existing_orgs: dict[str, Organization] = {}
        key_list = list(keys)
        for start in range(0, len(key_list), BATCH):
            for org in Organization.objects.filter(name_key__in=key_list[start : start + BATCH]):
                self.existing_orgs[org.name_key] = org
        # For duplicate warnings: acronyms and websites of every organization, in one query.
        self.by_acronym: dict[str, str] = {}
        self.by_website: dict[str, str] = {}
        for name, acronym, website in Organization.objects.values_list(
            "name", "acronym", "website"
        ):
            if acronym:
                self.by_acronym.setdefault(acronym.lower(), name)
            if website:
                self.by_website.setdefault(website_key(website), name)
        emails = {row.get("contact_email", "").lower() for _, row in self.rows} - {""}
        email_list = list(emails)
        self.existing_contacts: dict[str, Contact] = {}
        for start in range(0, len(email_list), BATCH):
            found = (
                Contact.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=email_list[start : start + BATCH])
                .select_related("organization")
            )
            for contact in found:
                self.existing_contacts[contact.email.lower()] = contact
        self.coalitions = {}
        for coalition in Coalition.objects.all():
            self.coalitions[coalition.name.lower()] = coalition
            self.coalitions[coalition.slug.lower()] = coalition
        org_ids = [org.pk for org in self.existing_orgs.values()]
        self.existing_memberships: dict[tuple[int, int], Membership] = {}
        for start in range(0, len(org_ids), BATCH):
            for m in Membership.objects.filter(
                organization_id__in=org_ids[start : start + BATCH], left_on__isnull=True
            ):
                self.existing_memberships[(m.organization_id, m.coalition_id)] = m
        self.existing_tags: dict[int, set[str]] = {}
        for start in range(0, len(org_ids), BATCH):
            for org_id, tag in OrganizationTag.objects.filter(
                content_object_id__in=org_ids[start : start + BATCH]
            ).values_list("content_object_id", "tag__name"):
                self.existing_tags.setdefault(org_id, set()).add(tag.lower())

    def plan(self, progress: Progress | None) -> None:
        total = len(self.rows)
        seen_emails: dict[str, int] = {}
        seen_memberships: dict[tuple[str, int], int] = {}
        for index, (number, row) in enumerate(self.rows, start=1):
            try:
                self.plan_row(number, row, seen_emails, seen_memberships)
            except ValidationError as error:
                self.errors.extend(error.messages)
            if progress and (index % 200 == 0 or index == total):
                progress("Checking rows", index, total)

    def organization_fields(self, number: int, row: dict[str, str]) -> dict[str, str]:
        fields: dict[str, str] = {}
        problems: list[str] = []
        for column in ORGANIZATION_COLUMNS:
            value = row.get(column, "").strip()
            if not value or column == "tags":
                continue
            try:
                if column == "kind":
                    value = _choice(value, Organization.Kind.choices, column, number)
                elif column == "status":
                    value = _choice(value, Organization.Status.choices, column, number)
                elif column == "country":
                    if len(value) != 2 or not value.isalpha():
                        raise ValidationError(
                            f"Row {number}: country “{value}” should be a two-letter ISO code, like US."
                        )
                    value = value.upper()
                elif column == "website":
                    if "://" not in value:
                        value = f"https://{value}"
                    try:
                        URLValidator(schemes=["http", "https"])(value)
                    except ValidationError:
                        raise ValidationError(
                            f"Row {number}: website “{row[column]}” is not a web address."
                        ) from None
                limit = Organization._meta.get_field(column).max_length
                if limit and len(value) > limit:
                    raise ValidationError(
                        f"Row {number}: {column} is longer than {limit} characters."
                    )
            except ValidationError as error:
                problems.extend(error.messages)
                continue
            fields[column] = value
        if problems:
            raise ValidationError(problems)
        return fields

    def plan_row(
        self,
        number: int,
        row: dict[str, str],
        seen_emails: dict[str, int],
        seen_memberships: dict[tuple[str, int], int],
    ) -> None:
        name = row.get("name", "").strip()
        result = RowResult(number=number, organization=name)
        if not name:
            raise ValidationError(f"Row {number}: name is empty.")
        key = name_key(name)
        if not key:
            raise ValidationError(f"Row {number}: name “{name}” has no letters or digits.")
        problems: list[str] = []
        try:
            fields = self.organization_fields(number, row)
        except ValidationError as error:
            problems.extend(error.messages)
            fields = {}
        tags = [t.strip() for t in row.get("tags", "").replace(";", ",").split(",") if t.strip()]

        org = self.orgs.get(key)
        repeated = org is not None
        if org is None:
            existing = self.existing_orgs.get(key)
            org = _OrgPlan(key=key, first_row=number, fields=fields, tags=tags, existing=existing)
            self.orgs[key] = org
            if existing is None:
                result.action = "create"
                result.changes.append("new organization")
                acronym = fields.get("acronym", "").lower()
                website = website_key(fields["website"]) if fields.get("website") else ""
                if acronym and acronym in self.by_acronym:
                    result.warnings.append(
                        f"same acronym as the existing “{self.by_acronym[acronym]}”"
                    )
                if website and website in self.by_website:
                    result.warnings.append(
                        f"same website as the existing “{self.by_website[website]}”"
                    )
            else:
                for column, value in fields.items():
                    # The name matched by its key; a different spelling does not rename it.
                    if column != "name" and str(getattr(existing, column)) != value:
                        org.changed.append(column)
                new_tags = [
                    t for t in tags if t.lower() not in self.existing_tags.get(existing.pk, set())
                ]
                if new_tags:
                    org.changed.append("tags")
                if org.changed:
                    result.action = "update"
                    result.changes.append("organization: " + ", ".join(org.changed))
        else:
            for column, value in fields.items():
                if column == "name":
                    continue  # spellings of one name_key are the same organization
                if column in org.fields and org.fields[column] != value:
                    problems.append(
                        f"Row {number}: {column} “{value}” differs from row {org.first_row} "
                        f"(“{org.fields[column]}”) for the same organization."
                    )
                elif column not in org.fields:
                    org.fields[column] = value
            org.tags.extend(t for t in tags if t not in org.tags)

        added_something = self.plan_contact(number, row, org, result, seen_emails, problems)
        added_something |= self.plan_membership(
            number, row, org, result, seen_memberships, problems
        )
        if repeated and not added_something and not problems:
            problems.append(
                f"Row {number}: organization “{name}” is already on row {org.first_row} and this "
                "row adds no contact or membership (a duplicate)."
            )
        if problems:
            raise ValidationError(problems)
        self.results.append(result)

    def plan_contact(
        self,
        number: int,
        row: dict[str, str],
        org: _OrgPlan,
        result: RowResult,
        seen_emails: dict[str, int],
        problems: list[str],
    ) -> bool:
        email = row.get("contact_email", "").strip()
        contact_name = row.get("contact_name", "").strip()
        others = [row.get(c, "").strip() for c in CONTACT_COLUMNS if c != "contact_email"]
        if not email:
            if any(others):
                problems.append(
                    f"Row {number}: contact_email is empty but other contact columns are filled."
                )
            return False
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"Row {number}: contact_email “{email}” is not a valid email address.")
            return False
        lowered = email.lower()
        if lowered in seen_emails:
            problems.append(
                f"Row {number}: contact_email {email} is also on row {seen_emails[lowered]} (a duplicate)."
            )
            return False
        seen_emails[lowered] = number
        fields: dict = {}
        if contact_name:
            fields["name"] = contact_name
        for column, attribute in (("contact_title", "title"), ("contact_phone", "phone")):
            if row.get(column, "").strip():
                fields[attribute] = row[column].strip()
        for column, attribute in (
            ("authorized_signer", "is_authorized_signer"),
            ("primary_contact", "is_primary"),
            ("email_opt_out", "email_opt_out"),
        ):
            try:
                value = _boolean(row.get(column, ""), column, number)
            except ValidationError as error:
                problems.extend(error.messages)
                continue
            if value is not None:
                fields[attribute] = value
        existing = self.existing_contacts.get(lowered)
        if existing is not None and (
            org.existing is None or existing.organization_id != org.existing.pk
        ):
            problems.append(
                f"Row {number}: contact_email {email} belongs to {existing.name} at "
                f"{existing.organization.name}, not to this organization."
            )
            return False
        if existing is None and not contact_name:
            problems.append(f"Row {number}: contact_name is empty for the new contact {email}.")
            return False
        plan = _ContactPlan(org=org, row=number, fields=fields, existing=existing)
        if existing is None:
            result.changes.append(f"new contact {email}")
        else:
            plan.changed = [k for k, v in fields.items() if getattr(existing, k) != v]
            if plan.changed:
                result.changes.append(f"contact {email}: " + ", ".join(plan.changed))
        if existing is None or plan.changed:
            if result.action == "skip":
                result.action = "update"
            self.contacts.append(plan)
        return True

    def plan_membership(
        self,
        number: int,
        row: dict[str, str],
        org: _OrgPlan,
        result: RowResult,
        seen: dict[tuple[str, int], int],
        problems: list[str],
    ) -> bool:
        name = row.get("coalition", "").strip()
        tier_text = row.get("tier", "").strip()
        joined_text = row.get("joined_on", "").strip()
        if not name:
            if tier_text or joined_text:
                problems.append(
                    f"Row {number}: coalition is empty but tier or joined_on is filled."
                )
            return False
        coalition = self.coalitions.get(name.lower())
        if coalition is None:
            problems.append(f"Row {number}: coalition “{name}” does not exist.")
            return False
        tier = Membership.Tier.MEMBER.value
        if tier_text:
            try:
                tier = _choice(tier_text, Membership.Tier.choices, "tier", number)
            except ValidationError as error:
                problems.extend(error.messages)
                return False
        joined_on = None
        if joined_text:
            try:
                joined_on = datetime.date.fromisoformat(joined_text[:10])
            except ValueError:
                problems.append(
                    f"Row {number}: joined_on “{joined_text}” should be a date like 2024-05-31."
                )
                return False
        if (org.key, coalition.pk) in seen:
            problems.append(
                f"Row {number}: the membership of “{org.fields.get('name') or row['name']}” in "
                f"{coalition.name} is also on row {seen[(org.key, coalition.pk)]} (a duplicate)."
            )
            return False
        seen[(org.key, coalition.pk)] = number
        existing = None
        if org.existing is not None:
            existing = self.existing_memberships.get((org.existing.pk, coalition.pk))
        if existing is not None and existing.tier == tier:
            return True
        self.memberships.append(
            _MembershipPlan(
                org=org,
                row=number,
                coalition=coalition,
                tier=tier,
                joined_on=joined_on,
                existing=existing,
            )
        )
        if existing is None:
            result.changes.append(f"joins {coalition.name} as {tier}")
        else:
            result.changes.append(f"{coalition.name}: tier {existing.tier} → {tier}")
        if result.action == "skip":
            result.action = "update"
        return True


# Writing ------------------------------------------------------------------------------------


def _apply(planner: _Planner, report: ImportReport, progress: Progress | None) -> None:
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

    # bulk_create sends no signals, so the search index learns of the new rows here.
    backend = get_search_backend()
    if new_orgs or changed_orgs:
        backend.add_bulk(Organization, new_orgs + changed_orgs)
    if new_contacts or changed_contacts:
        backend.add_bulk(Contact, new_contacts + changed_contacts)


def _apply_tags(planner: _Planner) -> None:
    wanted: dict[str, str] = {}
    for plan in planner.orgs.values():
        for tag in plan.tags:
            wanted.setdefault(tag.lower(), tag)
    if not wanted:
        return
    tags = {t.name.lower(): t for t in Tag.objects.filter(name__in=list(wanted.values()))}
    for lowered, name in wanted.items():
        if lowered not in tags:
            tags[lowered] = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(
                name=name
            )
    links = []
    for plan in planner.orgs.values():
        have = planner.existing_tags.get(plan.instance.pk, set()) if plan.existing else set()
        for tag in {t.lower() for t in plan.tags} - have:
            links.append(OrganizationTag(content_object_id=plan.instance.pk, tag=tags[tag]))
    OrganizationTag.objects.bulk_create(links, batch_size=BATCH)


# The service -------------------------------------------------------------------------------


def import_members(
    *,
    data: bytes,
    filename: str = "",
    dry_run: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a members file row by row and, unless dry_run or anything is wrong, import it atomically."""
    report = ImportReport(dry_run=dry_run)
    try:
        header, rows = read_rows(data, filename)
    except (ImportFileError, UnicodeDecodeError, csv.Error) as error:
        report.errors.append(str(error))
        return report
    planner = _Planner(header, rows)
    if not planner.check_header():
        report.errors = planner.errors
        return report
    if not rows:
        report.errors.append("The file has a header but no rows.")
        return report
    planner.load_existing()
    planner.plan(progress)
    report.rows = planner.results
    report.errors = planner.errors
    report.organizations_created = sum(1 for p in planner.orgs.values() if p.existing is None)
    report.organizations_updated = sum(1 for p in planner.orgs.values() if p.existing and p.changed)
    report.contacts_created = sum(1 for p in planner.contacts if p.existing is None)
    report.contacts_updated = sum(1 for p in planner.contacts if p.existing is not None)
    report.memberships_created = sum(1 for p in planner.memberships if p.existing is None)
    report.memberships_updated = sum(1 for p in planner.memberships if p.existing is not None)
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        report.organizations_updated = 0
        _apply(planner, report, progress)
    return report
