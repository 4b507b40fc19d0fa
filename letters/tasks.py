"""Background jobs of the letters app (run by `manage.py db_worker --backend background`)."""

from django.tasks import task


@task(backend="background")
def prerender_letter_pdf(page_id: int) -> str:
    """Render a newly published letter's PDF before its first reader asks for it."""
    from .models import LetterPage
    from .pdf import stored_letter_pdf

    letter = LetterPage.objects.live().filter(pk=page_id).first()
    if letter is None:
        return "not live"
    if letter.publication is not None:
        return "published with a sign-on, which renders its own PDF"
    return f"{len(stored_letter_pdf(letter, letter.signatory_lines()))} bytes"
