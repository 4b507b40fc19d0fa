from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP


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
            response._csp_config = {**settings.ADMIN_CSP, "frame-ancestors": [framing]}
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
