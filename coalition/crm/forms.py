from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from coalition.crm.imports import MAX_ROWS, MAX_UPLOAD_BYTES
from coalition.crm.models import Contact, Interaction, Organization, name_key
from coalition.crm.selectors import contact_email_taken, find_duplicate_organizations

#: What staff need to merge one organization into another (coalition/crm/views.py merge_view).
MERGE_PERMISSIONS = (
    "coalition.merge_organizations",
    "coalition.change_organization",
    "coalition.delete_organization",
)


def _organization_links(
    found: list[tuple[Organization, str]], *, merging: Organization | None = None
) -> str:
    """Links to the organizations found and, for a record that exists, to merge it into each."""
    return format_html_join(
        "; ",
        '<a href="{}">{}</a> ({}){}',
        (
            (
                reverse("coalition_organizations:inspect", args=[org.pk]),
                org.printed_name,
                reason,
                format_html(
                    ' · <a href="{}?duplicate={}">merge this record into it…</a>',
                    reverse("coalition_organizations:merge", args=[org.pk]),
                    merging.pk,
                )
                if merging is not None
                else "",
            )
            for org, reason in found
        ),
    )


class OrganizationForm(WagtailAdminModelForm):
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="This is a different organization",
        help_text="Tick this only after we warned you about a similar organization.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("name") or ""
        if name and not name_key(name):
            # The key that tells organizations apart would be empty, and it must be unique.
            self.add_error("name", "A name needs at least one letter or digit.")
            return cleaned
        exclude = self.instance.pk
        if exclude is not None and not {"name", "acronym", "website"} & set(self.changed_data):
            # Staff saw the warnings when they entered these; other edits are not asked again.
            return cleaned
        found = find_duplicate_organizations(
            name=name,
            acronym=cleaned.get("acronym") or "",
            website=cleaned.get("website") or "",
            exclude_pk=exclude,
        )
        # For the view, which records staff's "different organization" once the record is saved.
        self.likely_duplicates = found
        same_name = [(org, reason) for org, reason in found if reason == "same name"]
        if same_name:
            self.add_error(
                "name",
                forms.ValidationError(
                    format_html(
                        "An organization with this name already exists: {}. Open it instead.",
                        _organization_links(same_name),
                    )
                ),
            )
        elif found and not cleaned.get("not_a_duplicate"):
            self.add_error(
                None,
                forms.ValidationError(
                    format_html(
                        "This looks like an organization we already have: {}. Open the existing "
                        "record, or tick “This is a different organization” and save again.",
                        _organization_links(found, merging=self._mergeable()),
                    )
                ),
            )
        return cleaned

    def _mergeable(self) -> Organization | None:
        """This record, if it exists and the user may merge it into the one it looks like."""
        user = getattr(self, "for_user", None)
        if self.instance.pk is None or user is None or not user.has_perms(MERGE_PERMISSIONS):
            return None
        return self.instance

    def is_valid(self) -> bool:
        # The inline formsets are validated after clean(), so their checks come here.
        valid = super().is_valid()
        return self._check_formsets() and valid

    def _check_formsets(self) -> bool:
        """Duplicates between the inline rows, which the database would reject only on save."""
        ok = True
        contacts = self.formsets.get("contacts") if hasattr(self, "formsets") else None
        if contacts is not None:
            seen: dict[str, int] = {}
            for number, form in enumerate(contacts.forms, start=1):
                data = getattr(form, "cleaned_data", None) or {}
                email = (data.get("email") or "").strip().lower()
                if not email or data.get("DELETE"):
                    continue
                if email in seen:
                    form.add_error(
                        "email", f"Contact {seen[email]} already has this email address."
                    )
                seen[email] = number
                taken = contact_email_taken(email, exclude_pk=form.instance.pk)
                if taken is not None and taken.organization_id != self.instance.pk:
                    form.add_error(
                        "email",
                        f"{taken.name} at {taken.organization.name} already uses this email address.",
                    )
                    ok = False
        memberships = self.formsets.get("memberships") if hasattr(self, "formsets") else None
        if memberships is not None:
            active: dict[int, int] = {}
            for number, form in enumerate(memberships.forms, start=1):
                data = getattr(form, "cleaned_data", None) or {}
                coalition = data.get("coalition")
                if coalition is None or data.get("DELETE") or data.get("left_on"):
                    continue
                if coalition.pk in active:
                    form.add_error(
                        "coalition",
                        f"Membership {active[coalition.pk]} is already an active membership of "
                        f"{coalition.name}; set a date left on one of them.",
                    )
                    ok = False
                active[coalition.pk] = number
        return ok


class ContactForm(WagtailAdminModelForm):
    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        taken = contact_email_taken(email, exclude_pk=self.instance.pk)
        if taken is not None:
            raise forms.ValidationError(
                f"{taken.name} at {taken.organization.name} already uses this email address."
            )
        return email


class LogInteractionForm(forms.Form):
    kind = forms.ChoiceField(choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL)
    occurred_on = forms.DateField(label="Date", widget=AdminDateInput, required=False)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contact = cast(forms.ModelChoiceField[Contact], self.fields["contact"])
        contact.queryset = organization.contacts.all()


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (UTF-8, UTF-8 with BOM, Latin-1 or UTF-16) or XLSX, one row per "
        f"organization, contact or membership; up to {MAX_UPLOAD_BYTES // 1_048_576} MB and "
        f"{MAX_ROWS:,} rows."
    )

    def clean_file(self) -> UploadedFile[bytes]:
        upload = self.cleaned_data["file"]
        # Django has already spooled it to a temporary file; nothing past this reads it whole.
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"“{upload.name}” is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES // 1_048_576} MB. Split it into smaller files.",
                code="too_large",
            )
        return upload


class MergeForm(forms.Form):
    duplicate = forms.ModelChoiceField(
        queryset=Organization.objects.all(),
        widget=forms.RadioSelect,
        label="Merge this organization into the one above",
        error_messages={
            "required": "Choose the organization to merge.",
            "invalid_choice": "Choose one of the organizations listed.",
        },
    )
