from typing import Any

from django.apps import AppConfig


def pages_changed(sender: type, **kwargs: Any) -> None:
    """A page went live or off, or the letterhead changed: every cached public page is stale."""
    from .caching import invalidate_public_pages
    from .models import LetterPage

    instance = kwargs.get("instance")
    invalidate_public_pages(letter=instance if isinstance(instance, LetterPage) else None)


def page_privacy_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """A view restriction was made, changed or removed (the admin's privacy dialog, or code), or
    a page moved: the pages it covers are cached as they were, public."""
    from wagtail.models import Page

    from .caching import privacy_changed

    privacy_changed(page_id=instance.pk if isinstance(instance, Page) else instance.page_id)


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import PageViewRestriction
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .models import Letterhead

        page_published.connect(pages_changed, dispatch_uid="letters-cache-published")
        page_unpublished.connect(pages_changed, dispatch_uid="letters-cache-unpublished")
        post_save.connect(pages_changed, sender=Letterhead, dispatch_uid="letters-cache-letterhead")
        # Which groups a restriction admits changes nothing for the anonymous readers whose
        # pages are cached: its making, type and removal do.
        for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(
                page_privacy_changed,
                sender=PageViewRestriction,
                dispatch_uid=f"letters-cache-restriction-{name}",
            )
        post_page_move.connect(page_privacy_changed, dispatch_uid="letters-cache-moved")
        # A letter in other languages (letters.translations).
        from wagtail.models import Locale
        from wagtail.signals import copy_for_translation_done

        from . import translations

        copy_for_translation_done.connect(
            translations.translated, dispatch_uid="letters-translation-pinned"
        )
        page_published.connect(
            translations.translation_published, dispatch_uid="letters-translation-pdf"
        )
        post_save.connect(
            translations.locale_added, sender=Locale, dispatch_uid="letters-locale-archives"
        )
