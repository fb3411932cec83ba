"""Optimistic concurrency: an edit names the version it was made on, a stale one is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from arende.core.audit import audit_record, audit_value, diff, history_of, snapshot
from arende.core.errors import StaleEdit, ValidationFailed


def changes_since(instance: models.Model, version: int) -> dict[str, list[Any]]:
    """What the audit log says changed on ``instance`` after ``version``: field -> [then, now]."""
    changed: dict[str, list[Any]] = {}
    for event in reversed(list(history_of(instance, limit=100))):
        after = (event.changes.get("version") or [None, None])[1]
        if after is None or after <= version:
            continue
        for field, (old, new) in event.changes.items():
            if field == "version":
                continue
            if field in changed:
                changed[field][1] = new
            else:
                changed[field] = [old, new]
    return changed


def raise_validation(error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        field, messages = next(iter(error.message_dict.items()))
        raise ValidationFailed(messages[0], field=None if field == "__all__" else field) from None
    raise ValidationFailed(error.messages[0]) from None


def versioned_update(
    *,
    actor: Any,
    instance: models.Model,
    version: int,
    changes: dict[str, Any],
    allowed: Iterable[str],
    check: Callable[[models.Model], None] | None = None,
) -> models.Model:
    """Apply ``changes`` to ``instance`` if it is still at ``version``; audit what changed.

    The row is locked while it is compared and written, so two editors racing on one version
    cannot both win.
    """
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(_("This field cannot be changed here."), field=field)
    model = type(instance)
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=instance.pk)
        if current.version != version:
            raise StaleEdit(
                _(
                    "Someone else saved this record after you opened it. Nothing was saved. "
                    "Review the changes below and make your edit again."
                ),
                current_version=current.version,
                changed=changes_since(current, version),
            )
        before = snapshot(current, changes)
        for field, value in changes.items():
            setattr(current, field, value)
        try:
            current.full_clean()
        except ValidationError as error:
            raise_validation(error)
        if check is not None:
            check(current)
        after = snapshot(current, changes)
        delta = diff(before, after)
        if not delta:
            return current
        current.version = version + 1
        current.save()
        delta["version"] = [version, current.version]
        audit_record(actor=actor, action="update", obj=current, changes=delta)
    return current


def audited_create(*, actor: Any, instance: models.Model, fields: Iterable[str]) -> models.Model:
    """Validate, save and audit a new record."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise_validation(error)
    instance.save()
    values = {name: audit_value(getattr(instance, name)) for name in fields}
    audit_record(
        actor=actor,
        action="create",
        obj=instance,
        changes={name: [None, value] for name, value in values.items()},
    )
    return instance
