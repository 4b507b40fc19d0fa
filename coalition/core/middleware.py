import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.admin.utils import unquote as admin_unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.csp import CSP
from django.utils.datastructures import MultiValueDictKeyError


class AdminContentSecurityPolicy:
    """The Wagtail admin runs inline scripts and styles: it gets a policy of its own (ADMIN_CSP),
    which allows those but loads nothing from any other origin.

    Previews are the exception the other way: the editor's preview panel frames them from the
    admin's own origin, so they may be framed by the same origin (and no other).

    Listed after Django's CSP middleware, so that this runs first on the way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "is_preview", False):
            allow_same_origin_framing(response)
        elif request.path.startswith("/admin/"):
            # Framed only where Wagtail lets its own page be (the preview views say SAMEORIGIN,
            # for the panel's "preview not available" page): frame-ancestors would override it.
            framing = CSP.SELF if response.get("X-Frame-Options") == "SAMEORIGIN" else CSP.NONE
            # Read by Django's CSP middleware, as its csp_override decorator sets it.
            response._csp_config = {**settings.ADMIN_CSP, "frame-ancestors": [framing]}  # type: ignore[attr-defined]
        return response


def allow_same_origin_framing(response: HttpResponse) -> None:
    """The site's policy, except that pages of the same origin may frame the response.

    Wagtail serves a preview through the whole middleware chain a second time, on a stand-in
    request for the object's public URL on which it sets `is_preview` (and which no public request
    has). The policy set here travels out through the admin view that made the stand-in request:
    Django's CSP middleware keeps a header already on the response.
    """
    for attribute, default in (
        ("_csp_config", settings.SECURE_CSP),
        ("_csp_ro_config", settings.SECURE_CSP_REPORT_ONLY),
    ):
        policy = getattr(response, attribute, default)  # a view's own override, if it has one
        if policy and "frame-ancestors" in policy:
            setattr(response, attribute, {**policy, "frame-ancestors": [CSP.SELF]})
    response.headers["X-Frame-Options"] = "SAMEORIGIN"


# C0 and C1 controls and DEL: no slug, token or file name holds one, and PostgreSQL refuses NUL in
# any query ("A string literal cannot contain NUL (0x00) characters").
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# No slug (their columns hold 255), token or file name (the file systems' limit) is longer: a
# longer segment reaches a file system that answers "File name too long".
MAX_SEGMENT = 255
MAX_ID = 2**63 - 1  # the largest id a database column holds (a BigAutoField's)


class RefuseImpossiblePaths:
    """A path that no slug, token or file name can be answers 404 before any view reads it.

    Listed early, so that neither the page cache nor a view nor Wagtail's redirects look it up.
    A path parameter that a view looks up by a field it cannot be (the word "abc" as an id in
    Wagtail's choosers) answers 404 too, not 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if CONTROL_CHARACTERS.search(path) or any(
            len(segment) > MAX_SEGMENT for segment in path.split("/")
        ):
            raise Http404("No page has such an address.")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        match = request.resolver_match
        if match is None:
            return
        values = [*match.args, *match.kwargs.values()]
        if isinstance(exception, OverflowError) and any(
            isinstance(value, int) and abs(value) > MAX_ID for value in values
        ):
            # SQLite cannot even compare a number past 64 bits with an id.
            raise Http404("No object has such an address.")
        if not isinstance(exception, ValueError | ValidationError | TypeError):
            return
        refused = _value_a_field_refused(exception)
        if refused is _NOTHING:
            return
        parameters = [str(value) for value in values]
        if str(refused) in parameters or str(refused) in map(admin_unquote, parameters):
            raise Http404("No object has such an address.")


_NOTHING = object()


def _value_a_field_refused(exception: BaseException) -> object:
    """The value a model field could not take, when that is where the exception was raised."""
    refused = _NOTHING
    trace = exception.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name in ("get_prep_value", "to_python") and isinstance(
            frame.f_locals.get("self"), models.Field
        ):
            refused = frame.f_locals.get("value", _NOTHING)
        trace = trace.tb_next
    return refused


class IncompleteAdminForms:
    """A staff POST that lacks the fields Wagtail's forms count on answers 400 with a message.

    Wagtail reads the structure of a StreamField or list from fields it expects to be there
    ("body-count", "body-0-type"): without them the page editor and its preview (and any form
    with such a field) raised MultiValueDictKeyError, a 500. A browser sends them all, unless the
    form is sent before its page has loaded or by a tool that sends part of it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.method != "POST" or not request.path.startswith("/admin/"):
            return None
        field = _form_field_missing(exception)
        if field is None:
            return None
        return incomplete_form(request, field)


def incomplete_form(request: HttpRequest, field: str) -> HttpResponse:
    """400, naming the field a staff form arrived without; JSON for the editor's preview."""
    message = (
        f"The form arrived incomplete: its field “{field}” is missing or malformed, so "
        "nothing was saved. This happens when a form is sent before its page has finished "
        "loading, or by a tool that sends only part of it. Open the form again and repeat "
        "your change."
    )
    if request.path.endswith("/preview/"):
        # What the editor's preview panel reads: it shows the preview as unavailable.
        return JsonResponse(
            {"is_valid": False, "is_available": False, "error": message}, status=400
        )
    title = "The form arrived incomplete"
    return TemplateResponse(
        request,
        "coalition/form_incomplete.html",
        {"header_title": title, "page_title": title, "message": message, "back": request.path},
        status=400,
    )


def _form_field_missing(exception: BaseException) -> str | None:
    """The form field whose absence or form raised the exception, if that is what it is."""
    if isinstance(exception, MultiValueDictKeyError):
        return str(exception.args[0]) if exception.args else "?"
    if not isinstance(exception, KeyError | ValueError | IndexError | TypeError):
        return None
    trace = exception.__traceback__
    field = None
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name == "value_from_datadict":
            # A block or widget reading the posted data: its prefix or name is the field.
            field = frame.f_locals.get("prefix") or frame.f_locals.get("name") or field
        trace = trace.tb_next
    return str(field) if field is not None else None
