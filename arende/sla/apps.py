from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "arende.sla"
    label = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from arende.servicedesk.signals import ticket_changed
        from arende.sla.receivers import on_configuration_changed, on_ticket_changed
        from arende.sla.selectors import CALENDARS

        ticket_changed.connect(on_ticket_changed, dispatch_uid="sla_clocks")
        for model in ("Calendar", "CalendarException", "SlaPolicy"):
            for signal in (post_save, post_delete):
                signal.connect(
                    on_configuration_changed,
                    sender=f"sla.{model}",
                    dispatch_uid=f"sla_recompute_{model}_{signal is post_save}",
                )
        for model in ("Calendar", "CalendarException"):
            for signal in (post_save, post_delete):
                signal.connect(
                    CALENDARS.forget,
                    sender=f"sla.{model}",
                    dispatch_uid=f"sla_calendars_shown_{model}_{signal is post_save}",
                )
