"""The service catalogue: services, categories, request types and the priority matrix."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.Model):
    """A service the IT unit delivers (e-post, telefoni och växel, verksamhetssystem...)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_services",
    )
    default_group = models.ForeignKey(
        "servicedesk.SupportGroup",
        verbose_name=_("default group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_public = models.BooleanField(
        _("shown in the portal"),
        default=True,
        help_text=_("Requesters can pick it when they report something."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A category of tickets; categories form a tree (Hårdvara › Skrivare)."""

    name = models.CharField(_("name"), max_length=150)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="categories",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.parent} › {self.name}" if self.parent_id else self.name


class RequestType(models.Model):
    """Something a requester can order or report in the portal, with its own fields.

    ``fields`` is a list of ``{"name", "label", "type": text|textarea|choice|date|number,
    "required", "choices"}``. An approval step, when set, must pass before work starts.
    """

    class Approval(models.TextChoices):
        NONE = "none", _("No approval")
        ROLE = "role", _("A holder of a role")
        DEPARTMENT_MANAGER = "department_manager", _("The requester's department manager")

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="request_types"
    )
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("ticket kind"), max_length=20, default="request")
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fields = models.JSONField(_("fields"), default=list, blank=True)
    approval = models.CharField(
        _("approval"), max_length=30, choices=Approval.choices, default=Approval.NONE
    )
    approver_role = models.ForeignKey(
        "core.Role",
        verbose_name=_("approver role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["service__name", "name"]
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="request_type_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Impact(models.IntegerChoices):
    HIGH = 1, _("High – many users or a whole organisation")
    MEDIUM = 2, _("Medium – a group or a department")
    LOW = 3, _("Low – one person")


class Urgency(models.IntegerChoices):
    HIGH = 1, _("High – work has stopped")
    MEDIUM = 2, _("Medium – work is hampered")
    LOW = 3, _("Low – it can wait")


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("1 – Critical")
    HIGH = 2, _("2 – High")
    MEDIUM = 3, _("3 – Medium")
    LOW = 4, _("4 – Low")


class PriorityRule(models.Model):
    """One cell of the impact × urgency matrix. Missing cells fall back to the default matrix."""

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        verbose_name = _("priority rule")
        verbose_name_plural = _("priority matrix")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → {self.priority}"
