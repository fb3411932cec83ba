from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "arende.operations"
    label = "operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from arende.core import home
        from arende.operations import home as operations_home

        home.register(operations_home.operations_panel)
