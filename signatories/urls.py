from django.urls import path

from . import views

app_name = "signatories"

urlpatterns = [
    path("withdraw/<str:token>/", views.withdraw_by_link, name="withdraw_by_link"),
    path("open/<str:token>/", views.open_link, name="open_link"),
    path("open/<str:token>/thanks/", views.open_link_thanks, name="open_link_thanks"),
    path("<str:token>/", views.sign, name="sign"),
    path("<str:token>/decline/", views.decline, name="decline"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
    path("<str:token>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:token>/reconfirm/", views.reconfirm, name="reconfirm"),
]
