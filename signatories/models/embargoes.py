"""A letter published under embargo: held until a moment, previewed by the press meanwhile."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .sign_ons import SignOn


class Embargo(models.Model):
    """A closed sign-on's letter, to be published at `until` by the worker, exactly once.

    Until then the letter is not live (so out of the archive, its search and the feed); the press
    read it through previews of their own. Staff may move the moment or lift the embargo, which
    publishes the letter at once.
    """

    sign_on = models.OneToOneField(SignOn, on_delete=models.PROTECT, related_name="embargo")
    until = models.DateTimeField(help_text="When the letter is published.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set once, by whichever run published it (the worker at `until`, or staff lifting it).
    published_at = models.DateTimeField(null=True, blank=True)
    lifted_early = models.BooleanField(default=False)

    class Meta:
        verbose_name = "embargo"

    def __str__(self) -> str:
        return f"{self.sign_on.letter.title}, embargoed until {self.until:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.published_at is None


class PressPreview(models.Model):
    """One press contact's link to an embargoed letter: their own, expiring at the embargo."""

    embargo = models.ForeignKey(Embargo, on_delete=models.CASCADE, related_name="previews")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    outlet = models.CharField("publication or outlet", max_length=200, blank=True)
    token_nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["embargo", "email"], name="one_press_preview_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class PreviewAccess(models.Model):
    """Each time a press preview (its page or its PDF) was opened: who, when, from where."""

    preview = models.ForeignKey(PressPreview, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField(default=timezone.now)
    what = models.CharField(max_length=10)  # "page" or "pdf"
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.preview} opened the {self.what} at {self.at:%Y-%m-%d %H:%M}"
