"""Checking every row and planning what an import creates, updates or skips."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models.functions import Lower

from coalition.models import (
    Coalition,
    Contact,
    Membership,
    Organization,
    OrganizationTag,
    name_key,
    website_key,
)

from .base import (
    BATCH,
    COLUMNS,
    CONTACT_COLUMNS,
    FALSE,
    ORGANIZATION_COLUMNS,
    REQUIRED_COLUMNS,
    TRUE,
    Progress,
    RowResult,
)

EMAIL_BATCH = 5000


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


class ImportPlan:
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
        # PostgreSQL answers a list of addresses with a scan of the table, not an index lookup
        # each: a few long lists cost a few scans (SQLite takes up to 32,766 parameters).
        for start in range(0, len(email_list), EMAIL_BATCH):
            found = (
                Contact.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=email_list[start : start + EMAIL_BATCH])
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
