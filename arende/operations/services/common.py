"""Helpers shared by the operations services: permission checks, row locks, audit values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from arende.core.access import scope_for
from arende.core.audit import audit_record, audit_value
from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.versioning import changes_since


def require_perm(actor: Any, perm: str, organisation_ids: Iterable[int], *, every: bool) -> None:
    """Refuse unless ``actor`` holds ``perm`` for the organisations (every one, or at least
    one). ``actor=None`` is the system (imports, jobs, the demo) and may do anything."""
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if scope.all_organisations:
        return
    ids = set(organisation_ids)
    allowed = (
        (ids and ids <= scope.organisation_ids) if every else bool(ids & scope.organisation_ids)
    )
    if not allowed:
        raise ValidationFailed(_("You may not do this."), code="forbidden")


def org_ids(instance: models.Model) -> list[int]:
    return list(instance.organisations.values_list("pk", flat=True))


def lock(instance: models.Model, version: int | None) -> models.Model:
    """Lock the row; refuse a stale edit when the caller names the version it saw."""
    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if version is not None and current.version != version:
        raise StaleEdit(
            _(
                "Someone else saved this record after you opened it. Nothing was saved. "
                "Review the changes below and make your edit again."
            ),
            current_version=current.version,
            changed=changes_since(current, version),
        )
    return current


def snap(instance: models.Model, *fields: str) -> dict[str, Any]:
    return {name: audit_value(getattr(instance, name)) for name in fields}


def delta(instance: models.Model, before: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [old, audit_value(getattr(instance, name))]
        for name, old in before.items()
        if old != audit_value(getattr(instance, name))
    }


def save_versioned(instance: Any, *, actor: Any, before: dict[str, Any], verb: str) -> Any:
    """Bump the version, save, and audit what changed since ``before`` (see ``snap``)."""
    instance.version += 1
    instance.save()
    changed = delta(instance, before)
    changed["version"] = [instance.version - 1, instance.version]
    audit_record(actor=actor, action="update", obj=instance, verb=verb, changes=changed)
    return instance


def m2m_names(items: Iterable[models.Model]) -> list[str]:
    return sorted(str(item) for item in items)
