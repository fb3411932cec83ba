"""Background jobs of operations."""

from __future__ import annotations

from arende.core.jobs import crontab, periodic_job


@periodic_job(crontab(hour="5", minute="30"))
def remind_overdue_actions() -> None:
    """Every morning (05:30 UTC, before the working day in Stockholm): remind the owners of
    follow-up actions past their due date (weekly per action until it is done)."""
    from arende.operations.services.incidents import review_actions_remind

    review_actions_remind()
