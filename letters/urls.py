"""Admin URLs of the letters app, mounted under /admin/letters/ by wagtail_hooks."""

from django.urls import path

from . import views

app_name = "letters_admin"
urlpatterns = [
    path("import-word/", views.import_word, name="import_word"),
    path("import-word/<uuid:job_id>/", views.word_import, name="word_import"),
    path("<int:page_id>/archive-pdf/", views.archive_pdf, name="archive_pdf"),
    path("<int:page_id>/translation/", views.translation, name="translation"),
]
