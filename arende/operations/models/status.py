"""What the public status page lists: its services and the planned maintenance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.operations.models.scoping import OrganisationsScoped


class StatusPageService(models.Model):
    """A service shown on the public status page, under a name the public understands."""

    service = models.OneToOneField(
        "servicedesk.Service",
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        related_name="status_page",
    )
    public_name = models.CharField(_("public name"), max_length=150)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_listed = models.BooleanField(_("listed"), default=True)

    class Meta:
        ordering = ["position", "public_name"]
        verbose_name = _("status page service")
        verbose_name_plural = _("status page services")

    def __str__(self) -> str:
        return self.public_name


class PlannedMaintenanceQuerySet(OrganisationsScoped, models.QuerySet):
    scope_perm = "operations.view_plannedmaintenance"


class PlannedMaintenance(models.Model):
    """A planned service window: announced on the status page, counted apart from downtime."""

    title = models.CharField(_("title"), max_length=200)
    public_description = models.TextField(_("public description"), blank=True)
    internal_note = models.TextField(_("internal note"), blank=True)
    services = models.ManyToManyField(
        "servicedesk.Service", verbose_name=_("services"), related_name="maintenance_windows"
    )
    organisations = models.ManyToManyField(
        "core.Organisation", verbose_name=_("organisations"), related_name="maintenance_windows"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    is_public = models.BooleanField(_("shown on the status page"), default=True)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    change = models.ForeignKey(
        "operations.Change",
        verbose_name=_("change"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="maintenance_windows",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = PlannedMaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("planned maintenance")
        verbose_name_plural = _("planned maintenance")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title
