from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The machinery every app uses: the task worker and its heartbeat, the email outbox with its
    once-only deliveries, process supervision, security headers, second factors. It imports no
    app of the project."""

    name = "coalition.core"
    label = "core"
    verbose_name = "Machinery"

    def ready(self) -> None:
        from . import images

        images.connect()
