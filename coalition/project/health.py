"""`/healthz`: whether this process can serve, for a load balancer or a service manager to ask.

It answers 200 when the database and the shared cache both answer, and 503 naming the one that
does not. It is cheap and changes nothing: no session, no template, one `SELECT 1` and one short
lived cache key. The pages' own cache (PAGE_CACHE_URL) is not asked: a page cache that is away
costs a render, never an error (letters/caching.py), so it is no reason to leave the rotation.
"""

import logging
import secrets

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Gone by itself should the process die between writing and reading it.
KEY_SECONDS = 10


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        # A warning, not an error: a balancer asks every few seconds, and the error reporter
        # (Sentry) would file each one.
        logger.warning("Health check: the database did not answer.", exc_info=True)
        return False


def cache_answers() -> bool:
    # A key of this request's own: servers asking at once do not read each other's value.
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=KEY_SECONDS)
        return bool(cache.get(key) == value)
    except Exception:
        logger.warning("Health check: the cache did not answer.", exc_info=True)
        return False


@csrf_exempt
@login_not_required
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the cache answer; 503, saying which did not, otherwise."""
    checks = {
        "database": "ok" if database_answers() else "unavailable",
        "cache": "ok" if cache_answers() else "unavailable",
    }
    healthy = all(state == "ok" for state in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
    if not healthy:
        # Logged above as a warning, with its cause: not again as an error for each probe.
        log_response("Unhealthy: %s", checks, response=response, request=request, level="debug")
    return response
