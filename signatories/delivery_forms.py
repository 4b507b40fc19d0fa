"""Staff forms for what follows publication: recipients, sending the letter, a delivery by hand,
an answer and reminders. Each error names its field (the templates print the label before it)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from coalition.core.validators import validate_no_bidi_controls

from .answer_files import ACCEPT, CheckedFile, check_upload
from .models import LetterDelivery, Recipient

MAX_COVER = 5_000
MAX_ANSWER = 20_000


def _line(label: str, max_length: int = 255, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, validators=[validate_no_bidi_controls], **kwargs
    )


class NewRecipientForm(forms.Form):
    """Someone the CRM does not know yet, added to it and to the letter's recipients at once."""

    name = _line("Name")
    email = forms.EmailField(label="Email", max_length=254)
    title = _line("Title", required=False, help_text="E.g. “Minister for Trade”.")
    office = _line("Office", help_text="The ministry, agency or office: found in the CRM or added.")


class RecipientsChoice(forms.ModelMultipleChoiceField[Recipient]):
    def label_from_instance(self, obj: Any) -> str:
        contact = obj.contact
        return f"{contact.name} ({contact.organization.name}) <{contact.email}>"


class SendForm(forms.Form):
    """The letter's email to its recipients: the cover message, the PDF attached or linked."""

    recipients = RecipientsChoice(
        label="Recipients",
        queryset=Recipient.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one recipient to send the letter to."},
    )
    cover_message = forms.CharField(
        label="Cover message",
        max_length=MAX_COVER,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Printed above the link to the letter.",
    )
    pdf_attached = forms.BooleanField(
        label="Attach the PDF (otherwise the email links it)", required=False, initial=True
    )

    def __init__(self, *args: Any, recipients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipients"]
        assert isinstance(field, RecipientsChoice)
        field.queryset = recipients


class RecipientChoice(forms.ModelChoiceField[Recipient]):
    def label_from_instance(self, obj: Recipient) -> str:
        return f"{obj.contact.name} ({obj.contact.organization.name})"


class RecipientFileForm(forms.Form):
    """A form about one of the letter's recipients, dated, with a file checked by its bytes."""

    def __init__(self, *args: Any, recipients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = recipients
        self.checked_file: CheckedFile | None = None

    def checked_upload(self, name: str) -> object:
        upload = self.cleaned_data.get(name)
        if isinstance(upload, UploadedFile):
            self.checked_file = check_upload(upload)
        return upload

    def not_after_today(self, name: str, message: str) -> object:
        value = self.cleaned_data[name]
        if value > timezone.localdate():
            raise ValidationError(message)
        return value


class HandDeliveryForm(RecipientFileForm):
    """A delivery by post, fax or in person, with its date and a scan."""

    recipient = RecipientChoice(label="Recipient", queryset=Recipient.objects.none())
    method = forms.ChoiceField(
        label="How",
        choices=[c for c in LetterDelivery.Method.choices if c[0] != LetterDelivery.Method.EMAIL],
    )
    delivered_on = forms.DateField(
        label="Delivered on", widget=forms.DateInput(attrs={"type": "date"})
    )
    scan = forms.FileField(
        label="Scan",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="A receipt, the stamped copy, a photo: a PDF, an image or a .docx, at most "
        "10 MB.",
    )
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=forms.Textarea)

    def clean_scan(self) -> object:
        return self.checked_upload("scan")

    def clean_delivered_on(self) -> object:
        return self.not_after_today("delivered_on", "A delivery cannot be in the future.")


class AnswerForm(RecipientFileForm):
    """A recipient's answer: its text, or the file it came as, and when it came."""

    recipient = RecipientChoice(label="From", queryset=Recipient.objects.none())
    received_on = forms.DateField(
        label="Received on", widget=forms.DateInput(attrs={"type": "date"})
    )
    text = forms.CharField(
        label="Text of the answer",
        max_length=MAX_ANSWER,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    file = forms.FileField(
        label="File",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="The answer as received: a PDF, an image or a .docx, at most 10 MB. It is "
        "offered as a download, never shown as a web page.",
    )

    def clean_file(self) -> object:
        return self.checked_upload("file")

    def clean_received_on(self) -> object:
        return self.not_after_today("received_on", "An answer cannot come from the future.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        empty = not (data.get("text") or "").strip() and not self.files.get(self.add_prefix("file"))
        if empty and "text" not in self.errors and "file" not in self.errors:
            self.add_error("text", "Give the answer's text, or upload the answer as a file.")
        return data


class ReminderForm(forms.Form):
    """Which recipients who have not answered to remind, after how many days."""

    days = forms.IntegerField(label="Not answered after (days)", min_value=1, max_value=365)
