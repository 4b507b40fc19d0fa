from functools import partial

from django.apps import AppConfig
from django.db import transaction


def prerender_on_publish(sender: type, instance: object, **kwargs) -> None:
    from .tasks import prerender_letter_pdf

    transaction.on_commit(partial(prerender_letter_pdf.enqueue, instance.pk))


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters"

    def ready(self) -> None:
        from wagtail.signals import page_published

        from .models import LetterPage

        # Rendering a long letter takes seconds: do it in the worker, not for the first reader.
        page_published.connect(
            prerender_on_publish, sender=LetterPage, dispatch_uid="letters-prerender-pdf"
        )
