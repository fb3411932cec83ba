"""Writing the audit log. Called by service functions, never by views."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from arende.core import request_context
from arende.core.models import AuditEvent


def audit_value(value: Any) -> Any:
    """A JSON-friendly, human-readable form of a field value."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted(str(item) for item in value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: audit_value(getattr(instance, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if before.get(name) != after.get(name)
    }


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    verb: str = "",
    organisation_id: int | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event. ``organisation_id`` defaults to the object's own organisation."""
    context = request_context.current()
    if organisation_id is None and obj is not None:
        organisation_id = getattr(obj, "organisation_id", None)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_label=actor_label
        if actor_label is not None
        else (f"{actor} <{actor.email}>" if authenticated else "system"),
        action=action,
        verb=verb,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True)
        if obj is not None
        else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:300] if obj is not None else "",
        organisation_id=organisation_id,
        changes=changes or {},
        request_id=context.request_id,
        ip_address=context.ip_address,
    )


def history_of(obj: models.Model, *, limit: int = 200):
    """The audit events of one record, newest first."""
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
    ).select_related("actor")[:limit]
