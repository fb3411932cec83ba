"""Who may see and do what: roles granted per organisation, checked in one place.

A user's grants are read once per request (one query) and cached on the user object.
``scope_for`` tells which organisations a permission reaches; querysets use it through
``visible_to``; ``RoleBackend`` makes ``user.has_perm(perm, obj)`` respect the same scopes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import BaseBackend

_CACHE_ATTR = "_arende_grants"


@dataclass(frozen=True)
class Scope:
    all_organisations: bool
    organisation_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.all_organisations and not self.organisation_ids


NO_SCOPE = Scope(False, frozenset())


def grants_for(user: Any) -> dict[str, set[int | None]]:
    """Permission -> organisation ids it is held for (None: all organisations)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from arende.core.models import RoleAssignment

    grants: dict[str, set[int | None]] = defaultdict(set)
    it_staff = False
    if user.is_authenticated and user.is_active and user.pk:
        # One query gives both the grants and whether the person is IT staff (a role marked
        # so, held for all organisations): every page asks both.
        rows = RoleAssignment.objects.filter(user_id=user.pk).values_list(
            "organisation_id",
            "role__is_it_staff",
            "role__permissions__content_type__app_label",
            "role__permissions__codename",
        )
        for organisation_id, staff_role, app_label, codename in rows:
            it_staff = it_staff or (staff_role and organisation_id is None)
            if codename is not None:
                grants[f"{app_label}.{codename}"].add(organisation_id)
    if not hasattr(user, "_arende_is_it_staff"):
        user._arende_is_it_staff = it_staff
    setattr(user, _CACHE_ATTR, grants)
    return grants


def clear_cache(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
    for attr in ("_arende_is_it_staff", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


def scope_for(user: Any, perm: str) -> Scope:
    if not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    if user.is_superuser:
        return Scope(True, frozenset())
    held = grants_for(user).get(perm)
    if not held:
        return NO_SCOPE
    if None in held:
        return Scope(True, frozenset())
    return Scope(False, frozenset(org for org in held if org is not None))


def organisation_id_of(obj: Any) -> int | None:
    return getattr(obj, "organisation_id", None)


def has_scoped_perm(user: Any, perm: str, obj: Any = None) -> bool:
    scope = scope_for(user, perm)
    if scope.all_organisations:
        return True
    if obj is None:
        return bool(scope.organisation_ids)
    return organisation_id_of(obj) in scope.organisation_ids


def is_it_staff(user: Any) -> bool:
    """Holds an IT-staff role for all organisations: one of the IT unit's own people."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if getattr(user, "_arende_is_it_staff", None) is None:
        clear_cache(user)
        grants_for(user)  # reads it with the grants
    return bool(getattr(user, "_arende_is_it_staff", False))


class LoginBackend(AuthenticationBackend):
    """Logs people in (allauth's rules: by e-mail address) and grants nothing.

    Every permission comes from a role assignment, scoped to organisations (``RoleBackend``).
    Django's own per-user and per-group permissions would be a second way in that knows no
    organisation (and cost two queries on every page to look up), so they count for nothing;
    an active superuser still has every permission, as Django's User decides before asking.
    """

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return False

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return False


class RoleBackend(BaseBackend):
    """Permissions from role assignments, scoped to organisations.

    ``has_perm(perm)`` without an object asks "for some organisation"; with an object it asks
    for the object's organisation.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if obj is None:
            return set(grants_for(user_obj))
        return {perm for perm in grants_for(user_obj) if has_scoped_perm(user_obj, perm, obj)}

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        return has_scoped_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in grants_for(user_obj))
