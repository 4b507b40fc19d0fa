from django import forms
from django.core.files.uploadedfile import UploadedFile

from .word import MAX_PARAGRAPHS, MAX_UPLOAD_BYTES, WordImportError, open_document, paragraph_count

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
