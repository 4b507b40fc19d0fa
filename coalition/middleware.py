from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class AdminContentSecurityPolicy:
    """The Wagtail admin runs inline scripts, so it goes without the site's strict policy.

    Listed after Django's CSP middleware, so that this runs first on the way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_config = {}  # an empty policy: Django adds no header
        return response
