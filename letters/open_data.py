"""A published letter's open data, as its page offers it: the files to download, the feeds to
follow, and the widget other sites may frame.

The app that gathers signatures mounts them beside the letter; the LETTER_OPEN_DATA setting names
its function, which says where they are for a letter. The page links them, and the page cache
and a CDN drop them with the letter's page.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import LetterPage


@dataclass(frozen=True)
class DataLink:
    label: str
    path: str  # on this site, absolute from its root
    media_type: str


@dataclass(frozen=True)
class OpenData:
    downloads: list[DataLink] = field(default_factory=list)
    feeds: list[DataLink] = field(default_factory=list)
    # The widget: its address, and the height its iframe needs (it never scrolls).
    embed_path: str = ""
    embed_height: int = 0
    # Where a copy of a version's PDF is checked: this, then its SHA-256 and a slash.
    verify_path: str = ""
    # Each version's own verification page, which its PDF's QR code opens: "{version}" in it
    # stands for the version's number.
    verify_version_path: str = ""

    @property
    def paths(self) -> list[str]:
        """Every address of it, for the caches to drop."""
        links = [*self.downloads, *self.feeds]
        return [link.path for link in links] + ([self.embed_path] if self.embed_path else [])


def open_data_of(letter: "LetterPage") -> OpenData:
    """Where the letter's open data is; nothing where no app mounts it."""
    provider = getattr(settings, "LETTER_OPEN_DATA", "")
    if not provider:
        return OpenData()
    found: OpenData = import_string(provider)(letter)
    return found


@dataclass(frozen=True)
class ShareLink:
    label: str
    url: str


def share_links(url: str, title: str) -> list[ShareLink]:
    """Plain links that share the letter: no script or image of another site is loaded."""
    text = f"{title} {url}"
    return [
        ShareLink(
            "Email", f"mailto:?{urlencode({'subject': title, 'body': url}, quote_via=quote)}"
        ),
        ShareLink("Bluesky", f"https://bsky.app/intent/compose?{urlencode({'text': text})}"),
        ShareLink(
            "Mastodon", f"https://mastodonshare.com/?{urlencode({'text': title, 'url': url})}"
        ),
        ShareLink(
            "LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?{urlencode({'url': url})}"
        ),
        ShareLink(
            "Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': url})}"
        ),
        ShareLink("X", f"https://x.com/intent/post?{urlencode({'text': title, 'url': url})}"),
    ]
