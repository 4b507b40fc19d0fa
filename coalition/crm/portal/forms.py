from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from coalition.core.images import LOGO_MAX_SIDE, LOGO_MAX_UPLOAD_SIZE, clean_logo
from coalition.core.validators import validate_no_bidi_controls
from coalition.crm.models import Organization

from .services import ProfileChange


class ProfileProposalForm(forms.Form):
    """The organization's profile as it prints, to edit; what differs goes to staff to review."""

    # Names print on letters: held to the CRM's own rules, which approval copies them into.
    name = forms.CharField(max_length=255, validators=[validate_no_bidi_controls])
    acronym = forms.CharField(max_length=50, required=False, validators=[validate_no_bidi_controls])
    display = forms.CharField(
        label="Printed as",
        max_length=255,
        required=False,
        validators=[validate_no_bidi_controls],
        help_text="How it prints on letters, when not “Name (ACRONYM)”.",
    )
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")
    logo = forms.FileField(
        label="Logo",
        required=False,
        help_text=(
            f"A PNG, JPEG, GIF or WebP image of at most {LOGO_MAX_UPLOAD_SIZE // (1024 * 1024)} MB; "
            f"it is scaled down to {LOGO_MAX_SIDE} pixels on its longer side. No SVG."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    message = forms.CharField(
        label="Message to the secretariat",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                name: getattr(organization, name)
                for name in ("name", "acronym", "display", "website")
            },
        )
        super().__init__(*args, **kwargs)

    def clean_logo(self) -> UploadedFile[bytes] | None:
        upload = self.cleaned_data.get("logo")
        if not isinstance(upload, UploadedFile):
            return None
        return clean_logo(upload, label=str(self.fields["logo"].label))

    def change(self) -> ProfileChange:
        data = self.cleaned_data
        return ProfileChange(
            fields={name: data[name] for name in ("name", "acronym", "display", "website")},
            logo=data.get("logo"),
            message=data.get("message", ""),
        )


class ReviewForm(forms.Form):
    """Staff's decision on a proposal, with a note the contact reads."""

    note = forms.CharField(
        label="Note to the contact",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject: say why.",
    )
