"""Roles: named sets of permissions, granted to a user for one organisation or for all."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from arende.core.models.scoping import ScopedQuerySet


class Role(models.Model):
    """A role from DESIGN.md §1 (requester, first-line agent, IT manager, ...)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    permissions = models.ManyToManyField(
        Permission, verbose_name=_("permissions"), blank=True, related_name="arende_roles"
    )
    is_it_staff = models.BooleanField(
        _("IT staff role"),
        default=False,
        help_text=_("Held by people who work in the IT unit (reviewed in privilege reviews)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        """The name in the reader's language: a built-in role's stored name is the English
        text of its definition, which the translation catalogue knows; a role an
        administrator named is shown as written."""
        # gettext("") would be the catalogue's header.
        return gettext(self.name) if self.name else ""


class RoleAssignmentQuerySet(ScopedQuerySet):
    scope_org_field = "user__organisation"

    def own_q(self, user):
        return Q(user_id=user.pk)

    def in_force(self) -> RoleAssignmentQuerySet:
        return self.filter(user__is_active=True)


class RoleAssignment(models.Model):
    """A user holds a role for one organisation, or (organisation empty) for all of them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="assignments"
    )
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation scope"),
        help_text=_("Empty means all organisations (the IT unit's own staff)."),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["user", "role"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation"], name="role_assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(organisation__isnull=True),
                name="role_assignment_unique_global",
            ),
        ]

    def __str__(self) -> str:
        scope = self.organisation or _("all organisations")
        return f"{self.user} – {self.role} ({scope})"
