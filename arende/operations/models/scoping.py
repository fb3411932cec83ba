"""Scoping of operations records: they reach one or more organisations (a many-to-many).

A record is visible when at least one of its organisations is within the user's scope for the
model's view permission; the IT unit (scope over all organisations) sees everything. A subquery
on the link table, not a join, so no row is listed twice.
"""

from __future__ import annotations

from typing import Any

from arende.core.access import scope_for


class OrganisationsScoped:
    """Mixin for querysets of models with an ``organisations`` many-to-many."""

    scope_perm: str = ""

    def visible_to(self, user: Any):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        scope = scope_for(user, self.scope_perm)
        if scope.all_organisations:
            return self.all()
        if not scope.organisation_ids:
            return self.none()
        through = self.model.organisations.through
        own_field = f"{self.model._meta.model_name}_id"
        linked = through.objects.filter(organisation_id__in=sorted(scope.organisation_ids)).values(
            own_field
        )
        return self.filter(pk__in=linked)
