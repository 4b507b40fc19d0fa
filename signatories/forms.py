import re
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from .models import SignOn

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def single_line(value: str) -> None:
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError("Use a single line of plain text.")


class SignForm(forms.Form):
    display_name = forms.CharField(
        label="Name as it will print on the letter",
        max_length=300,
        validators=[single_line],
        help_text="Exactly as it should appear in the list of signatories.",
    )
    signer_name = forms.CharField(label="Your name", max_length=200, validators=[single_line])
    signer_title = forms.CharField(
        label="Your title", max_length=200, required=False, validators=[single_line]
    )
    signer_email = forms.EmailField(label="Your email address", max_length=254)
    authorized = forms.BooleanField(required=True)
    comment = forms.CharField(
        label="Comment to the coalition's staff",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    text_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, organization_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "authorized"
        ].label = f"I am authorized to sign on behalf of {organization_name}"
        self.fields["authorized"].error_messages["required"] = (
            f"Confirm that you are authorized to sign on behalf of {organization_name}."
        )
        self.fields[
            "display_name"
        ].help_text = f"Exactly as it should appear in the list of signatories; usually “{organization_name}”."
        self.fields["signer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["signer_title"].widget.attrs["autocomplete"] = "organization-title"
        self.fields["signer_email"].widget.attrs["autocomplete"] = "email"


class RequestToSignForm(forms.Form):
    """An organization that was not invited asks to sign, through the open link."""

    organization_name = forms.CharField(
        label="Organization name", max_length=255, validators=[single_line]
    )
    acronym = forms.CharField(
        label="Acronym", max_length=50, required=False, validators=[single_line]
    )
    website = forms.URLField(label="Website", max_length=200, required=False, assume_scheme="https")
    display_name = forms.CharField(
        label="Name as it will print on the letter",
        max_length=300,
        validators=[single_line],
        help_text="Exactly as it should appear in the list of signatories.",
    )
    signer_name = forms.CharField(label="Your name", max_length=200, validators=[single_line])
    signer_title = forms.CharField(label="Your title", max_length=200, validators=[single_line])
    signer_email = forms.EmailField(label="Your email address", max_length=254)
    authorized = forms.BooleanField(
        label="I am authorized to sign on behalf of this organization",
        error_messages={
            "required": "Confirm that you are authorized to sign on behalf of this organization."
        },
    )
    text_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "org")
        super().__init__(*args, **kwargs)
        self.fields["organization_name"].widget.attrs["autocomplete"] = "organization"
        self.fields["website"].widget.attrs["autocomplete"] = "url"
        self.fields["signer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["signer_title"].widget.attrs["autocomplete"] = "organization-title"
        self.fields["signer_email"].widget.attrs["autocomplete"] = "email"


class IndividualSignForm(forms.Form):
    """A person signs in a personal capacity, through the open link."""

    person = forms.CharField(label="Your name", max_length=200, validators=[single_line])
    title = forms.CharField(
        label="Your title", max_length=200, required=False, validators=[single_line]
    )
    affiliation = forms.CharField(
        label="Affiliation, for identification",
        max_length=300,
        required=False,
        validators=[single_line],
        help_text="Printed after your name for identification only; you sign for yourself.",
    )
    signer_email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="Not printed. Each person signs once.",
    )
    text_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "person")
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.attrs["autocomplete"] = "name"
        self.fields["title"].widget.attrs["autocomplete"] = "organization-title"
        self.fields["affiliation"].widget.attrs["autocomplete"] = "organization"
        self.fields["signer_email"].widget.attrs["autocomplete"] = "email"

    def printed_line(self) -> str:
        """How the line will print, from what was entered so far (for the preview)."""
        from .models import Signature

        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return Signature.default_individual_line(
            data.get("person", ""), data.get("title", ""), data.get("affiliation", "")
        )


class OpenLinkForm(forms.Form):
    """Staff create (or replace) a sign-on's open link."""

    accepts_requests = forms.BooleanField(
        label="Organizations outside the audience may ask to sign", required=False
    )


class DeclineForm(forms.Form):
    signer_name = forms.CharField(label="Your name", max_length=200, validators=[single_line])
    signer_email = forms.EmailField(label="Your email address", max_length=254)
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)
        self.fields["signer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["signer_email"].widget.attrs["autocomplete"] = "email"


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )


class OpenSignOnForm(forms.Form):
    """Staff open a sign-on on a letter revision approved for circulation."""

    approval = forms.ModelChoiceField(
        label="Approved revision",
        queryset=None,
        help_text="Only revisions approved for circulation, of letters without a sign-on.",
    )
    deadline = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the site's time zone.",
    )
    coalitions = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every tier of the chosen coalitions.",
    )
    organizations = forms.ModelMultipleChoiceField(
        label="Hand-picked organizations",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    message = forms.CharField(
        label="Message to invitees", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    auto_approve_authorized = forms.BooleanField(
        label="Approve known authorized signers automatically", required=False, initial=True
    )
    show_signatories = forms.BooleanField(
        label="Show signers who has signed so far", required=False
    )
    accepts_requests = forms.BooleanField(
        label="Create an open link: organizations outside the audience may ask to sign",
        required=False,
        help_text="Anyone with the link may ask; staff review every such signature. Where the "
        "letter accepts individuals, they sign through the same link.",
    )
    reminder_days = forms.CharField(
        label="Reminder schedule",
        initial="7, 2",
        required=False,
        max_length=100,
        help_text="Days before the deadline on which organizations that have not responded are "
        "reminded, separated by commas; empty for none.",
    )

    def clean_reminder_days(self) -> list[int]:
        from .models import validate_reminder_days

        parts = [part.strip() for part in self.cleaned_data["reminder_days"].split(",")]
        parts = [part for part in parts if part]
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValidationError("Give whole numbers of days before the deadline, such as “7, 2”.")
        days = [int(part) for part in parts]
        validate_reminder_days(days)
        return days

    def __init__(self, *args, **kwargs) -> None:
        from coalition.models import Coalition, Membership, Organization
        from letters.models import CirculationApproval

        from .models import SignOn

        super().__init__(*args, **kwargs)
        busy = SignOn.objects.exclude(status=SignOn.Status.CANCELLED).values("letter_id")
        self.fields["approval"].queryset = (
            CirculationApproval.objects.exclude(letter_id__in=busy)
            .select_related("letter", "revision")
            .order_by("-approved_at")
        )
        self.fields["approval"].label_from_instance = lambda a: (
            f"{a.letter.title}: revision of {a.revision.created_at:%Y-%m-%d %H:%M}, "
            f"approved {a.approved_at:%Y-%m-%d}"
        )
        self.fields["coalitions"].queryset = Coalition.objects.all()
        self.fields["tiers"].choices = Membership.Tier.choices
        self.fields["organizations"].queryset = Organization.objects.filter(
            status=Organization.Status.ACTIVE
        )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (emailed to the signer)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class ReconfirmForm(forms.Form):
    text_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RecirculateForm(forms.Form):
    """Staff circulate a newer approved revision of an open sign-on's letter."""

    approval = forms.ModelChoiceField(
        label="Revision",
        queryset=None,
        empty_label=None,
        help_text="Revisions of this letter approved for circulation, newer than the circulated one.",
    )
    change = forms.ChoiceField(
        label="Kind of change",
        choices=[
            ("minor", "Minor edit: the signatures stand"),
            ("material", "Material change: every signer sees the difference and must reconfirm"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note to signers",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text="Emailed with a material change.",
    )

    def __init__(self, *args, sign_on: "SignOn", **kwargs) -> None:
        from letters.models import CirculationApproval

        super().__init__(*args, **kwargs)
        self.fields["approval"].queryset = (
            CirculationApproval.objects.filter(
                letter_id=sign_on.letter_id,
                revision__created_at__gt=sign_on.revision.created_at,
            )
            .exclude(revision_id=sign_on.revision_id)
            .select_related("revision")
            .order_by("-revision__created_at")
        )
        self.fields["approval"].label_from_instance = lambda a: (
            f"Revision {a.revision_id} of {a.revision.created_at:%Y-%m-%d %H:%M}, "
            f"approved {a.approved_at:%Y-%m-%d}"
        )
