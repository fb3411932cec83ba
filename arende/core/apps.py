from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "arende.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from arende.core import signals  # noqa: F401
        from arende.core.roles import sync_roles_after_migrate

        # Every app keeps its background jobs in jobs.py; registering them here means the web
        # process (which enqueues) and the worker (which runs) know the same jobs.
        autodiscover_modules("jobs")
        post_migrate.connect(sync_roles_after_migrate, sender=self)
