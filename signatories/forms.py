import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from coalition.crm.models import Coalition, Contact, Membership, Organization
from letters.models import CirculationApproval

from .inputs import (
    LIMITS,
    Commenting,
    Declining,
    Forwarding,
    IndividualSigning,
    InvalidInput,
    OrganizationRequest,
    Signing,
    Withdrawing,
    staff_line,
    staff_text,
)
from .models import SignOn, validate_reminder_days


def text(
    label: str,
    name: str,
    *,
    required: bool = False,
    long: bool = False,
    help_text: str = "",
    autocomplete: str = "",
    kind: str = "text",
) -> forms.CharField:
    """A field that only carries the text: the typed input behind the form cleans it."""
    attrs: dict[str, Any] = {"maxlength": LIMITS[name]}
    if required:
        attrs["required"] = True
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if long:
        widget: forms.Widget = forms.Textarea(attrs={**attrs, "rows": 3})
    elif kind == "email":
        widget = forms.EmailInput(attrs=attrs)
    elif kind == "url":
        widget = forms.URLInput(attrs=attrs)
    else:
        widget = forms.TextInput(attrs=attrs)
    # strip=False and no length check: the typed input counts what is left once cleaned.
    return forms.CharField(
        label=label, required=False, strip=False, widget=widget, help_text=help_text
    )


def confirmation(label: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=label, required=False, widget=forms.CheckboxInput(attrs={"required": True})
    )


class SignerForm[Input](forms.Form):
    """A form whose input is cleaned once, by its typed input object, into `self.input`."""

    text_hash = forms.CharField(widget=forms.HiddenInput, required=False)
    # The translation the page showed, if the reader chose one (letters.translations).
    read_in = forms.CharField(widget=forms.HiddenInput, required=False)
    input: Input

    def build(self, data: Mapping[str, Any]) -> Input:
        raise NotImplementedError

    @property
    def text_hash_sent(self) -> str:
        """The hash of the text the page showed, which the service checks against the current."""
        return str(self.cleaned_data.get("text_hash") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            self.input = self.build(data)
        except InvalidInput as error:
            for name, message in error.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return data


class StaffForm(forms.Form):
    """A staff form whose texts are cleaned once, by inputs.staff_text (several lines) or
    staff_line (one), under the signer's LIMITS: its cleaned_data holds them typed."""

    # Each text field: whether it takes several lines, and what to say when it is empty ("" when
    # it may be).
    texts: dict[str, tuple[bool, str]] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, (multiline, required) in self.texts.items():
            clean = staff_text if multiline else staff_line
            try:
                data[name] = clean(data.get(name, ""), name=name, required=required)
            except InvalidInput as error:
                self.add_error(name, error.errors[name])
        return data


SAY_WHY = "Say why: it is kept in the letter's record."


class SignForm(SignerForm[Signing]):
    display_name = text(
        "Name as it will print on the letter",
        "display_name",
        required=True,
        help_text="Exactly as it should appear in the list of signatories.",
    )
    signer_name = text("Your name", "signer_name", required=True, autocomplete="name")
    signer_title = text("Your title", "signer_title", autocomplete="organization-title")
    authorized = confirmation("I am authorized to sign")
    comment = text("Comment to the coalition's staff", "comment", long=True)

    def __init__(self, *args: Any, organization_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_name = organization_name
        self.fields[
            "authorized"
        ].label = f"I am authorized to sign on behalf of {organization_name}"
        self.fields["display_name"].help_text = (
            "Exactly as it should appear in the list of signatories; usually "
            f"“{organization_name}”."
        )

    def build(self, data: Mapping[str, Any]) -> Signing:
        return Signing.clean(data, organization_name=self.organization_name)


class DeclineForm(SignerForm[Declining]):
    signer_name = text("Your name", "signer_name", required=True, autocomplete="name")
    reason = text("Reason", "reason", long=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)

    def build(self, data: Mapping[str, Any]) -> Declining:
        return Declining.clean(data)


class ForwardForm(SignerForm[Forwarding]):
    """Pass the request to a colleague who may sign."""

    name = text("Your colleague's name", "name", required=True)
    email = text("Your colleague's email address", "email", required=True, kind="email")
    note = text("A note to them", "note", long=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "forward")
        super().__init__(*args, **kwargs)

    def build(self, data: Mapping[str, Any]) -> Forwarding:
        return Forwarding.clean(data)


class WithdrawForm(SignerForm[Withdrawing]):
    reason = text("Reason", "reason", long=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "withdraw")
        super().__init__(*args, **kwargs)

    def build(self, data: Mapping[str, Any]) -> Withdrawing:
        return Withdrawing.clean(data)


class RequestToSignForm(SignerForm[OrganizationRequest]):
    """An organization that was not invited asks to sign, through the open link."""

    organization_name = text(
        "Organization name", "organization_name", required=True, autocomplete="organization"
    )
    acronym = text("Acronym", "acronym")
    website = text("Website", "website", kind="url", autocomplete="url")
    display_name = text(
        "Name as it will print on the letter",
        "display_name",
        required=True,
        help_text="Exactly as it should appear in the list of signatories.",
    )
    signer_name = text("Your name", "signer_name", required=True, autocomplete="name")
    signer_title = text(
        "Your title", "signer_title", required=True, autocomplete="organization-title"
    )
    signer_email = text(
        "Your email address",
        "signer_email",
        required=True,
        kind="email",
        autocomplete="email",
        help_text="We email you a link to confirm the request: nothing is sent to the "
        "coalition's staff until you do.",
    )
    authorized = confirmation("I am authorized to sign on behalf of this organization")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "org")
        super().__init__(*args, **kwargs)

    def build(self, data: Mapping[str, Any]) -> OrganizationRequest:
        return OrganizationRequest.clean(data)


class IndividualSignForm(SignerForm[IndividualSigning]):
    """A person signs in a personal capacity, through the open link."""

    person = text("Your name", "person", required=True, autocomplete="name")
    title = text("Your title", "title", autocomplete="organization-title")
    affiliation = text(
        "Affiliation, for identification",
        "affiliation",
        autocomplete="organization",
        help_text="Printed after your name for identification only; you sign for yourself.",
    )
    signer_email = text(
        "Your email address",
        "signer_email",
        required=True,
        kind="email",
        autocomplete="email",
        help_text="Not printed. We email you a link to confirm your signature; each person "
        "signs once.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "person")
        super().__init__(*args, **kwargs)

    def build(self, data: Mapping[str, Any]) -> IndividualSigning:
        return IndividualSigning.clean(data)


class OpenLinkForm(forms.Form):
    """Staff create (or replace) a sign-on's open link."""

    accepts_requests = forms.BooleanField(
        label="Organizations outside the audience may ask to sign", required=False
    )


class ApprovalField(forms.ModelChoiceField[CirculationApproval]):
    """A revision approved for circulation, named by its letter (or not, when the form names it)."""

    def __init__(self, *args: Any, with_letter: bool = True, **kwargs: Any) -> None:
        super().__init__(CirculationApproval.objects.none(), *args, **kwargs)
        self.with_letter = with_letter

    def label_from_instance(self, obj: CirculationApproval) -> str:
        revision = f"revision {obj.revision_id} of {obj.revision.created_at:%Y-%m-%d %H:%M}"
        approved = f"approved {obj.approved_at:%Y-%m-%d}"
        if self.with_letter:
            return f"{obj.letter.title}: {revision}, {approved}"
        return f"{revision.capitalize()}, {approved}"


class OpenSignOnForm(forms.Form):
    """Staff open a sign-on on a letter revision approved for circulation."""

    approval = ApprovalField(
        label="Approved revision",
        help_text="Only revisions approved for circulation, of letters without a sign-on.",
    )
    deadline = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the site's time zone.",
    )
    coalitions = forms.ModelMultipleChoiceField(
        queryset=Coalition.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.MultipleChoiceField(
        choices=Membership.Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every tier of the chosen coalitions.",
    )
    organizations = forms.ModelMultipleChoiceField(
        label="Hand-picked organizations",
        queryset=Organization.objects.filter(status=Organization.Status.ACTIVE),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    recipients = forms.ChoiceField(
        label="Who is invited at each organization",
        choices=SignOn.Recipients.choices,
        initial=SignOn.Recipients.SIGNERS,
        widget=forms.RadioSelect,
        help_text="Each person gets a link of their own; the organization answers once, and "
        "anyone invited may pass the request to a colleague.",
    )
    message = forms.CharField(
        label="Message to invitees", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    auto_approve_authorized = forms.BooleanField(
        label="Approve known authorized signers automatically", required=False, initial=True
    )
    auto_approve_individuals = forms.BooleanField(
        label="List individuals as soon as they confirm their address",
        required=False,
        help_text="For open letters at scale: staff review only the exceptions (a name that is "
        "an organization's, or a line that already stands). Otherwise staff approve each person.",
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
    goal_organizations = forms.IntegerField(
        label="Goal: organizations signed",
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text="“Publish when 25 organizations have signed”. Empty for no goal. The tracker "
        "and the signers' page show progress, and you are emailed once it is reached.",
    )
    goal_individuals = forms.IntegerField(
        label="Goal: individuals signed",
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text="For letters that accept individuals. With both goals, both must be reached.",
    )
    publish_at_goal = forms.BooleanField(
        label="When the goal is reached, close the sign-on and publish the letter by itself",
        required=False,
        help_text="Unticked, you are told and close and publish from the tracker yourself. "
        "Signatures still waiting for your review keep it from being published.",
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
        parts = [part.strip() for part in self.cleaned_data["reminder_days"].split(",")]
        parts = [part for part in parts if part]
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValidationError("Give whole numbers of days before the deadline, such as “7, 2”.")
        days = [int(part) for part in parts]
        validate_reminder_days(days)
        return days

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Evaluated per form: a letter that got a sign-on since is no longer offered.
        busy = SignOn.objects.exclude(status=SignOn.Status.CANCELLED).values("letter_id")
        approval = self.fields["approval"]
        assert isinstance(approval, forms.ModelChoiceField)
        approval.queryset = (
            CirculationApproval.objects.exclude(letter_id__in=busy)
            .select_related("letter", "revision")
            .order_by("-approved_at")
        )


class RejectForm(StaffForm):
    reason = text(
        "Reason (emailed to each signer whose address was confirmed)",
        "reason",
        required=True,
        long=True,
    )
    texts = {"reason": (True, "Give the reason for rejecting: it is emailed to the signer.")}


class ReconfirmForm(SignerForm[None]):
    """Nothing to type: the button, and the hash of the text the signer read."""

    def build(self, data: Mapping[str, Any]) -> None:
        return None


class CancelForm(StaffForm):
    reason = text("Why it is cancelled (kept in the sign-on's record)", "reason", long=True)
    texts = {"reason": (True, "")}


class RecirculateForm(StaffForm):
    """Staff circulate a newer approved revision of an open sign-on's letter."""

    approval = ApprovalField(
        with_letter=False,
        label="Revision",
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
    note = text("Note to signers", "note", long=True, help_text="Emailed with a material change.")
    texts = {"note": (True, "")}

    def __init__(self, *args: Any, sign_on: SignOn, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        approval = self.fields["approval"]
        assert isinstance(approval, forms.ModelChoiceField)
        approval.queryset = (
            CirculationApproval.objects.filter(
                letter_id=sign_on.letter_id,
                revision__created_at__gt=sign_on.revision.created_at,
            )
            .exclude(revision_id=sign_on.revision_id)
            .select_related("revision")
            .order_by("-revision__created_at")
        )


class AddSignatoryForm(StaffForm):
    """Staff add a signatory after the sign-on closed: one who signed by email, say."""

    organization = forms.ModelChoiceField(
        label="Organization",
        queryset=Organization.objects.filter(status=Organization.Status.ACTIVE),
        required=False,
        help_text="Leave empty for an individual signing in a personal capacity.",
    )
    display_name = text("Line as it prints", "display_name", required=True)
    signer_name = text("Signer's name", "signer_name")
    signer_title = text("Signer's title", "signer_title")
    group = text("Group heading", "group", help_text="E.g. “Individuals”.")
    reason = text("Why it is added (kept in the record)", "reason", required=True, long=True)
    texts = {
        "display_name": (False, "Give the line as it prints."),
        "signer_name": (False, ""),
        "signer_title": (False, ""),
        "group": (False, ""),
        "reason": (True, SAY_WHY),
    }


class RetractForm(StaffForm):
    reason = text("Why it is withdrawn (kept in the record)", "reason", required=True, long=True)
    texts = {"reason": (True, SAY_WHY)}


class CorrectionForm(StaffForm):
    note = text(
        "What the correction corrects (it prints on the letter)", "note", required=True, long=True
    )
    texts = {"note": (True, "Say what the correction corrects: it prints on the letter.")}
    with_latest_text = forms.BooleanField(
        label="Publish the latest saved revision of the text too (a typo fixed in the editor)",
        required=False,
    )


class DeadlineForm(forms.Form):
    """Staff extend an open sign-on's deadline or bring it forward."""

    deadline = forms.DateTimeField(
        label="New deadline",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, sign_on: SignOn, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sign_on = sign_on
        zone = timezone.get_current_timezone_name()
        self.fields["deadline"].help_text = f"In the coalition's time zone, {zone}."

    def clean_deadline(self) -> datetime.datetime:
        deadline: datetime.datetime = self.cleaned_data["deadline"]
        if deadline <= timezone.now():
            raise ValidationError("The deadline must be in the future, not in the past.")
        if deadline > timezone.now() + datetime.timedelta(days=730):
            raise ValidationError("The deadline must be within 730 days from now.")
        if deadline == self.sign_on.deadline:
            raise ValidationError("That is the deadline already: choose another.")
        return deadline


class ApproveForm(StaffForm):
    note = text(
        "How the signers who did not reconfirm agreed to the text as it stands (kept in the "
        "record and emailed to them)",
        "note",
        long=True,
        help_text="Needed only for a signature held for reconfirmation when the sign-on closed.",
    )
    texts = {"note": (True, "")}


class EmbargoForm(forms.Form):
    """When a letter under embargo is published, in the site's time zone."""

    until = forms.DateTimeField(
        label="Publish at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the site's time zone. The worker publishes the letter then: its page, its "
        "PDF without the mark, the feed and the emails.",
    )


class PressPreviewForm(forms.Form):
    """A press contact who reads the letter before its embargo ends, through their own link."""

    name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="Email", max_length=254)
    outlet = forms.CharField(label="Publication or outlet", max_length=200, required=False)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class CommentForm(SignerForm[Commenting]):
    """A reader's comment on one passage of a shared draft, with new wording or not.

    `text_hash` carries the passage as the page showed it (its SHA-256): the service refuses the
    comment where the passage has changed since.
    """

    comment = text("Your comment", "comment", long=True)
    suggestion = text(
        "Suggested wording",
        "suggestion",
        long=True,
        help_text="The whole passage as you would have it read, in plain text. "
        "Leave it empty to comment only.",
    )

    def __init__(self, *args: Any, passage: str, paragraphs: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passage = passage
        self.paragraphs = paragraphs
        if paragraphs:
            self.fields["suggestion"].help_text += " Leave a blank line between paragraphs."
        self.fields["suggestion"].widget.attrs["rows"] = 6

    def build(self, data: Mapping[str, Any]) -> Commenting:
        return Commenting.clean(data, passage=self.passage, paragraphs=self.paragraphs)


class ContactChoice(forms.ModelMultipleChoiceField[Contact]):
    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.organization.name}: {obj.name} <{obj.email}>"


class ShareDraftForm(StaffForm):
    contacts = ContactChoice(
        label="Member contacts",
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Each gets a link of their own by email. Contacts of active members with an "
        "address they take email at; those who have a link already are not listed.",
    )
    note = text("A note with the link", "note", long=True)
    texts = {"note": (True, "")}

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contacts"]
        assert isinstance(field, ContactChoice)
        field.queryset = contacts


class DecideCommentForm(StaffForm):
    note = text("A word to the reader", "note", long=True, help_text="Emailed with your decision.")
    texts = {"note": (True, "")}
