"""Wagtail admin views that answer 500 to a request their own pages never send, guarded so that
they answer 400 or 404 instead. Mounted before Wagtail's admin URLs (coalition/project/urls.py); each
guard lets a well-formed request through to Wagtail's view unchanged."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.chooser import ExternalLinkView
from wagtail.admin.views.pages.ordering import SetPagePositionView
from wagtail.contrib.redirects.views import process_import
from wagtail.models import Page

from coalition.core.middleware import incomplete_form

View = Callable[..., HttpResponse]


def requiring(*fields: str) -> Callable[[View], View]:
    """A POST without one of these fields answers 400 naming it, before the view reads it."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                for field in fields:
                    if not request.POST.get(field):
                        return incomplete_form(request, field)
            return view(request, *args, **kwargs)

        return guarded

    return decorator


def _not_the_root(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest, page_to_move_id: int) -> HttpResponse:
        # The root has no parent to take a position under: Wagtail's view fails on it.
        if Page.objects.filter(pk=page_to_move_id, depth=1).exists():
            raise Http404("The root of the page tree has no position to change.")
        return view(request, page_to_move_id)

    return guarded


def _error_test(request: HttpRequest) -> HttpResponse:
    """Wagtail's page that fails on purpose, to try error reporting: not a door of this site."""
    raise Http404


# Each behind the admin's own sign-in check, as Wagtail mounts its views.
urlpatterns: list[URLPattern] = [
    path("admin/failwhale/", _error_test),
    path(
        "admin/choose-external-link/",
        require_admin_access(requiring("external-link-chooser-url")(ExternalLinkView.as_view())),
    ),
    path(
        "admin/pages/<int:page_to_move_id>/set_position/",
        require_admin_access(_not_the_root(SetPagePositionView.as_view())),
    ),
    path(
        "admin/redirects/import/process/",
        require_admin_access(requiring("import_file_name", "input_format")(process_import)),
    ),
]
