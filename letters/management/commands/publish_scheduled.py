"""Wagtail's scheduled publishing, except for letters that only their sign-on may publish."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.management.commands.publish_scheduled import Command as WagtailCommand
from wagtail.models import Revision

from letters import publishing
from letters.models import LetterPage


class Command(WagtailCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        # A schedule on a letter out for sign-on is refused when it falls due, and the refusal
        # would stop the run there, holding back every page due after it, at every run: the
        # schedule is dropped first, with where the letter is published instead.
        due = Revision.objects.filter(
            approved_go_live_at__lt=timezone.now(),
            content_type=ContentType.objects.get_for_model(LetterPage),
        )
        for revision in due:
            letter = LetterPage.objects.filter(pk=revision.object_id).first()
            refused = publishing.refusal(letter) if letter is not None else None
            if letter is None or refused is None:
                continue
            self.stdout.write(f"Not publishing “{letter.title}” as scheduled: {refused.message}")
            if not options["dryrun"]:
                Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
        super().handle(*args, **options)
