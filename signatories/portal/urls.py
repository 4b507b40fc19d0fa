from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:slug>/", views.organization, name="organization"),
    path("<str:slug>/profile/", views.profile, name="profile"),
]
