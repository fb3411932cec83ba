"""The one job API, and the core's own periodic jobs.

Every background job in Ärende is declared with ``job`` or ``periodic_job`` from here. In the
embedded default the queue is a SQLite file and ``make run`` starts a worker beside the web
server; with REDIS_URL the queue is in Redis and any number of workers consume it
(``manage.py run_huey``). Jobs stay thin: they take ids and call a service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

__all__ = ["HUEY", "crontab", "job", "periodic_job", "queue_backend", "queue_pending"]


def job(**options: Any) -> Callable:
    """Declare a background job: ``@job()`` then ``my_job(ids)`` enqueues it after commit."""
    return db_task(**options)


def periodic_job(schedule: Callable, **options: Any) -> Callable:
    return db_periodic_task(schedule, **options)


def queue_backend() -> str:
    return type(HUEY).__name__


def queue_pending() -> int:
    """How many jobs wait; also proves the queue's storage answers."""
    return HUEY.pending_count()


@periodic_job(crontab(minute="*"))
def heartbeat() -> None:
    from arende.core.services import heartbeat_record

    heartbeat_record(name="heartbeat")
