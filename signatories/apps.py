from django.apps import AppConfig


def record_publication(sender: type, instance: object, revision: object, **kwargs: object) -> None:
    """A letter published through one of Wagtail's doors gets its frozen list and PDF."""
    from .services import record_publication as record

    record(letter=instance, revision=revision)  # type: ignore[arg-type]


class SignatoriesConfig(AppConfig):
    name = "signatories"
    verbose_name = "Sign-ons"

    def ready(self) -> None:
        from wagtail.signals import page_published

        from coalition import hooks
        from letters import publishing
        from letters.models import LetterPage

        from .crm import move_to_survivor, timeline_entries
        from .models import Invitation, Signature
        from .services import publication_gate

        publishing.register_gate(publication_gate)
        hooks.register_merge_participant((Invitation, Signature), move_to_survivor)
        hooks.register_timeline_source(timeline_entries)
        page_published.connect(
            record_publication, sender=LetterPage, dispatch_uid="signatories-record-publication"
        )
