"""What the public pages beside the letters read: the published versions (`Publication`) of
live letters anybody may read, and the organizations whose pages are public."""

from django.db.models import QuerySet

from coalition.crm.models import Organization
from coalition.crm.selectors import is_member
from letters.models import LetterPage, Publication


def public_letters(root_path: str) -> QuerySet[LetterPage]:
    """Live letters below a site's home page (its url_path) that anybody may read."""
    return LetterPage.objects.live().public().filter(url_path__startswith=root_path)


def current_publication(root_path: str, slug: str) -> Publication | None:
    """The latest version of the live, public letter at /letters/<slug>/ of the site."""
    # The page Wagtail serves at that address (the root urlconf tries these routes first).
    url_path = f"{root_path}letters/{slug}/"
    return (
        Publication.objects.select_related("letter", "letter__locale")
        .filter(
            is_current=True,
            letter__in=LetterPage.objects.live().public().filter(url_path=url_path),
        )
        .first()
    )


def public_organization(slug: str) -> Organization | None:
    """A member organization whose page is public; none for a pending request, a record merged
    away, or one kept off these pages."""
    return (
        Organization.objects.filter(is_member(), slug=slug, public_page=True)
        .select_related("logo")
        .first()
    )


def current_versions_printing(organization: Organization, root_path: str) -> QuerySet[Publication]:
    """The current versions of the site's public letters whose frozen list prints the
    organization: the same fact the page, the PDF and the archive's filter read."""
    return (
        Publication.objects.select_related("letter")
        .defer("changes", "signatories", "letter__body")
        .filter(is_current=True, organizations=organization, letter__in=public_letters(root_path))
    )


def latest_versions(root_path: str, limit: int) -> QuerySet[Publication]:
    """Every published version of the site's public letters, newest first: publications and
    corrections."""
    return _versions(root_path)[:limit]


def _versions(root_path: str) -> QuerySet[Publication]:
    return (
        Publication.objects.select_related("letter")
        # The frozen lists can be long and the feed does not print them.
        .defer("signatories", "changes", "letter__body")
        .filter(letter__in=public_letters(root_path))
        .order_by("-published_at", "-pk")
    )


def versions_printing(
    organization: Organization, root_path: str, limit: int
) -> QuerySet[Publication]:
    """Every published version of the site's public letters whose frozen list prints the
    organization, newest first: its own feed."""
    return _versions(root_path).filter(organizations=organization)[:limit]


def version_with_digest(sha256: str) -> Publication | None:
    """The published version of a live, public letter whose PDF has this SHA-256."""
    return (
        Publication.objects.select_related("letter")
        .defer("signatories", "changes", "letter__body")
        .filter(pdf_sha256=sha256, letter__in=LetterPage.objects.live().public())
        .first()
    )


def versions_after(version: Publication) -> list[Publication]:
    """The letter's versions published after this one, oldest first: the first superseded it."""
    return list(
        Publication.objects.filter(letter_id=version.letter_id, version__gt=version.version)
        .defer("signatories", "changes")
        .order_by("version")
    )


def published_version(slug: str, version: int) -> Publication | None:
    """A version of the live, public letter with this slug."""
    return (
        Publication.objects.select_related("letter")
        .defer("signatories", "changes", "letter__body")
        .filter(version=version, letter__slug=slug, letter__in=LetterPage.objects.live().public())
        .first()
    )
