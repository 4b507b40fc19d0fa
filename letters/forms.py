from django import forms
from django.core.files.uploadedfile import UploadedFile

from .word import MAX_UPLOAD_BYTES, WordImportError, open_document


class WordImportForm(forms.Form):
    document = forms.FileField(
        label="Word document (.docx)",
        help_text=(
            f"A letter saved from Word as .docx, up to {MAX_UPLOAD_BYTES // 1_048_576} MB. "
            "It becomes a draft letter in the archive."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".docx,application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document"
            }
        ),
    )

    def clean_document(self) -> UploadedFile[bytes]:
        upload = self.cleaned_data["document"]
        try:
            open_document(upload, name=upload.name)
        except WordImportError as error:
            raise forms.ValidationError(str(error), code="invalid_docx") from None
        upload.seek(0)
        return upload
