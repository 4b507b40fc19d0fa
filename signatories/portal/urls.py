from django.urls import path

import coalition.core.converters  # noqa: F401  (registers unicode_slug)

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("<unicode_slug:slug>/", views.organization, name="organization"),
    path("<unicode_slug:slug>/profile/", views.profile, name="profile"),
]
