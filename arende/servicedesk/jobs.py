"""Background jobs of the service desk."""

from __future__ import annotations

import datetime

from django.utils import timezone

from arende.core.jobs import crontab, periodic_job


@periodic_job(crontab(hour="1", minute="15"))
def backlog_snapshot_yesterday() -> None:
    """Every night (01:15 UTC, after midnight in Stockholm): yesterday's backlog snapshot.

    Idempotent, so a rerun or a second worker does no harm."""
    from arende.servicedesk.services.snapshots import backlog_snapshot_take

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    backlog_snapshot_take(yesterday)


@periodic_job(crontab(minute="20"))
def close_resolved_tickets() -> None:
    """Every hour: close tickets that have stayed resolved longer than the reopen window allows."""
    from arende.servicedesk.services import tickets_close_resolved

    tickets_close_resolved()
