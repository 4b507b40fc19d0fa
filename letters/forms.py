from django import forms
from django.core.files.uploadedfile import UploadedFile

from .word import MAX_PARAGRAPHS, MAX_UPLOAD_BYTES, WordImportError, open_document, paragraph_count


class WordImportForm(forms.Form):
    document = forms.FileField(
        label="Word document (.docx)",
        help_text=(
            f"A letter saved from Word as .docx, up to {MAX_UPLOAD_BYTES // 1_048_576} MB and "
            f"{MAX_PARAGRAPHS:,} paragraphs. It becomes a draft letter in the archive."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".docx,application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document"
            }
        ),
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
