from django.apps import AppConfig


def record_publication(sender: type, instance: object, revision: object, **kwargs: object) -> None:
    """A letter published through one of Wagtail's doors gets its frozen list and PDF."""
    from wagtail.models import Revision

    from letters.models import LetterPage

    from .services import record_publication as record

    if isinstance(instance, LetterPage) and isinstance(revision, Revision):
        record(letter=instance, revision=revision)


def organization_changed(sender: type, created: bool = False, **kwargs: object) -> None:
    """An organization's name or page changed: the public pages that show it are stale.

    A new one is on no published letter yet (an import creates thousands): nothing to do.
    """
    from letters.caching import invalidate_public_pages

    if not created:
        invalidate_public_pages()


class SignatoriesConfig(AppConfig):
    name = "signatories"
    verbose_name = "Sign-ons"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.db.models.signals import post_save
        from wagtail.signals import page_published

        from coalition.crm.models import Organization
        from letters.models import LetterPage

        page_published.connect(
            record_publication, sender=LetterPage, dispatch_uid="signatories-record-publication"
        )
        post_save.connect(
            organization_changed, sender=Organization, dispatch_uid="signatories-cache-orgs"
        )
        # The email provider's reports on a letter's deliveries (signatories.webhooks).
        from .webhooks import record_tracking_event

        tracking.connect(record_tracking_event, dispatch_uid="signatories-delivery-tracking")
