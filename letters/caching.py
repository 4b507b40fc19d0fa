"""Public pages cached whole, so that a letter shared widely costs a cache read per reader.

A published letter changes only when a version is published (a publication or a correction) or
its PDF is attached; the archive, the feeds and the organization pages change with it. Every
cached page is keyed under a generation number that each of those events moves on, so one write
makes every stale page unreachable at once; so does a change of a page's privacy (a view
restriction made, changed or removed), and a page under a view restriction is never stored. A
hit is answered before the session or the authentication middleware runs: it costs no database
query. Pages carry an ETag and Last-Modified, and a reader who has the page gets 304.

A page is keyed by its host, its path and the GET parameters its view reads (PAGE_PARAMETERS,
and a letter's page the page of its signatory list), in one order; the others are taken off the request before the view sees it, so a tracker's
`utm_source` or a random cache-buster is served the same stored page. Entries expire after
TIMEOUT, a page larger than MAX_ENTRY_BYTES is not stored, and the pages live in the "pages"
cache, which PAGE_CACHE_URL may put in a Redis of its own that evicts what it must (see the
README); the generation stays in the default cache beside the rate limits, which is never
evicted.

Each process also keeps the pages it served last in memory, and reads the shared generation at
most once a second: a hit then costs no round trip either, and another server's invalidation
reaches this one within a second.
"""

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date

from .open_data import open_data_of
from .signatory_list import PAGE_PARAMETER, SEARCH_PARAMETER
from .translations import translation_paths

if TYPE_CHECKING:
    from wagtail.models import Page

    from .models import LetterPage

logger = logging.getLogger(__name__)

GENERATION_KEY = "public-pages:generation"
# Paths whose pages are the same for every anonymous reader. Signer pages (/sign/) are personal.
PUBLIC_PREFIXES = ("/letters/", "/organizations/")
# The GET parameters each public address reads, by path. A page is rendered and stored from these
# alone: any other (a tracker's utm_source, a cache-buster) is taken off the request, so it
# reaches neither the view nor the key. Every public address not named here reads none.
PAGE_PARAMETERS: dict[str, tuple[str, ...]] = {
    # The archive, a LetterIndexPage: its search, filters and page (letters/archive.py).
    "/letters/": ("coalition", "organization", "page", "q", "recipient", "year"),
}
# A letter's page, and its translations' (in/<language>/): the page of its signatory list and
# the search in it (letters/signatory_list.py).
LETTER_PAGE = re.compile(r"/letters/[^/]+/(?:in/[^/]+/)?")
LETTER_PAGE_PARAMETERS = (PAGE_PARAMETER, SEARCH_PARAMETER)
# A page asked for with any of these is rendered afresh and not stored: searches are endless.
SEARCH_PARAMETERS = frozenset({"q", SEARCH_PARAMETER})
# The page of a signatory list: what is no number is page 1 to the view, so the same stored
# page here, not one more to render and keep for each random value.
NUMBER_PARAMETERS = frozenset({PAGE_PARAMETER})
# The Django cache holding the pages (settings.CACHES): PAGE_CACHE_URL, or CACHE_URL's Redis.
PAGE_CACHE = "pages"
# The generation moves on at every change anyway: this only frees what nobody asks for.
TIMEOUT = 10 * 60
# About a letter of 10,000 signatories: a page larger than this is rendered each time.
MAX_ENTRY_BYTES = 2 * 1024 * 1024
CSP_ATTRIBUTES = ("_csp_config", "_csp_ro_config")
# Headers a cached page keeps; the CSP header is added on the way out by the middleware above.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Disposition",
    "Cache-Control",
    "X-Frame-Options",
    "Content-Security-Policy",
    "Vary",
    "Link",
)


class _Local:
    """This process's copy: the shared generation as last read, and the pages served last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.read_at = 0.0
        self.pages: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.size = 0

    def forget(self) -> None:
        with self.lock:
            self.generation, self.read_at = 0, 0.0
            self.pages.clear()
            self.size = 0

    def advance(self, generation: int, read_at: float) -> None:
        """The shared generation as just read: the pages of an older one can go at once."""
        with self.lock:
            if generation != self.generation:
                self.pages.clear()
                self.size = 0
            self.generation, self.read_at = generation, read_at

    def get(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            stored = self.pages.get(key)
            if stored is not None:
                self.pages.move_to_end(key)
            return stored

    def put(self, key: str, stored: dict[str, Any]) -> None:
        size = len(stored.get("content", b""))
        if size > LOCAL_BYTES // 8:
            return  # a page this large stays in the shared cache only
        with self.lock:
            if key not in self.pages:
                self.pages[key] = stored
                self.size += size
            while self.size > LOCAL_BYTES or len(self.pages) > LOCAL_PAGES:
                _, dropped = self.pages.popitem(last=False)
                self.size -= len(dropped.get("content", b""))


LOCAL = _Local()
LOCAL_PAGES = 512
LOCAL_BYTES = 64 * 1024 * 1024
# How long a process trusts its copy of the generation: another server's change shows by then.
GENERATION_TTL = 1.0


def generation() -> int:
    now = time.monotonic()
    if LOCAL.generation and now - LOCAL.read_at < GENERATION_TTL:
        return LOCAL.generation
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    LOCAL.advance(int(value), now)
    return LOCAL.generation


def page_cache() -> BaseCache:
    """Where the pages are stored: a cache that may evict them (never the rate limits)."""
    return caches[PAGE_CACHE] if PAGE_CACHE in settings.CACHES else cache


def invalidate_public_pages(*, letter: "LetterPage | None" = None) -> None:
    """Make every cached public page stale, once the change that calls for it is committed.

    Given the letter that changed, a CDN in front of the site (WAGTAILFRONTENDCACHE) is told to
    drop that letter's addresses, the archive and the feed as well.
    """
    transaction.on_commit(_next_generation)
    if letter is not None and settings.WAGTAILFRONTENDCACHE:
        transaction.on_commit(partial(purge_from_frontend_cache, letter.pk))


def privacy_changed(*, page_id: int) -> None:
    """A page's view restriction was made, changed or removed, or the page moved (under another
    one's, perhaps): every cached page is stale once that is committed, and a CDN in front of
    the site drops the addresses of the page and of every letter below it."""
    transaction.on_commit(_next_generation)
    if settings.WAGTAILFRONTENDCACHE:
        transaction.on_commit(partial(purge_from_frontend_cache, page_id))


def letter_public_urls(page: "LetterPage") -> list[str]:
    """Every public address that shows the letter, absolute on SITE_URL (the CDN's address)."""
    parts = page.get_url_parts()
    if parts is None:
        return []  # not routable: nothing public to drop
    page_path = parts[2]
    versions = page.publications.values_list("version", flat=True)
    paths = [page_path, f"{page_path}pdf/", *(f"{page_path}pdf/v{v}/" for v in versions)]
    archive = page.get_parent()
    archive_parts = archive.get_url_parts() if archive is not None else None
    if archive_parts is not None:
        paths.append(archive_parts[2])
    # The letter's open data, mounted beside it by another app (the LETTER_OPEN_DATA setting).
    paths += open_data_of(page).paths
    # Its translations print its list and versions: their pages and PDFs change with it.
    paths += translation_paths(page)
    return [settings.SITE_URL + path for path in dict.fromkeys(paths)]


def public_urls_below(page: "Page") -> list[str]:
    """The addresses of a page and of every letter at or below it, with their PDFs and data,
    the archive and the feed, absolute on SITE_URL."""
    from .models import LetterPage

    parts = page.get_url_parts()
    urls = [settings.SITE_URL + parts[2]] if parts is not None else []
    for letter in LetterPage.objects.descendant_of(page, inclusive=True):
        urls.extend(letter_public_urls(letter))
    return list(dict.fromkeys(urls))


def purge_from_frontend_cache(page_id: int) -> None:
    """Ask the CDN to drop a page and the letters below it (a letter: its own addresses)."""
    from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    urls = public_urls_below(page) if page is not None else []
    if urls:
        # In the worker: a slow or unreachable CDN API must not hold the publisher's request.
        purge_urls_from_cache_task.using(backend="background").enqueue(urls)


def _next_generation() -> None:
    try:
        value = cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: the first read starts one
        cache.add(GENERATION_KEY, 2, timeout=None)
        value = 2
    # This process sees its own change at once.
    LOCAL.advance(int(value), time.monotonic())


def parameters_of(path: str) -> tuple[str, ...]:
    """The GET parameters the public page at this path reads."""
    if path in PAGE_PARAMETERS:
        return PAGE_PARAMETERS[path]
    return LETTER_PAGE_PARAMETERS if LETTER_PAGE.fullmatch(path) else ()


def canonical_query(request: HttpRequest) -> QueryDict:
    """The parameters the page at this path reads, in one order, each as its view reads it (the
    last value given, without surrounding spaces); blank ones are dropped, as the view ignores
    them, and so is a list's page number that is no number (page 1, to the view)."""
    query = QueryDict(mutable=True)
    for name in sorted(parameters_of(request.path)):
        value = request.GET.get(name, "").strip()
        if name in NUMBER_PARAMETERS:
            value = value.lstrip("0") if value.isascii() and value.isdigit() else ""
        if value:
            query[name] = value
    return query


def _key(request: HttpRequest, query: QueryDict) -> str:
    address = hashlib.sha256(f"{request.path}?{query.urlencode()}".encode()).hexdigest()
    return f"public-pages:{generation()}:{request.get_host()}:{address}"


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.path.startswith(PUBLIC_PREFIXES)
        # A visitor with a session may be staff (the userbar, drafts): served fresh.
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _as_read(request: HttpRequest, query: QueryDict) -> None:
    """The request as its view will see it: with the parameters it reads, and no others."""
    query_string = query.urlencode()
    request.GET = QueryDict(query_string)
    request.META["QUERY_STRING"] = query_string


def under_view_restriction(path: str) -> bool:
    """Whether a page at `path` or above it is private (a view restriction of any kind), on any
    site: the page and everything served below its address (open data, the feed)."""
    from wagtail.models import PageViewRestriction, Site

    restricted = PageViewRestriction.objects.values_list("page__url_path", flat=True)
    roots = [root.root_path for root in Site.get_site_root_paths()]
    for url_path in restricted:
        for root in roots:
            if url_path.startswith(root) and path.startswith("/" + url_path[len(root) :]):
                return True
    return False


def _private(request: HttpRequest) -> bool:
    """Whether what was just served is under a view restriction, so never to be stored."""
    match = request.resolver_match
    if match is not None and match.url_name == "wagtail_serve":
        # Wagtail served a page or its PDF: it answers a reader of a private one with a redirect
        # to sign in, or a password form marked no-store, and the miss costs no query more.
        return False
    return under_view_restriction(request.path)


def _store(key: str, stored: dict[str, Any]) -> None:
    """Keep a page; a cache that refuses it (full, or away) costs a render, never an error."""
    try:
        page_cache().set(key, stored, timeout=TIMEOUT)
    except Exception:
        logger.warning("The page cache refused %s.", key, exc_info=True)
        return
    LOCAL.put(key, stored)


def _stored(key: str) -> dict[str, Any] | None:
    stored: dict[str, Any] | None = LOCAL.get(key)
    if stored is not None:
        return stored
    try:
        stored = page_cache().get(key)
    except Exception:
        logger.warning("The page cache could not be read.", exc_info=True)
        return None
    if stored is not None:
        LOCAL.put(key, stored)
    return stored


class StoredFileResponse(FileResponse):
    """A file of the default storage, streamed; the page cache keeps where it is and its
    headers, not its bytes, and a hit streams it from storage again."""

    def __init__(self, name: str, headers: dict[str, str]) -> None:
        super().__init__(default_storage.open(name, "rb"))
        self.stored_file = {"name": name, "headers": headers}


def serve_stored_file(
    request: HttpRequest,
    *,
    name: str,
    etag: str,
    content_type: str,
    filename: str,
    immutable: bool,
) -> HttpResponseBase:
    """A file from storage, streamed with its length, ETag and caching; 304 if the reader has it.

    A versioned address never changes its bytes, so readers and CDNs may keep it for a year;
    the address of the latest version is asked again after a few minutes.
    """
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "public, max-age=31536000, immutable"
        if immutable
        else "public, max-age=300, must-revalidate",
        "ETag": etag,
    }
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        for header in ("ETag", "Cache-Control"):
            not_modified[header] = headers[header]
        return not_modified
    response = StoredFileResponse(name, headers)
    for header, value in headers.items():
        response[header] = value
    return response


def _cacheable_response(response: HttpResponseBase) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and (not response.streaming or isinstance(response, StoredFileResponse))
        and not response.cookies
        and "private" not in cache_control
        and "no-store" not in cache_control
        and "no-cache" not in cache_control
    )


def _serve_file_entry(request: HttpRequest, stored: dict[str, Any]) -> HttpResponseBase:
    entry = stored["file"]
    headers = entry["headers"]
    not_modified = get_conditional_response(request, etag=headers["ETag"])
    if not_modified is not None:
        not_modified["ETag"] = headers["ETag"]
        not_modified["Cache-Control"] = headers["Cache-Control"]
        return not_modified
    response = StoredFileResponse(entry["name"], headers)
    for header, value in headers.items():
        response[header] = value
    return response


class PublicPageCacheMiddleware:
    """Answer public pages from the cache; store each one the first time it is rendered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not _cacheable_request(request):
            return self.get_response(request)
        query = canonical_query(request)
        if SEARCH_PARAMETERS.intersection(query):
            return self.get_response(request)
        _as_read(request, query)
        key = _key(request, query)
        stored = _stored(key)
        if stored is not None and "file" in stored:
            return _serve_file_entry(request, stored)
        if stored is None:
            response = self.get_response(request)
            if not _cacheable_response(response) or _private(request):
                return response
            if isinstance(response, StoredFileResponse):
                _store(key, {"file": response.stored_file})
                return response
            assert isinstance(response, HttpResponse)  # others stream: not cacheable
            if len(response.content) > MAX_ENTRY_BYTES:
                return response
            stored = {
                "content": response.content,
                "status": response.status_code,
                "headers": {h: response[h] for h in KEPT_HEADERS if response.has_header(h)},
                # A view's own policy (the embeddable widget may be framed) outlives the cache.
                "csp": {a: getattr(response, a) for a in CSP_ATTRIBUTES if hasattr(response, a)},
                "etag": f'"{hashlib.sha256(response.content).hexdigest()[:32]}"',
                "last_modified": http_date(),
            }
            _store(key, stored)
        return self._answer(request, stored)

    def _answer(self, request: HttpRequest, stored: dict[str, Any]) -> HttpResponseBase:
        not_modified = get_conditional_response(
            request, etag=stored["etag"], last_modified=parse_http_date(stored["last_modified"])
        )
        if not_modified is not None:
            not_modified["ETag"] = stored["etag"]
            return not_modified
        response = HttpResponse(stored["content"], status=stored["status"])
        for name, value in stored["headers"].items():
            response[name] = value
        for attribute, value in stored.get("csp", {}).items():
            setattr(response, attribute, value)
        response["ETag"] = stored["etag"]
        response["Last-Modified"] = stored["last_modified"]
        # Readers' caches may keep a page a little, and must ask again after: corrections show.
        response.setdefault("Cache-Control", "public, max-age=60, must-revalidate")
        if request.method == "HEAD":
            response.content = b""
        return response
