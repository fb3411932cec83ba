"""Service desk: support groups (the first and second line). Tickets arrive with issue #3."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SupportGroup(models.Model):
    """A team that takes tickets: the service desk (first line) or a second-line team."""

    class Line(models.IntegerChoices):
        FIRST = 1, _("First line")
        SECOND = 2, _("Second line")

    name = models.CharField(_("name"), max_length=100, unique=True)
    line = models.PositiveSmallIntegerField(_("support line"), choices=Line.choices)
    email = models.EmailField(_("e-mail"), blank=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="support_groups",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["line", "name"]
        verbose_name = _("support group")
        verbose_name_plural = _("support groups")

    def __str__(self) -> str:
        return self.name
