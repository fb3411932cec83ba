"""Organisations served by the IT unit and their departments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.models.scoping import ScopedQuerySet
from arende.core.validators import validate_org_number


class OrganisationQuerySet(ScopedQuerySet):
    scope_org_field = "pk"

    def own_q(self, user):
        return Q(pk=user.organisation_id) if user.organisation_id else Q(pk__in=[])


class Organisation(models.Model):
    """A municipality, a municipal company or a joint board that the IT unit serves."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        COMPANY = "company", _("Municipal company")
        JOINT_BOARD = "joint_board", _("Joint board")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    org_number = models.CharField(
        _("organisation number"),
        max_length=11,
        blank=True,
        validators=[validate_org_number],
        help_text=_("Empty for a joint board, which is part of its host's legal person."),
    )
    host = models.ForeignKey(
        "self",
        verbose_name=_("host organisation"),
        help_text=_("For a joint board: the municipality that hosts it (huvudman)."),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["org_number"],
                condition=~Q(org_number=""),
                name="organisation_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def organisation_id(self) -> int:
        return self.pk


class DepartmentQuerySet(ScopedQuerySet):
    scope_org_field = "organisation"

    def own_q(self, user):
        # Everyone may see the departments of their own organisation (to pick one in a form).
        if user.organisation_id:
            return Q(organisation_id=user.organisation_id)
        return Q(pk__in=[])


class Department(models.Model):
    """A förvaltning or unit of an organisation; departments form a tree."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=30, blank=True)
    manager = models.ForeignKey(
        "core.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_departments",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "parent", "name"], name="department_unique_name"
            ),
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(parent__isnull=True),
                name="department_unique_top_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Department]:
        """Parents from the root down; guards against a corrupt cycle."""
        chain: list[Department] = []
        seen = {self.pk}
        node = self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return list(reversed(chain))
