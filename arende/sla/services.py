"""SLA writes: keep each ticket's status history and clocks, recompute them, send alerts.

Clocks are derived from the ticket's history (see clocks.py), so every function here ends in
the same place, ``_store``: compute the clocks from facts, write them, and mirror the most urgent
deadline onto the ticket (``Ticket.sla_due_at`` / ``sla_state``) for the queues. Those two
fields are written with a plain UPDATE, without a new ticket version: they are not an edit
anyone made, and must never make a person's edit look stale.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.db.models.base import ModelState
from django.utils import timezone

from arende.servicedesk.models import LineSpan, SlaState, Ticket, TicketActivity
from arende.servicedesk.models.tickets import OPEN_STATUS_VALUES
from arende.servicedesk.services.tickets import constant_lookup
from arende.sla import clocks as clock_rules
from arende.sla import engine
from arende.sla.models import SlaClock, SlaPolicy, StatusSpan
from arende.sla.selectors import CalendarBook, policy_for

_FACT_FIELDS = (
    "id",
    "organisation_id",
    "service_id",
    "kind",
    "priority",
    "status",
    "created_at",
    "first_response_at",
    "escalated_at",
    "resolved_at",
    "closed_at",
    "sla_due_at",
    "sla_state",
    "group_id",
    "line",
)

_STATE_ORDER = {  # worst first: what the queue shows for a ticket with several clocks
    SlaState.BREACHED: 0,
    SlaState.WARNING: 1,
    SlaState.RUNNING: 2,
    SlaState.PAUSED: 3,
    SlaState.MET: 4,
}


# Status history --------------------------------------------------------------------------------


def status_span_track(*, ticket: Ticket, at: datetime.datetime, created: bool = False) -> None:
    """Record the ticket's current status in its status history, if it changed."""
    if created:  # a new ticket has no history to close
        StatusSpan.objects.create(ticket=ticket, status=ticket.status, started_at=at)
        return
    current = StatusSpan.objects.filter(ticket=ticket, ended_at__isnull=True).last()
    if current is not None and current.status == ticket.status:
        return
    if current is not None:
        at = max(at, current.started_at)
        StatusSpan.objects.filter(pk=current.pk).update(ended_at=at)
    StatusSpan.objects.create(ticket=ticket, status=ticket.status, started_at=at)


def status_spans_rebuild(*, ticket_ids: Iterable[int]) -> int:
    """Rebuild the status history of tickets from their timeline (for imported history).

    The timeline records every status change of the workflow as a "status" entry with
    ``from``/``to``; assignment moves a new ticket to "assigned". Returns the spans written.
    """
    ids = list(ticket_ids)
    written = 0
    for chunk in _chunks(ids, 2000):
        changes: dict[int, list[tuple[datetime.datetime, str]]] = defaultdict(list)
        activities = TicketActivity.objects.filter(
            ticket_id__in=chunk, kind=TicketActivity.Kind.STATUS
        ).values_list("ticket_id", "at", "data")
        for ticket_id, at, data in activities:
            if data.get("to"):
                changes[ticket_id].append((at, data["to"]))
        spans: list[StatusSpan] = []
        for ticket_id, created_at, first in _initial_statuses(chunk):
            for interval in clock_rules.statuses_from_changes(
                created_at, first, changes.get(ticket_id, [])
            ):
                spans.append(
                    StatusSpan(
                        ticket_id=ticket_id,
                        status=interval.status,
                        started_at=interval.start,
                        ended_at=interval.end,
                    )
                )
        StatusSpan.objects.filter(ticket_id__in=chunk).delete()
        StatusSpan.objects.bulk_create(spans, batch_size=5000)
        written += len(spans)
    return written


def _initial_statuses(ids: list[int]) -> Iterator[tuple[int, datetime.datetime, str]]:
    """Each ticket's first status: the "from" of its first status change, else its status."""
    first_from: dict[int, str] = {}
    for ticket_id, data in (
        TicketActivity.objects.filter(ticket_id__in=ids, kind=TicketActivity.Kind.STATUS)
        .order_by("ticket_id", "at", "id")
        .values_list("ticket_id", "data")
    ):
        first_from.setdefault(ticket_id, data.get("from") or "")
    for ticket_id, created_at, status in Ticket.objects.filter(pk__in=ids).values_list(
        "id", "created_at", "status"
    ):
        yield ticket_id, created_at, first_from.get(ticket_id) or status


# Clocks ------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """Caches for one recomputation: policies and calendars are few, tickets many."""

    now: datetime.datetime
    policies: dict[tuple, SlaPolicy | None]
    book: CalendarBook | None = None

    @classmethod
    def new(cls, now: datetime.datetime | None = None) -> _Context:
        return cls(now=now or timezone.now(), policies={})

    def policy(self, row: dict[str, Any]) -> SlaPolicy | None:
        key = (row["organisation_id"], row["service_id"], row["kind"], row["priority"])
        if key not in self.policies:
            self.policies[key] = policy_for(
                organisation_id=key[0], service_id=key[1], kind=key[2], priority=key[3]
            )
        return self.policies[key]

    def calendar(self, row: dict[str, Any]) -> tuple[str, engine.BusinessCalendar]:
        """The calendar's name (empty: the default) and the engine's calendar."""
        self.book = self.book or CalendarBook()
        calendar = self.book.for_ticket(row["organisation_id"], row["service_id"])
        return calendar.name, calendar


def targets_of(policy: SlaPolicy) -> clock_rules.Targets:
    def minutes(value: int | None) -> datetime.timedelta | None:
        return None if value is None else datetime.timedelta(minutes=value)

    return clock_rules.Targets(
        first_response=minutes(policy.first_response_minutes),
        resolution=minutes(policy.resolution_minutes),
        second_line=minutes(policy.second_line_resolution_minutes),
        warn_percent=policy.warn_at_percent,
        critical_percent=policy.second_warn_at_percent,
        pause_statuses=frozenset(policy.pause_statuses or ()),
    )


def facts_of(
    row: dict[str, Any], spans: list[tuple], taken_at: datetime.datetime | None = None
) -> clock_rules.TicketFacts:
    """A ticket's facts from its row, its status spans (oldest first), and when a person first
    took it. The first response is the first public answer *or* the moment someone took the
    ticket, whichever came first: the requester then knows a person is on it."""
    if spans:
        statuses = tuple(clock_rules.StatusInterval(*span) for span in spans)
    else:  # history from before status spans were kept: open until resolved or closed
        stop = row["resolved_at"] or row["closed_at"]
        if stop is None or row["status"] not in clock_rules.STOPPED_STATUSES:
            statuses = (clock_rules.StatusInterval(row["status"], row["created_at"], None),)
        else:
            statuses = (
                clock_rules.StatusInterval("new", row["created_at"], stop),
                clock_rules.StatusInterval(row["status"], stop, None),
            )
    return clock_rules.TicketFacts(
        created_at=row["created_at"],
        statuses=statuses,
        first_response_at=min(
            (t for t in (row["first_response_at"], taken_at) if t is not None), default=None
        ),
        escalated_at=row["escalated_at"],
    )


def _load(
    ids: list[int], pk_range: tuple[int, int] | None = None
) -> list[tuple[dict[str, Any], clock_rules.TicketFacts]]:
    """The facts of tickets ``ids``. With ``pk_range`` (the ids' min and max, for a chunk of a
    recomputation) the queries filter by range instead of a long IN list, which the database
    plans and the driver binds much faster; rows outside ``ids`` are dropped here."""
    if pk_range is not None:
        wanted = set(ids)
        lo, hi = pk_range
        ticket_filter = {"pk__gte": lo, "pk__lte": hi}
        related = {"ticket_id__gte": lo, "ticket_id__lte": hi}
    else:
        wanted = None
        ticket_filter = {"pk__in": ids}
        related = {"ticket_id__in": ids}
    if pk_range is not None and connection.vendor == "postgresql":
        return _load_range_postgresql(pk_range, wanted)
    rows = list(Ticket.objects.filter(**ticket_filter).values(*_FACT_FIELDS))
    if wanted is not None:
        rows = [row for row in rows if row["id"] in wanted]
    spans: dict[int, list[tuple]] = defaultdict(list)
    for ticket_id, status, started_at, ended_at in (
        StatusSpan.objects.filter(**related)
        .order_by("ticket_id", "started_at", "id")
        .values_list("ticket_id", "status", "started_at", "ended_at")
    ):
        spans[ticket_id].append((status, started_at, ended_at))
    taken = dict(
        LineSpan.objects.filter(**related, assignee__isnull=False)
        .values("ticket_id")
        .annotate(first=Min("started_at"))
        .values_list("ticket_id", "first")
    )
    return [(row, facts_of(row, spans.get(row["id"], []), taken.get(row["id"]))) for row in rows]


def _load_range_postgresql(
    pk_range: tuple[int, int], wanted: set[int] | None
) -> list[tuple[dict[str, Any], clock_rules.TicketFacts]]:
    """``_load`` for a chunk of a big recomputation: the same three reads in plain SQL with a
    binary cursor, which skips the ORM's per-row work (a million tickets are read this way)."""
    connection.ensure_connection()
    columns = ", ".join(f"t.{name}" for name in _FACT_FIELDS)
    import psycopg

    # Django's cursors bind on the client, which cannot return binary results; a plain
    # server-binding cursor on the same connection (and transaction) can.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT {columns} FROM servicedesk_ticket t WHERE t.id BETWEEN %s AND %s",  # noqa: S608 - our own column names
            pk_range,
            binary=True,
        )
        rows = [dict(zip(_FACT_FIELDS, values, strict=True)) for values in cursor.fetchall()]
        cursor.execute(
            "SELECT ticket_id, status, started_at, ended_at FROM sla_statusspan "
            "WHERE ticket_id BETWEEN %s AND %s ORDER BY ticket_id, started_at, id",
            pk_range,
            binary=True,
        )
        spans: dict[int, list[tuple]] = defaultdict(list)
        for ticket_id, *span in cursor.fetchall():
            spans[ticket_id].append(tuple(span))
        cursor.execute(
            "SELECT ticket_id, min(started_at) FROM servicedesk_linespan "
            "WHERE ticket_id BETWEEN %s AND %s AND assignee_id IS NOT NULL GROUP BY ticket_id",
            pk_range,
            binary=True,
        )
        taken = dict(cursor.fetchall())
    if wanted is not None:
        rows = [row for row in rows if row["id"] in wanted]
    return [(row, facts_of(row, spans.get(row["id"], []), taken.get(row["id"]))) for row in rows]


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


_CLOCK_COLUMNS = (
    "ticket_id",
    "metric",
    "policy_id",
    "calendar_name",
    "organisation_id",
    "service_id",
    "group_id",
    "priority",
    "line",
    "target_minutes",
    "state",
    "started_at",
    "elapsed_seconds",
    "stopped_at",
    "deadline",
    "breached_at",
    "warn_at",
    "critical_at",
    "alert_level",
    "computed_at",
)


def _clock_row(
    row: dict[str, Any], clock: clock_rules.Clock, policy: SlaPolicy, calendar_name: str, now
) -> SlaClock:
    # Built without SlaClock.__init__ (a plain attribute dict): a recomputation makes millions.
    made = SlaClock.__new__(SlaClock)
    made.__dict__.update(
        id=None,
        ticket_id=row["id"],
        metric=clock.metric,
        policy_id=policy.pk,
        calendar_name=calendar_name,
        organisation_id=row["organisation_id"],
        service_id=row["service_id"],
        group_id=row["group_id"],
        priority=row["priority"],
        line=row["line"],
        target_minutes=int(clock.target.total_seconds() // 60),
        state=clock.state,
        started_at=clock.started_at,
        elapsed_seconds=int(clock.elapsed.total_seconds()),
        stopped_at=clock.stopped_at,
        deadline=clock.deadline,
        breached_at=clock.breached_at,
        warn_at=clock.warn_at,
        critical_at=clock.critical_at,
        alert_level=0,
        computed_at=now,
    )
    return made


def _ticket_filter(ids: list[int], pk_range: tuple[int, int] | None) -> dict[str, Any]:
    if pk_range is None:
        return {"ticket_id__in": ids}
    return {"ticket_id__gte": pk_range[0], "ticket_id__lte": pk_range[1]}


def _delete_clocks(ids: list[int], pk_range: tuple[int, int] | None) -> None:
    """Delete the clocks of ``ids``: by range when the chunk is exactly that range."""
    if pk_range is not None and len(ids) == pk_range[1] - pk_range[0] + 1:
        SlaClock.objects.filter(**_ticket_filter(ids, pk_range)).delete()
    else:
        SlaClock.objects.filter(ticket_id__in=ids).delete()


def _insert_clocks(rows: list[SlaClock]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        # COPY: several times faster than a multi-row INSERT for the big recomputations.
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            columns = ", ".join(_CLOCK_COLUMNS)
            # Text format written by hand: one string per chunk instead of a call per row.
            lines = [
                "\t".join([_copy_text(row.__dict__[name]) for name in _CLOCK_COLUMNS])
                for row in rows
            ]
            with cursor.copy(f"COPY sla_slaclock ({columns}) FROM STDIN") as copy:
                copy.write("\n".join(lines) + "\n")
        return
    for row in rows:
        row._state = ModelState()
        row._state.adding = True
    SlaClock.objects.bulk_create(rows, batch_size=2000)


def ticket_summary(
    clocks: list[SlaClock], now: datetime.datetime
) -> tuple[datetime.datetime | None, str]:
    """The ticket's SLA deadline and state for the queues, from its clocks."""
    live = [c for c in clocks if c.stopped_at is None and c.state != clock_rules.CANCELLED]
    due = min((c.deadline for c in live if c.deadline is not None), default=None)
    states = []
    for clock in live or clocks:
        if clock.state == clock_rules.CANCELLED:
            continue
        if clock.state == clock_rules.RUNNING and (
            clock.alert_level >= 1 or (clock.warn_at is not None and clock.warn_at <= now)
        ):
            states.append(SlaState.WARNING)
        else:
            states.append(SlaState(clock.state))
    state = min(states, key=_STATE_ORDER.__getitem__, default=SlaState.NONE)
    return due, state


def _store(
    ctx: _Context,
    loaded: list[tuple[dict[str, Any], clock_rules.TicketFacts]],
    *,
    keep_old: bool = False,
    pk_range: tuple[int, int] | None = None,
    fresh: bool = False,
) -> dict[int, tuple[list[SlaClock], list[SlaClock]]]:
    """Compute and write the clocks of the loaded tickets; returns (old, new) per ticket.

    Old clocks are read whole only with ``keep_old`` (one ticket, to show what changed);
    otherwise only the alert levels that must survive the recomputation are read. ``fresh``
    tickets have no clocks yet: nothing is read or deleted.
    """
    ids = [row["id"] for row, _facts in loaded]
    existing: dict[int, dict[str, SlaClock]] = defaultdict(dict)
    levels: dict[tuple[int, str], int] = {}
    if fresh:
        pass
    elif keep_old:
        for clock in SlaClock.objects.filter(ticket_id__in=ids).select_related("policy"):
            existing[clock.ticket_id][clock.metric] = clock
            levels[clock.ticket_id, clock.metric] = clock.alert_level
    else:
        levels = {
            (ticket_id, metric): level
            for ticket_id, metric, level in SlaClock.objects.filter(
                alert_level__gt=0, **_ticket_filter(ids, pk_range)
            ).values_list("ticket_id", "metric", "alert_level")
        }
    rows: list[SlaClock] = []
    summaries: dict[int, tuple[datetime.datetime | None, str]] = {}
    result: dict[int, tuple[list[SlaClock], list[SlaClock]]] = {}
    for row, facts in loaded:
        ticket_id = row["id"]
        policy = ctx.policy(row)
        new: list[SlaClock] = []
        if policy is not None:
            calendar_name, calendar = ctx.calendar(row)
            computed = clock_rules.compute_clocks(calendar, facts, targets_of(policy), now=ctx.now)
            for clock in computed:
                made = _clock_row(row, clock, policy, calendar_name, ctx.now)
                level = levels.get((ticket_id, clock.metric))
                if level:
                    # Alerts already sent stay sent, unless the clock moved back under the
                    # threshold (a longer target, a pause): then the next pass may alert again.
                    made.alert_level = _kept_alert_level(level, made, ctx.now)
                new.append(made)
        rows += new
        summary = ticket_summary(new, ctx.now)
        if summary != (row["sla_due_at"], row["sla_state"]):
            summaries[ticket_id] = summary
        result[ticket_id] = (list(existing.get(ticket_id, {}).values()), new)
    # Replace rather than update: one DELETE and a COPY are far cheaper than an UPDATE per
    # row, and clock rows are derived data that nothing else refers to.
    if not fresh:
        _delete_clocks(ids, pk_range)
    _insert_clocks(rows)
    _write_summaries(summaries)
    return result


def _kept_alert_level(level: int, clock: SlaClock, now: datetime.datetime) -> int:
    if clock.state != clock_rules.RUNNING:
        return level
    due = 0
    if clock.warn_at is not None and clock.warn_at <= now:
        due = 1
    if clock.critical_at is not None and clock.critical_at <= now:
        due = 2
    return min(level, due)


def _write_summaries(summaries: dict[int, tuple[datetime.datetime | None, str]]) -> None:
    if not summaries:
        return
    if connection.vendor == "postgresql" and len(summaries) > 50:
        with connection.cursor() as cursor:
            values = ",".join(["(%s::bigint, %s::timestamptz, %s::varchar)"] * len(summaries))
            params: list[Any] = []
            for ticket_id, (due, state) in summaries.items():
                params += [ticket_id, due, state]
            cursor.execute(
                "UPDATE servicedesk_ticket AS t SET sla_due_at = v.due, sla_state = v.state "  # noqa: S608 - placeholders only
                f"FROM (VALUES {values}) AS v(id, due, state) WHERE t.id = v.id",
                params,
            )
        return
    by_value: dict[tuple, list[int]] = defaultdict(list)
    for ticket_id, value in summaries.items():
        by_value[value].append(ticket_id)
    for (due, state), ticket_ids in by_value.items():
        Ticket.objects.filter(pk__in=ticket_ids).update(sla_due_at=due, sla_state=state)


def ticket_clocks_refresh(
    *,
    ticket: Ticket,
    reason: str = "",
    now: datetime.datetime | None = None,
    created: bool = False,
) -> list[SlaClock]:
    """Recompute one ticket's clocks; a change of policy or target is shown on the ticket.

    The ticket in hand is current (the services pass the row they locked and saved), so its
    fields are used as they are; only its history is read. A ticket just ``created`` has no
    history but its first status, and no clocks yet.
    """
    # Policies and calendars are looked up once per batch of tickets created together (see
    # ``constant_lookups``); outside one, ``shared`` is this call's own.
    shared = constant_lookup("sla_context", _Context.new)
    ctx = dataclasses.replace(shared, now=now or timezone.now())
    row = {name: getattr(ticket, name) for name in _FACT_FIELDS}
    if created:
        spans = [(ticket.status, ticket.created_at, None)]
        taken = ticket.created_at if ticket.assignee_id else None
    else:
        spans = list(
            StatusSpan.objects.filter(ticket=ticket)
            .order_by("started_at", "id")
            .values_list("status", "started_at", "ended_at")
        )
        taken = LineSpan.objects.filter(ticket=ticket, assignee__isnull=False).aggregate(
            first=Min("started_at")
        )["first"]
    loaded = [(row, facts_of(row, spans, taken))]
    old, new = _store(ctx, loaded, keep_old=not created, fresh=created)[ticket.pk]
    shared.book = shared.book or ctx.book
    _record_recalculation(ticket, old, new, reason=reason, at=ctx.now)
    ticket.sla_due_at, ticket.sla_state = ticket_summary(new, ctx.now)
    return new


def _record_recalculation(
    ticket: Ticket, old: list[SlaClock], new: list[SlaClock], *, reason: str, at
) -> None:
    before = {clock.metric: clock for clock in old}
    changes = {}
    for clock in new:
        previous = before.get(clock.metric)
        if previous is None:
            continue
        if (previous.policy_id, previous.target_minutes) != (clock.policy_id, clock.target_minutes):
            changes[clock.metric] = {
                "policy": [str(previous.policy or ""), str(_policy_name(clock.policy_id))],
                "target_minutes": [previous.target_minutes, clock.target_minutes],
                "deadline": [_iso(previous.deadline), _iso(clock.deadline)],
                "state": [previous.state, clock.state],
            }
    if changes:
        TicketActivity.objects.create(
            ticket=ticket,
            at=at,
            kind=TicketActivity.Kind.SYSTEM,
            is_public=False,
            data={"event": "sla_recalculated", "reason": reason, "clocks": changes},
        )


def _policy_name(pk: int | None) -> str:
    return str(SlaPolicy.objects.filter(pk=pk).values_list("name", flat=True).first() or "")


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def clocks_recompute(
    *,
    ticket_ids: Iterable[int] | None = None,
    open_only: bool = False,
    pk_range: tuple[int, int] | None = None,
    chunk_size: int = 5000,
    now: datetime.datetime | None = None,
    report=None,
) -> int:
    """Recompute the clocks of many tickets (all, or ``ticket_ids``) in chunks.

    Used after a calendar or policy change and after an import of history. Each chunk is its own
    transaction, so a long run holds no lock for long and a restart simply starts over.
    """
    ctx = _Context.new(now)
    queryset = Ticket.objects.all()
    if pk_range is not None:
        queryset = queryset.filter(pk__gte=pk_range[0], pk__lte=pk_range[1])
    if ticket_ids is not None:
        queryset = queryset.filter(pk__in=list(ticket_ids))
    if open_only:
        queryset = queryset.filter(status__in=OPEN_STATUS_VALUES)
    done = 0
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return done
        with transaction.atomic():
            _store(ctx, _load(ids, (ids[0], ids[-1])), pk_range=(ids[0], ids[-1]))
        done += len(ids)
        last = ids[-1]
        if report:
            report(done)


def clocks_recompute_parallel(
    *, workers: int, open_only: bool = False, upto_pk: int | None = None
) -> int:
    """``clocks_recompute`` of every ticket, split by id range over ``workers`` processes.

    Each process has its own database connection and writes its own chunks, so on a machine
    with several cores a calendar change over a million tickets is done in a fraction of the
    time. The ranges are cut so that each holds about as many tickets.
    """
    import multiprocessing

    from django.db import connections

    ids = Ticket.objects.order_by("pk")
    if upto_pk is not None:
        ids = ids.filter(pk__lte=upto_pk)
    total = ids.count()
    if total == 0:
        return 0
    workers = max(1, min(workers, total))
    bounds = []
    for k in range(workers):
        first = ids.values_list("pk", flat=True)[k * total // workers]
        last = ids.values_list("pk", flat=True)[(k + 1) * total // workers - 1]
        bounds.append((first, last, open_only))
    if workers == 1:
        done = _recompute_range(bounds[0])
    else:
        connections.close_all()  # a forked child must not share the parent's connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = sum(pool.map(_recompute_range, bounds))
    if connection.vendor == "postgresql":
        # Every clock row was just rewritten: fresh statistics keep the reports' plans right
        # without waiting for autovacuum.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_slaclock")
    return done


def _recompute_range(bounds: tuple[int, int, bool]) -> int:
    from django.db import connections

    first, last, open_only = bounds
    try:
        return clocks_recompute(pk_range=(first, last), open_only=open_only)
    finally:
        connections.close_all()


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Alerts ------------------------------------------------------------------------------------------

WARNING, CRITICAL, BREACH = 1, 2, 3
ALERT_LEVEL_NAMES = {WARNING: "warning", CRITICAL: "critical", BREACH: "breached"}
_ALERT_FIELD = {WARNING: "warn_at", CRITICAL: "critical_at", BREACH: "deadline"}


def sla_alerts_send(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Send every alert that is due, each exactly once, also with several workers at once.

    A worker *claims* an alert with a conditional UPDATE (``alert_level < level``); the database
    lets only one of two concurrent claims change the row, and only the claimer records the alert
    on the ticket and tells the listeners, in the same transaction. Breaches are looked at
    first, so a clock that passed every threshold since the last run gets only the breach alert.
    """
    now = now or timezone.now()
    sent = 0
    for level in (BREACH, CRITICAL, WARNING):
        due = SlaClock.objects.filter(
            stopped_at__isnull=True,
            state__in=[clock_rules.RUNNING, clock_rules.BREACHED],
            alert_level__lt=level,
            **{f"{_ALERT_FIELD[level]}__lte": now},
        ).values_list("pk", flat=True)[:limit]
        for pk in list(due):
            with transaction.atomic():
                claimed = SlaClock.objects.filter(pk=pk, alert_level__lt=level).update(
                    alert_level=level
                )
                if claimed:
                    _alert(pk, level, now)
                    sent += 1
    return sent


def _alert(pk: int, level: int, now: datetime.datetime) -> None:
    from django.utils.translation import override

    from arende.sla.models import Metric
    from arende.sla.signals import sla_alert

    clock = SlaClock.objects.select_related("ticket", "ticket__assignee", "ticket__group").get(
        pk=pk
    )
    ticket = clock.ticket
    recipients = alert_recipients(ticket)
    TicketActivity.objects.create(
        ticket=ticket,
        at=now,
        kind=TicketActivity.Kind.SYSTEM,
        is_public=False,
        data={
            "event": "sla_alert",
            "metric": clock.metric,
            "level": ALERT_LEVEL_NAMES[level],
            "deadline": _iso(clock.deadline),
            "recipients": [str(user) for user in recipients],
        },
    )
    with override("sv"):
        label = str(Metric(clock.metric).label)
    ticket_clocks_refresh(ticket=ticket, reason="sla_alert", now=now)
    sla_alert.send(
        sender=SlaClock,
        ticket=ticket,
        metric=clock.metric,
        metric_label=label,
        level=ALERT_LEVEL_NAMES[level],
        deadline=clock.deadline,
        recipients=recipients,
    )


def alert_recipients(ticket: Ticket) -> list:
    """The assignee, the group's members, and for the highest priority the IT managers."""
    from arende.core.models import User

    people: dict[int, Any] = {}
    if ticket.assignee_id:
        people[ticket.assignee_id] = ticket.assignee
    if ticket.group_id:
        for user in ticket.group.members.filter(is_active=True):
            people.setdefault(user.pk, user)
    if ticket.priority == 1:
        managers = User.objects.filter(
            is_active=True, role_assignments__role__code="manager"
        ).distinct()
        for user in managers:
            people.setdefault(user.pk, user)
    return sorted(people.values(), key=lambda user: user.pk)
