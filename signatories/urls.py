from django.urls import path

from . import views

app_name = "signatories"

urlpatterns = [
    path("s/<str:token>/", views.signature, name="signature"),
    path("open/<str:token>/", views.open_link, name="open_link"),
    path("press/<str:token>/", views.press_preview, name="press_preview"),
    path("press/<str:token>/pdf/", views.press_preview_pdf, name="press_preview_pdf"),
    path("open/<str:token>/thanks/", views.open_link_thanks, name="open_link_thanks"),
    path("draft/<str:token>/", views.draft, name="draft"),
    path("draft/<str:token>/<str:passage>/", views.draft_passage, name="draft_passage"),
    path("<str:token>/", views.sign, name="sign"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
]
