"""Checking every row and planning what an import creates, updates or skips.

Every cell is checked, whatever else is wrong on its row or in the file: one pass lists every
problem, so that fixing a file takes one round, not one per kind of mistake. The cells are read
in `cells`; what the database holds already is read once, in `existing`.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from coalition.core.validators import bidi_control_problem
from coalition.crm.duplicates import LikelyMatch, likely_duplicate_key
from coalition.crm.models import Coalition, Contact, Membership, Organization, name_key, website_key

from .base import CONTACT_COLUMNS, KNOWN_COLUMNS, REQUIRED_COLUMNS, Progress, RowResult
from .cells import (
    NAME_COLUMNS,
    choice,
    contact_fields,
    organization_fields,
    read_coalitions,
)
from .existing import Existing, Resolution, Rows, load_existing


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

    @property
    def organization(self) -> Organization:
        """The organization as written: set once the import writes it."""
        if self.instance is None:
            raise LookupError(f"The organization of row {self.first_row} is not written yet.")
        return self.instance


@dataclass
class _ContactPlan:
    org: _OrgPlan
    row: int
    fields: dict[str, str | bool]
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


def _likely_warning(match: LikelyMatch) -> str:
    if match.reason == "same acronym":
        return f"same acronym as the existing “{match.name}”"
    return f"looks like the existing “{match.name}” ({match.reason})"


class ImportPlan:
    """Every row of a file checked, and what importing it would create, update or skip."""

    def __init__(self, header: list[str], rows: Rows) -> None:
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
        self.existing = Existing()
        self.new_by_likely_key: dict[str, tuple[int, str]] = {}

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
        """Read what the database holds of the members the rows name."""
        self.existing = load_existing(self.rows)

    @property
    def resolutions(self) -> dict[str, Resolution]:
        """What each name in the file stands for, by its key."""
        return self.existing.resolutions

    def plan(self, progress: Progress | None) -> None:
        total = len(self.rows)
        seen_emails: dict[str, int] = {}
        seen_memberships: dict[tuple[str, int], int] = {}
        self.new_by_likely_key = {}
        for index, (number, row) in enumerate(self.rows, start=1):
            self.plan_row(number, row, seen_emails, seen_memberships)
            if progress and (index % 200 == 0 or index == total):
                progress("Checking rows", index, total)

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
        fields = organization_fields(number, row, problems)
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
                same_site = self.existing.by_website.get(website_key(website))
                if same_site and same_site not in {m.name for m in resolution.likely}:
                    result.warnings.append(f"same website as the existing “{same_site}”")
            return org, False

        for column, value in fields.items():
            # The name matched by its key; a different spelling does not rename it.
            if column != "name" and getattr(existing, column) != value:
                org.changed.append(column)
        have = self.existing.tags.get(existing.pk, set())
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
        fields = contact_fields(number, row, problems)
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
        existing = self.existing.contacts.get(lowered)
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
        coalition = self.existing.coalitions.get(name.lower())
        if coalition is None:
            problems.append(f"Row {number}: coalition “{name}” does not exist.")
            ok = False
        tier = Membership.Tier.MEMBER.value
        if tier_text:
            try:
                tier = choice(tier_text, Membership.Tier.choices, "tier", number)
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
        memberships = read_coalitions(number, cell, self.existing.coalitions, problems)
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
            existing = self.existing.memberships.get((org.existing.pk, coalition.pk))
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
