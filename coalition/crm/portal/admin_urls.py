from django.urls import path

from . import admin_views

app_name = "portal_admin"

urlpatterns = [
    path("", admin_views.proposals, name="proposals"),
    path("<int:pk>/", admin_views.review, name="review"),
]
