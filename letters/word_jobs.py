"""The Word import's records: a job reading a .docx into a letter, and the member organizations
it recognized among the letter's signatories (letters.word, letters.services)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class RecognizedMembers(models.Model):
    """The member organizations a Word import recognized among a draft letter's signatories:
    ticked in advance when staff open the letter's sign-on, however long after the import."""

    letter = models.OneToOneField(
        "letters.LetterPage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="recognized_members",
    )
    # Ids of coalition.Organization; one merged or gone since is left out when read.
    organization_ids = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "recognized members"

    def __str__(self) -> str:
        return f"{len(self.organization_ids)} member(s) recognized in letter {self.letter_id}"


class WordImportJob(models.Model):
    """A Word file becoming a letter: read in the background if long, and how far it has come;
    held while staff check where its signatory list begins, if they asked to."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for the task worker"
        READING = "reading", "Reading paragraphs"
        CHECKING = "checking", "Read: waiting for you to check where the signatories begin"
        WRITING = "writing", "Creating the draft letter"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.DONE, Status.FAILED)

    # Its address is shown to the staff member who started it: not a guessable number.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    # The upload until the job has read it: in a row every worker reaches, never in media,
    # emptied when the job ends and deleted with the row after a day (delete_stale_imports).
    document = models.BinaryField(default=b"", blank=True)
    index = models.ForeignKey(
        "letters.LetterIndexPage", null=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)
    # A finished letter imported with its signatories, or a draft.
    with_signatories = models.BooleanField(default=False)
    # What the boundary step shows (letters.word.reading_of), kept until staff confirm, and the
    # paragraph (from 0) where they said the signatory list begins; None: where it is recognized.
    reading = models.JSONField(default=dict, blank=True)
    boundary = models.PositiveIntegerField(null=True, blank=True)
    letter = models.ForeignKey(
        "letters.LetterPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: {self.get_status_display()}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
