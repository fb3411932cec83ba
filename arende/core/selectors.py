"""Reads of core data that are more than a filter."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from arende.core import jobs
from arende.core.models import Heartbeat, RoleAssignment, User


def users_for_directory(viewer: User):
    return (
        User.objects.visible_to(viewer)
        .select_related("organisation", "department")
        .order_by("last_name", "first_name", "pk")
    )


def role_assignments_of(user: User, viewer: User):
    return (
        RoleAssignment.objects.visible_to(viewer)
        .filter(user=user)
        .select_related("role", "organisation")
        .order_by("role__name")
    )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SystemHealth:
    checks: tuple[Check, ...]
    heartbeat_at: datetime.datetime | None
    heartbeat_runs: int
    heartbeat_fresh: bool
    queue_backend: str
    queue_pending: int | None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "error",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
            "heartbeat": {
                "last_run_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None,
                "fresh": self.heartbeat_fresh,
                "runs": self.heartbeat_runs,
            },
            "queue": {"backend": self.queue_backend, "pending": self.queue_pending},
        }


def system_health() -> SystemHealth:
    """Database and job-queue checks; the heartbeat tells whether a worker is running."""
    checks = []
    heartbeat = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        heartbeat = Heartbeat.objects.filter(name="heartbeat").first()
        checks.append(Check("database", True, connection.vendor))
    except Exception as exc:  # the health check must report, not raise
        checks.append(Check("database", False, type(exc).__name__))
    pending = None
    try:
        pending = jobs.queue_pending()
        checks.append(Check("jobs", True, jobs.queue_backend()))
    except Exception as exc:
        checks.append(Check("jobs", False, f"{jobs.queue_backend()}: {type(exc).__name__}"))
    stale_after = datetime.timedelta(seconds=settings.HEARTBEAT_STALE_AFTER_SECONDS)
    fresh = heartbeat is not None and timezone.now() - heartbeat.last_run_at <= stale_after
    return SystemHealth(
        checks=tuple(checks),
        heartbeat_at=heartbeat.last_run_at if heartbeat else None,
        heartbeat_runs=heartbeat.runs if heartbeat else 0,
        heartbeat_fresh=fresh,
        queue_backend=jobs.queue_backend(),
        queue_pending=pending,
    )
