from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicedeskConfig(AppConfig):
    name = "arende.servicedesk"
    label = "servicedesk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from arende.core import home
        from arende.servicedesk import choices
        from arende.servicedesk import home as desk_home

        choices.connect_signals()
        home.register(desk_home.desk_panel)
        home.register(desk_home.own_tickets_panel)
