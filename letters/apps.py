from typing import Any

from django.apps import AppConfig


def pages_changed(sender: type, **kwargs: Any) -> None:
    """A page went live or off, or the letterhead changed: every cached public page is stale."""
    from .caching import invalidate_public_pages
    from .models import LetterPage

    instance = kwargs.get("instance")
    invalidate_public_pages(letter=instance if isinstance(instance, LetterPage) else None)


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters"

    def ready(self) -> None:
        from django.db.models.signals import post_save
        from wagtail.signals import page_published, page_unpublished

        from .models import Letterhead

        page_published.connect(pages_changed, dispatch_uid="letters-cache-published")
        page_unpublished.connect(pages_changed, dispatch_uid="letters-cache-unpublished")
        post_save.connect(pages_changed, sender=Letterhead, dispatch_uid="letters-cache-letterhead")
