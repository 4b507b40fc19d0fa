from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The Django project itself: its settings, URLs and the commands that serve it."""

    name = "coalition.project"
    label = "project"
    verbose_name = "Project"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the project's system checks)
