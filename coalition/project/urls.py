from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.views import serve

from coalition.project import admin_doors
from coalition.project.health import healthz
from letters.models import LetterIndexPage

LOGIN_BY_CODE = "account_request_login_code"


def home(request: HttpRequest) -> HttpResponse:
    """The site's front door is the archive of published letters, once there is one."""
    archive = LetterIndexPage.objects.live().first()
    if archive is not None:
        return redirect(archive.url)
    return serve(request, "")


def no_shared_password(request: HttpRequest, **ids: int) -> HttpResponse:
    """Where Wagtail takes a page's or a document's shared password: nothing opens with one."""
    return TemplateResponse(request, "account/no_shared_password.html", status=403)


# Nobody signs in with a password, and nothing opens with one: Wagtail's doors that take one
# send to the code login, keeping where the reader was going, or refuse.
no_password_doors = [
    path("_util/login/", RedirectView.as_view(pattern_name=LOGIN_BY_CODE, query_string=True)),
    path(
        "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/",
        no_shared_password,
    ),
    path("documents/authenticate_with_password/<int:restriction_id>/", no_shared_password),
    path(
        "accounts/reauthenticate/",
        RedirectView.as_view(
            pattern_name="account_request_reauthentication_code", query_string=True
        ),
    ),
]

urlpatterns = [
    # For load balancers and service managers: no session, no redirect to https, never cached.
    path("healthz", healthz, name="healthz"),
    *no_password_doors,
    *admin_doors.urlpatterns,
    # Wagtail's own login form would bypass allauth (login by code, MFA): send it there.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    path("admin/", include(wagtailadmin_urls)),
    # Nobody has a password (staff sign in by emailed code): no page resets, changes or sets one.
    re_path(r"^accounts/password/", RedirectView.as_view(pattern_name=LOGIN_BY_CODE)),
    path("accounts/", include("allauth.urls")),
    path("documents/", include(wagtaildocs_urls)),
    path("sign/", include("signatories.urls")),
    path("portal/", include("signatories.portal.urls")),
    # The email provider's delivery reports (django-anymail's tracking webhooks).
    path("anymail/", include("signatories.webhooks")),
    path("", include("signatories.public_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", home, name="home"), path("", include(wagtail_urls))]
