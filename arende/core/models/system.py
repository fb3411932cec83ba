"""State the system keeps about itself."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last run of a periodic job, so that a stopped worker is visible."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    last_run_at = models.DateTimeField(_("last run"))
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        permissions = [("view_systemstatus", _("Can view the system status"))]

    def __str__(self) -> str:
        return self.name
