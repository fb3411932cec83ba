"""The access choke point: every queryset of user-visible data is scoped with visible_to()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from arende.core.models.users import User


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows which organisation each row belongs to.

    Subclasses set ``scope_org_field`` (the path to the organisation id) and may override
    ``own_q`` for rows a user always sees (their own record, their own tickets).
    ``scope_perm`` defaults to the model's Django view permission.
    """

    scope_org_field: str = "organisation"
    scope_perm: str | None = None

    def _scope_perm(self) -> str:
        meta = self.model._meta
        return self.scope_perm or f"{meta.app_label}.view_{meta.model_name}"

    def own_q(self, user: User) -> Q:
        return Q(pk__in=[])

    def visible_to(self, user: User) -> ScopedQuerySet:
        from arende.core.access import scope_for

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        scope = scope_for(user, self._scope_perm())
        if scope.all_organisations:
            return self.all()
        condition = self.own_q(user)
        if scope.organisation_ids:
            condition |= Q(**{f"{self.scope_org_field}__in": sorted(scope.organisation_ids)})
        return self.filter(condition)
