"""The daily backlog snapshot: how many tickets were open at the end of a day.

The count is rebuilt from the line spans, not from the tickets' status today: a ticket was open
at a moment exactly when one of its spans covers that moment (a span starts when the ticket is
created, assigned, escalated, handed back or reopened, and the last one ends when it is
resolved, cancelled or merged). So a snapshot taken late, or taken again, gives the same answer.
Snapshots are derived figures, not records anyone edits, so they are not audited.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from arende.core.models import Organisation
from arende.servicedesk.models import BacklogSnapshot, LineSpan


def end_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight after ``day`` in the service desk's time zone (Europe/Stockholm), aware."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone)


def open_at(moment: datetime.datetime, prefix: str = "") -> Q:
    """Line spans (or, with ``prefix``, rows reaching spans) active at ``moment``."""
    return Q(**{f"{prefix}started_at__lte": moment}) & (
        Q(**{f"{prefix}ended_at__isnull": True}) | Q(**{f"{prefix}ended_at__gt": moment})
    )


@transaction.atomic
def backlog_snapshot_take(day: datetime.date) -> int:
    """Write the snapshot rows of ``day`` (one per organisation, group and line with open
    tickets, and a zero row for an organisation with none), replacing any taken before.
    Idempotent. Returns the number of open tickets."""
    moment = end_of_day(day)
    rows = (
        LineSpan.objects.filter(open_at(moment))
        .values("ticket__organisation_id", "group_id", "line")
        .annotate(open_count=Count("ticket_id", distinct=True))
        .order_by()
    )
    snapshots = [
        BacklogSnapshot(
            day=day,
            organisation_id=row["ticket__organisation_id"],
            group_id=row["group_id"],
            line=row["line"],
            open_count=row["open_count"],
        )
        for row in rows
    ]
    # Organisations with nothing open get a zero row, so that the day reads as "taken: none
    # open" rather than "not taken".
    counted = {snapshot.organisation_id for snapshot in snapshots}
    snapshots += [
        BacklogSnapshot(day=day, organisation_id=pk, group=None, line=1, open_count=0)
        for pk in Organisation.objects.filter(is_active=True).values_list("pk", flat=True)
        if pk not in counted
    ]
    BacklogSnapshot.objects.filter(day=day).delete()
    BacklogSnapshot.objects.bulk_create(snapshots)
    return sum(snapshot.open_count for snapshot in snapshots)


def backlog_snapshots_take(*, start: datetime.date, end: datetime.date) -> int:
    """Take the snapshot of every day from ``start`` to ``end`` (inclusive). Returns days."""
    days = 0
    day = start
    while day <= end:
        backlog_snapshot_take(day)
        day += datetime.timedelta(days=1)
        days += 1
    return days
