from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "arende.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from arende.mail import receivers  # noqa: F401 - connects the signal receivers
        from arende.mail.defaults import sync_templates_after_migrate

        post_migrate.connect(sync_templates_after_migrate, sender=self)
