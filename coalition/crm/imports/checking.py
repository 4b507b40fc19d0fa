"""Checking every row and planning what an import creates, updates or skips.

Every cell is checked, whatever else is wrong on its row or in the file: one pass lists every
problem, so that fixing a file takes one round, not one per kind of mistake.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models.functions import Lower

from coalition.core.validators import bidi_control_problem
from coalition.crm.duplicates import DuplicateIndex, LikelyMatch, likely_duplicate_key
from coalition.crm.models import (
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
    CONTACT_COLUMNS,
    FALSE,
    KNOWN_COLUMNS,
    ORGANIZATION_COLUMNS,
    REQUIRED_COLUMNS,
    TRUE,
    Progress,
    RowResult,
)

EMAIL_BATCH = 5000
BOOLEAN_ORGANIZATION_COLUMNS = {"public_page"}
# The columns that print on letters or name someone: no bidirectional controls in them.
NAME_COLUMNS = ("name", "acronym", "display", "contact_name", "contact_title")
# "Digital Trade Coalition (steering)", as the organizations export writes a membership.
WITH_TIER = re.compile(r"^(?P<name>.*?)\s*\((?P<tier>[^()]*)\)$")


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
    fields: dict[str, str | bool]
    tags: list[str]
    existing: Organization | None
    changed: list[str] = field(default_factory=list)
    instance: Organization | None = None
    coalitions: str = ""  # the "coalitions" cell, as first given


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


@dataclass
class _Resolution:
    """What a name in the file stands for: an existing organization, and what else it looks like."""

    existing: Organization | None = None
    taken_as: LikelyMatch | None = None  # spelled differently, matched because nothing else fits
    likely: list[LikelyMatch] = field(default_factory=list)  # shown, not matched


def _likely_warning(match: LikelyMatch) -> str:
    if match.reason == "same acronym":
        return f"same acronym as the existing “{match.name}”"
    return f"looks like the existing “{match.name}” ({match.reason})"


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
        self.present = set(header)
        self.header_errors = 0
        self.resolutions: dict[str, _Resolution] = {}

    def check_header(self) -> bool:
        """Report what is wrong with the columns; False if the rows cannot be read at all."""
        for column in REQUIRED_COLUMNS:
            if column not in self.present:
                self.errors.append(
                    f"Missing column: {column}. The first row must name the columns."
                )
        if self.present & set(CONTACT_COLUMNS) and "contact_email" not in self.present:
            self.errors.append(
                "Missing column: contact_email (needed with the other contact columns)."
            )
        if self.present & {"tier", "joined_on"} and "coalition" not in self.present:
            self.errors.append("Missing column: coalition (needed with tier and joined_on).")
        unknown = [h for h in self.header if h and h not in KNOWN_COLUMNS]
        if unknown:
            self.errors.append(
                f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"Known columns: {', '.join(KNOWN_COLUMNS)}."
            )
        seen: set[str] = set()
        for h in self.header:
            if h and h in seen:
                self.errors.append(f"Column {h} appears twice.")
            seen.add(h)
        self.header_errors = len(self.errors)
        # Without names, rows cannot be told apart; any other problem leaves them to be checked.
        return all(column in self.present for column in REQUIRED_COLUMNS)

    def load_existing(self) -> None:
        keys = {name_key(row.get("name", "")) for _, row in self.rows} - {""}
        self.existing_orgs: dict[str, Organization] = {}
        key_list = list(keys)
        for start in range(0, len(key_list), BATCH):
            for org in Organization.objects.filter(name_key__in=key_list[start : start + BATCH]):
                self.existing_orgs[org.name_key] = org
        self._resolve_likely_duplicates(keys)
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
        org_ids = list(
            {org.pk for org in self.existing_orgs.values()}
            | {r.existing.pk for r in self.resolutions.values() if r.existing is not None}
        )
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

    def _resolve_likely_duplicates(self, keys: set[str]) -> None:
        """For each name the database lacks, the existing organization it likely means, if one.

        One query reads every organization's name, acronym and website (for the warnings too);
        the organizations taken for a row are read in one more.
        """
        self.by_website: dict[str, str] = {}
        known = []
        for pk, name, acronym, website in (
            Organization.objects.filter(merged_into__isnull=True)
            .values_list("pk", "name", "acronym", "website")
            .iterator(chunk_size=5000)
        ):
            known.append((pk, name, acronym))
            if website:
                self.by_website.setdefault(website_key(website), name)
        index = DuplicateIndex(known)
        # The first spelling of each name in the file, with the first acronym given for it.
        spelled: dict[str, tuple[str, str]] = {}
        for _, row in self.rows:
            key = name_key(row.get("name", ""))
            if not key:
                continue
            name, acronym = spelled.get(key, (row["name"].strip(), ""))
            spelled[key] = (name, acronym or row.get("acronym", "").strip())
        self.resolutions: dict[str, _Resolution] = {}
        taken: dict[int, list[str]] = {}
        for key in keys:
            existing = self.existing_orgs.get(key)
            resolution = self.resolutions[key] = _Resolution(existing=existing)
            if existing is not None:
                continue  # the name as the database has it: nothing to guess
            name, acronym = spelled[key]
            matches = index.matches(name=name, acronym=acronym)
            if len(matches) == 1 and matches[0].certain:
                resolution.taken_as = matches[0]
                taken.setdefault(matches[0].pk, []).append(key)
            else:
                resolution.likely = matches
        found = Organization.objects.in_bulk(list(taken))
        for pk, keys_taking in taken.items():
            for key in keys_taking:
                self.resolutions[key].existing = found.get(pk)

    def plan(self, progress: Progress | None) -> None:
        total = len(self.rows)
        seen_emails: dict[str, int] = {}
        seen_memberships: dict[tuple[str, int], int] = {}
        self.new_by_likely_key: dict[str, tuple[int, str]] = {}
        for index, (number, row) in enumerate(self.rows, start=1):
            self.plan_row(number, row, seen_emails, seen_memberships)
            if progress and (index % 200 == 0 or index == total):
                progress("Checking rows", index, total)

    def organization_fields(
        self, number: int, row: dict[str, str], problems: list[str]
    ) -> dict[str, str | bool]:
        fields: dict[str, str | bool] = {}
        for column in ORGANIZATION_COLUMNS:
            value = row.get(column, "").strip()
            if not value or column == "tags":
                continue
            try:
                if column in BOOLEAN_ORGANIZATION_COLUMNS:
                    flag = _boolean(value, column, number)
                    if flag is not None:
                        fields[column] = flag
                    continue
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
        return fields

    def plan_row(
        self,
        number: int,
        row: dict[str, str],
        seen_emails: dict[str, int],
        seen_memberships: dict[tuple[str, int], int],
    ) -> None:
        """Check every cell of a row and plan its changes; its problems go to self.errors."""
        problems: list[str] = []
        name = row.get("name", "").strip()
        result = RowResult(number=number, organization=name)
        key = name_key(name)
        if not name:
            problems.append(f"Row {number}: name is empty.")
        elif not key:
            problems.append(f"Row {number}: name “{name}” has no letters or digits.")
        for column in NAME_COLUMNS:
            if problem := bidi_control_problem(row.get(column, "")):
                problems.append(f"Row {number}, column {column}: {problem}; remove it.")
        fields = self.organization_fields(number, row, problems)
        tags = [t.strip() for t in row.get("tags", "").replace(";", ",").split(",") if t.strip()]

        org: _OrgPlan | None = None
        repeated = False
        if key:
            org, repeated = self.plan_organization(
                number, key, name, fields, tags, result, problems
            )
        added_something = self.plan_contact(number, row, org, result, seen_emails, problems)
        added_something |= self.plan_membership(
            number, row, org, result, seen_memberships, problems
        )
        added_something |= self.plan_coalitions(
            number, row, org, result, seen_memberships, problems
        )
        if org is not None and repeated and not added_something and not problems:
            problems.append(
                f"Row {number}: organization “{name}” is already on row {org.first_row} and this "
                "row adds no contact or membership (a duplicate)."
            )
        if problems:
            self.errors.extend(problems)
        else:
            self.results.append(result)

    def plan_organization(
        self,
        number: int,
        key: str,
        name: str,
        fields: dict[str, str | bool],
        tags: list[str],
        result: RowResult,
        problems: list[str],
    ) -> tuple[_OrgPlan, bool]:
        """The organization a row belongs to, planned on its first row; and whether it was already."""
        resolution = self.resolutions[key]
        existing = resolution.existing
        # Rows spelling one existing organization differently are the same organization.
        plan_key = f"#{existing.pk}" if existing is not None else key
        org = self.orgs.get(plan_key)
        if org is not None:
            for column, value in fields.items():
                if column == "name":
                    continue  # spellings of one organization
                if column in org.fields and org.fields[column] != value:
                    problems.append(
                        f"Row {number}: {column} “{value}” differs from row {org.first_row} "
                        f"(“{org.fields[column]}”) for the same organization."
                    )
                elif column not in org.fields:
                    org.fields[column] = value
            org.tags.extend(t for t in tags if t not in org.tags)
            return org, True

        org = _OrgPlan(key=key, first_row=number, fields=fields, tags=tags, existing=existing)
        self.orgs[plan_key] = org
        if resolution.taken_as is not None:
            result.warnings.append(
                f"taken as the existing “{resolution.taken_as.name}” "
                f"({resolution.taken_as.reason}), not created"
            )
        for match in resolution.likely:
            result.warnings.append(_likely_warning(match))
        if len(resolution.likely) > 1:
            result.warnings.append(
                "not matched: more than one existing organization fits; write its name as the "
                "database has it to add to one"
            )
        if existing is None:
            result.action = "create"
            result.changes.append("new organization")
            likely_key = likely_duplicate_key(name)
            if likely_key in self.new_by_likely_key:
                row, spelled = self.new_by_likely_key[likely_key]
                result.warnings.append(f"looks like “{spelled}” on row {row}")
            else:
                self.new_by_likely_key[likely_key] = (number, name)
            website = fields.get("website")
            if isinstance(website, str):
                same_site = self.by_website.get(website_key(website))
                if same_site and same_site not in {m.name for m in resolution.likely}:
                    result.warnings.append(f"same website as the existing “{same_site}”")
            return org, False

        for column, value in fields.items():
            # The name matched by its key; a different spelling does not rename it.
            if column != "name" and getattr(existing, column) != value:
                org.changed.append(column)
        have = self.existing_tags.get(existing.pk, set())
        if [t for t in tags if t.lower() not in have]:
            org.changed.append("tags")
        if org.changed:
            result.action = "update"
            result.changes.append("organization: " + ", ".join(org.changed))
        return org, False

    def plan_contact(
        self,
        number: int,
        row: dict[str, str],
        org: _OrgPlan | None,
        result: RowResult,
        seen_emails: dict[str, int],
        problems: list[str],
    ) -> bool:
        email = row.get("contact_email", "").strip()
        contact_name = row.get("contact_name", "").strip()
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
        others = [row.get(c, "").strip() for c in CONTACT_COLUMNS if c != "contact_email"]
        if not email:
            # Without the column, its absence was reported once for the whole file.
            if any(others) and "contact_email" in self.present:
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
        existing = self.existing_contacts.get(lowered)
        if existing is None and not contact_name:
            problems.append(f"Row {number}: contact_name is empty for the new contact {email}.")
            return False
        if org is None:
            return False  # the row's name is wrong: reported above
        if existing is not None and (
            org.existing is None or existing.organization_id != org.existing.pk
        ):
            problems.append(
                f"Row {number}: contact_email {email} belongs to {existing.name} at "
                f"{existing.organization.name}, not to this organization."
            )
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
        org: _OrgPlan | None,
        result: RowResult,
        seen: dict[tuple[str, int], int],
        problems: list[str],
    ) -> bool:
        name = row.get("coalition", "").strip()
        tier_text = row.get("tier", "").strip()
        joined_text = row.get("joined_on", "").strip()
        if not name:
            if (tier_text or joined_text) and "coalition" in self.present:
                problems.append(
                    f"Row {number}: coalition is empty but tier or joined_on is filled."
                )
            return False
        ok = True
        coalition = self.coalitions.get(name.lower())
        if coalition is None:
            problems.append(f"Row {number}: coalition “{name}” does not exist.")
            ok = False
        tier = Membership.Tier.MEMBER.value
        if tier_text:
            try:
                tier = _choice(tier_text, Membership.Tier.choices, "tier", number)
            except ValidationError as error:
                problems.extend(error.messages)
                ok = False
        joined_on = None
        if joined_text:
            try:
                joined_on = datetime.date.fromisoformat(joined_text[:10])
            except ValueError:
                problems.append(
                    f"Row {number}: joined_on “{joined_text}” should be a date like 2024-05-31."
                )
                ok = False
        if not ok or org is None or coalition is None:
            return False
        return self._add_membership(
            number, row, org, coalition, tier, joined_on, result, seen, problems
        )

    def plan_coalitions(
        self,
        number: int,
        row: dict[str, str],
        org: _OrgPlan | None,
        result: RowResult,
        seen: dict[tuple[str, int], int],
        problems: list[str],
    ) -> bool:
        """The "coalitions" cell of the organizations export: every membership in one cell.

        It describes the organization, as its name does: on several rows of one organization it
        must say the same, and is planned once.
        """
        cell = row.get("coalitions", "").strip()
        if not cell:
            return False
        memberships = self._read_coalitions(number, cell, problems)
        if org is None or memberships is None:
            return False
        if org.coalitions:
            if org.coalitions != cell:
                problems.append(
                    f"Row {number}: coalitions “{cell}” differs from row {org.first_row} "
                    f"(“{org.coalitions}”) for the same organization."
                )
            return False
        org.coalitions = cell
        added = False
        for coalition, tier, joined_on in memberships:
            added |= self._add_membership(
                number, row, org, coalition, tier, joined_on, result, seen, problems
            )
        return added

    def _read_coalitions(
        self, number: int, cell: str, problems: list[str]
    ) -> list[tuple[Coalition, str, datetime.date | None]] | None:
        """The memberships a "coalitions" cell lists, or None after reporting what is wrong.

        Items are "Name (tier; joined 2021-03-01)", "Name (tier)" or "Name", separated by
        commas; a coalition's name may itself hold a comma, so the longest run of items that
        names a coalition is taken.
        """
        pieces = cell.split(",")
        found: list[tuple[Coalition, str, datetime.date | None]] = []
        ok = True
        start = 0
        while start < len(pieces):
            if not pieces[start].strip():
                start += 1
                continue
            for end in range(len(pieces), start, -1):
                text = ",".join(pieces[start:end]).strip()
                named = WITH_TIER.match(text)
                coalition = self.coalitions.get(text.lower())
                tier_text = ""
                if coalition is None and named is not None:
                    coalition = self.coalitions.get(named["name"].lower())
                    tier_text = named["tier"]
                if coalition is not None:
                    break
            else:
                text = pieces[start].strip()
                named = WITH_TIER.match(text)
                unknown = named["name"] if named is not None else text
                problems.append(f"Row {number}: coalition “{unknown}” does not exist.")
                ok = False
                start += 1
                continue
            tier = Membership.Tier.MEMBER.value
            tier_text, _, joined_text = tier_text.partition(";")
            tier_text, joined_text = tier_text.strip(), joined_text.strip()
            joined_on = None
            if joined_text:
                try:
                    joined_on = datetime.date.fromisoformat(joined_text.removeprefix("joined "))
                except ValueError:
                    problems.append(
                        f"Row {number}: “{joined_text}” in coalitions, for {coalition.name}, "
                        "should read “joined” and a date like 2024-05-31."
                    )
                    ok = False
            if tier_text:
                try:
                    tier = _choice(tier_text, Membership.Tier.choices, "tier", number)
                except ValidationError as error:
                    problems.extend(
                        f"{m[:-1]} (in coalitions, for {coalition.name})." for m in error.messages
                    )
                    ok = False
            found.append((coalition, tier, joined_on))
            start = end
        return found if ok else None

    def _add_membership(
        self,
        number: int,
        row: dict[str, str],
        org: _OrgPlan,
        coalition: Coalition,
        tier: str,
        joined_on: datetime.date | None,
        result: RowResult,
        seen: dict[tuple[str, int], int],
        problems: list[str],
    ) -> bool:
        seen_key = (str(id(org)), coalition.pk)
        if seen_key in seen:
            problems.append(
                f"Row {number}: the membership of “{org.fields.get('name') or row['name']}” in "
                f"{coalition.name} is also on row {seen[seen_key]} (a duplicate)."
            )
            return False
        seen[seen_key] = number
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
