from django.apps import AppConfig


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = "Coalition"

    def ready(self) -> None:
        from . import images

        images.connect()
