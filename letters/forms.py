from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .word import (
    MAX_PARAGRAPHS,
    MAX_UPLOAD_BYTES,
    Ending,
    WordImportError,
    open_document,
    paragraph_count,
)

DRAFT, FINISHED = "draft", "finished"


class WordImportForm(forms.Form):
    document = forms.FileField(
        label="Word document (.docx)",
        help_text=(
            f"A letter saved from Word as .docx, up to {MAX_UPLOAD_BYTES // 1_048_576} MB and "
            f"{MAX_PARAGRAPHS:,} paragraphs."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".docx,application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document"
            }
        ),
    )

    way = forms.ChoiceField(
        label="What the file is",
        choices=[
            (
                DRAFT,
                "A draft to circulate: the text becomes a draft letter; the signatories at its "
                "end are left out of the body and listed, to invite",
            ),
            (
                FINISHED,
                "A finished letter with its signatories: the letter and its signatures are "
                "created, ready to publish with its PDF and list",
            ),
        ],
        initial=DRAFT,
        # Left out, the file is a draft: the import as it always was.
        required=False,
        widget=forms.RadioSelect,
        help_text="The signatories are found at the end of the letter: typed one per line, in a "
        "list, a table or text columns, under headings such as “Organizations” and "
        "“Individuals” or not.",
    )

    check_end = forms.BooleanField(
        label="Show me where the signatories begin before importing",
        initial=True,
        # Left out, the file is imported at once, where the signatories are recognized.
        required=False,
        help_text="You see the end of the letter, which lines stay in the body and which are "
        "signatories, and can move where the list begins.",
    )

    #: How many paragraphs the valid upload has: long ones are read in the background.
    paragraphs = 0

    def clean_document(self) -> UploadedFile[bytes]:
        upload = self.cleaned_data["document"]
        try:
            self.paragraphs = paragraph_count(open_document(upload, name=upload.name))
        except WordImportError as error:
            raise forms.ValidationError(str(error), code="invalid_docx") from None
        upload.seek(0)
        return upload

    @property
    def finished(self) -> bool:
        return self.cleaned_data.get("way") == FINISHED


class WordBoundaryForm(forms.Form):
    """Where the signatory list of a Word letter begins: a line of its end, or no list."""

    line = forms.IntegerField(
        label="The signatory list begins at",
        widget=forms.Select,
        error_messages={"invalid": "Choose one of the lines shown.", "required": "Choose a line."},
    )

    def __init__(self, *args: Any, first: int, no_list: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The lines (from 1) where the list may begin; `no_list` is one past the last line.
        self.first, self.no_list = first, no_list

    def clean_line(self) -> int:
        line: int = self.cleaned_data["line"]
        if not self.first <= line <= self.no_list:
            raise forms.ValidationError(
                f"Line {line:,} is not in the letter after its opening: choose a line from "
                f"{self.first:,} to {self.no_list - 1:,}, or no signatory list.",
                code="outside",
            )
        return line

    def show(self, ending: Ending) -> None:
        """Offer the lines shown of the letter's end, and no list."""
        choices = [
            (row.number, f"line {row.number}: {_shortened(row.lines[0].text)}")
            for row in ending.rows
            if row.number >= self.first and row.lines
        ]
        choices.append((ending.no_list, "no signatory list: every line is body"))
        widget = self.fields["line"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = choices


def _shortened(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
