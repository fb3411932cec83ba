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
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.db.models.base import ModelState
from django.utils import timezone

from arende.servicedesk.models import LineSpan, SlaState, Ticket, TicketActivity
from arende.servicedesk.models.tickets import OPEN_STATUS_VALUES
from arende.servicedesk.services.tickets import constant_lookup
from arende.sla import clocks as clock_rules
from arende.sla import engine
from arende.sla.models import SlaClock, SlaPolicy, StatusSpan
from arende.sla.selectors import CalendarBook, policy_for

# The ticket columns the clocks depend on, in this order (a recomputation reads them with
# times in epoch microseconds).
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
    targets_by_policy: dict[int, clock_rules.Targets] = field(default_factory=dict)
    plans: dict[tuple, Any] = field(default_factory=dict)  # recomputation: see _plan

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

    def targets(self, policy: SlaPolicy) -> clock_rules.Targets:
        targets = self.targets_by_policy.get(policy.pk)
        if targets is None:
            targets = self.targets_by_policy[policy.pk] = targets_of(policy)
        return targets

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
    took it (see ``_history`` and ``_first_response``)."""
    history = _history(
        row["status"], row["created_at"], row["resolved_at"], row["closed_at"], spans
    )
    return clock_rules.TicketFacts(
        created_at=row["created_at"],
        statuses=tuple(clock_rules.StatusInterval(*span) for span in history),
        first_response_at=_first_response(row["first_response_at"], taken_at),
        escalated_at=row["escalated_at"],
    )


def _history(status: str, created_at: Any, resolved_at: Any, closed_at: Any, spans: list) -> list:
    """The status spans, or for history from before they were kept: open until resolved or
    closed. Times as datetimes or epoch microseconds."""
    if spans:
        return spans
    stop = resolved_at if resolved_at is not None else closed_at
    if stop is None or status not in clock_rules.STOPPED_STATUSES:
        return [(status, created_at, None)]
    return [("new", created_at, stop), (status, stop, None)]


def _first_response(answered_at: Any, taken_at: Any) -> Any:
    """The first public answer *or* the moment someone took the ticket, whichever came first:
    the requester then knows a person is on it."""
    if taken_at is not None and (answered_at is None or taken_at < answered_at):
        return taken_at
    return answered_at


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


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
    return _summary(
        [(c.state, c.stopped_at, c.deadline, c.warn_at, c.alert_level) for c in clocks], now
    )


_RANK = {state.value: rank for state, rank in _STATE_ORDER.items()}
_SLA_STATES = {state.value: state for state in SlaState}


def _summary(clocks: list[tuple], now: Any) -> tuple[Any, str]:
    """``ticket_summary`` of (state, stopped_at, deadline, warn_at, alert_level) tuples, times as
    datetimes or as epoch microseconds (then the deadline comes back in them too)."""
    live = [c for c in clocks if c[1] is None and c[0] != clock_rules.CANCELLED]
    due = None
    for clock in live:
        if clock[2] is not None and (due is None or clock[2] < due):
            due = clock[2]
    best, rank = SlaState.NONE.value, len(_RANK)
    for state, _stopped, _deadline, warn_at, level in live or clocks:
        if state == clock_rules.CANCELLED:
            continue
        if state == clock_rules.RUNNING and (
            level >= 1 or (warn_at is not None and warn_at <= now)
        ):
            state = SlaState.WARNING.value
        if _RANK[state] < rank:
            best, rank = state, _RANK[state]
    return due, _SLA_STATES[best]


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
    return _kept_level(level, clock.state, clock.warn_at, clock.critical_at, now)


def _kept_level(level: int, state: str, warn_at: Any, critical_at: Any, now: Any) -> int:
    """The alert level a recomputed clock keeps (times as datetimes or epoch microseconds)."""
    if state != clock_rules.RUNNING:
        return level
    due = 0
    if warn_at is not None and warn_at <= now:
        due = 1
    if critical_at is not None and critical_at <= now:
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


# A stored clock's columns that a recomputation may change, in the order they are read back;
# computed and stored values are compared as plain tuples, so that unchanged clocks are not
# written. Times in epoch microseconds.
_VALUE_COLUMNS = (
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
)
_CLOCK_COLUMNS = ("ticket_id", "metric", *_VALUE_COLUMNS, "computed_at")
_TIME_COLUMNS = frozenset(
    {"started_at", "stopped_at", "deadline", "breached_at", "warn_at", "critical_at"}
)
_READ_COLUMNS = ("id", "ticket_id", "metric", *_VALUE_COLUMNS)
_STAGED_COLUMNS = ("id", "ticket_id", "metric", *_VALUE_COLUMNS, "computed_at")
_TICKET_TIMES = frozenset(
    {"created_at", "first_response_at", "escalated_at", "resolved_at", "closed_at", "sla_due_at"}
)

_Batch = list[tuple[tuple, list[clock_rules.Span], int | None]]
"""Per ticket: its ``_FACT_FIELDS``, its status spans (oldest first) and when a person first
took it, all times in epoch microseconds."""


_PG_EPOCH_US = 946_684_800_000_000  # PostgreSQL counts from 2000-01-01, in microseconds


def _epoch_us_cursor():
    """A server-binding cursor on Django's connection (and transaction) that reads binary
    results, timestamps as epoch microseconds: a recomputation reads millions of them, and
    plain ints cost a fraction of building datetimes. (Django's cursors bind on the client,
    which cannot return binary results.)"""
    import psycopg
    from psycopg.adapt import Loader

    class EpochUsLoader(Loader):
        format = psycopg.pq.Format.BINARY

        def load(self, data: Any) -> int:
            return int.from_bytes(data, "big", signed=True) + _PG_EPOCH_US

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    cursor.adapters.register_loader("timestamptz", EpochUsLoader)
    return cursor


def _us_or_none(value: datetime.datetime | None) -> int | None:
    return None if value is None else engine.to_epoch_us(value)


def _load_batch(ids: list[int], pk_range: tuple[int, int] | None) -> _Batch:
    """The facts of tickets ``ids`` (a chunk of a recomputation) in epoch microseconds; with
    ``pk_range`` (their min and max) read by range, dropping the tickets not in ``ids``."""
    wanted = set(ids)
    if pk_range is not None and connection.vendor == "postgresql":
        with _epoch_us_cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_FACT_FIELDS)} FROM servicedesk_ticket "  # noqa: S608 - our own column names
                "WHERE id BETWEEN %s AND %s",
                pk_range,
                binary=True,
            )
            rows = cursor.fetchall()
            cursor.execute(
                "SELECT ticket_id, status, started_at, ended_at FROM sla_statusspan "
                "WHERE ticket_id BETWEEN %s AND %s ORDER BY ticket_id, started_at, id",
                pk_range,
                binary=True,
            )
            span_rows = cursor.fetchall()
            cursor.execute(
                "SELECT ticket_id, min(started_at) FROM servicedesk_linespan "
                "WHERE ticket_id BETWEEN %s AND %s AND assignee_id IS NOT NULL GROUP BY ticket_id",
                pk_range,
                binary=True,
            )
            taken = dict(cursor.fetchall())
    else:
        ticket_filter, related = (
            ({"pk__in": ids}, {"ticket_id__in": ids})
            if pk_range is None
            else (
                {"pk__gte": pk_range[0], "pk__lte": pk_range[1]},
                {"ticket_id__gte": pk_range[0], "ticket_id__lte": pk_range[1]},
            )
        )
        positions = [i for i, name in enumerate(_FACT_FIELDS) if name in _TICKET_TIMES]
        rows = []
        for values in Ticket.objects.filter(**ticket_filter).values_list(*_FACT_FIELDS):
            values = list(values)
            for i in positions:
                values[i] = _us_or_none(values[i])
            rows.append(tuple(values))
        span_rows = [
            (ticket_id, status, _us_or_none(start), _us_or_none(end))
            for ticket_id, status, start, end in StatusSpan.objects.filter(**related)
            .order_by("ticket_id", "started_at", "id")
            .values_list("ticket_id", "status", "started_at", "ended_at")
        ]
        taken = {
            ticket_id: _us_or_none(first)
            for ticket_id, first in LineSpan.objects.filter(**related, assignee__isnull=False)
            .values("ticket_id")
            .annotate(first=Min("started_at"))
            .values_list("ticket_id", "first")
        }
    spans: dict[int, list[clock_rules.Span]] = {}
    for ticket_id, status, start, end in span_rows:
        history = spans.get(ticket_id)
        if history is None:
            spans[ticket_id] = [(status, start, end)]
        else:
            history.append((status, start, end))
    return [
        (row, spans.get(row[0], []), taken.get(row[0])) for row in sorted(rows) if row[0] in wanted
    ]


def _stored_clocks(ids: list[int], pk_range: tuple[int, int] | None) -> dict[int, list[tuple]]:
    """The stored clocks of a chunk's tickets as ``_READ_COLUMNS`` tuples (times in epoch
    microseconds), per ticket."""
    if pk_range is not None and connection.vendor == "postgresql":
        with _epoch_us_cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_READ_COLUMNS)} FROM sla_slaclock "  # noqa: S608 - our own column names
                "WHERE ticket_id BETWEEN %s AND %s",
                pk_range,
                binary=True,
            )
            rows = cursor.fetchall()
    else:
        positions = [i for i, name in enumerate(_READ_COLUMNS) if name in _TIME_COLUMNS]
        rows = []
        for values in SlaClock.objects.filter(**_ticket_filter(ids, pk_range)).values_list(
            *_READ_COLUMNS
        ):
            values = list(values)
            for i in positions:
                values[i] = _us_or_none(values[i])
            rows.append(tuple(values))
    by_ticket: dict[int, list[tuple]] = {}
    for row in rows:
        clocks = by_ticket.get(row[1])
        if clocks is None:
            by_ticket[row[1]] = [row]
        else:
            clocks.append(row)
    return by_ticket


@dataclass(frozen=True)
class _Plan:
    """What the clocks of tickets with the same organisation, service, kind and priority need."""

    policy_id: int
    calendar_name: str
    calendar: engine.BusinessCalendar
    metrics: tuple[tuple[str, int, int], ...]  # (metric, target in microseconds, in minutes)
    warn_percent: int
    critical_percent: int
    pause: frozenset[str]


def _plan(ctx: _Context, row: tuple) -> _Plan | None:
    keys = dict(zip(_FACT_FIELDS, row, strict=True))
    policy = ctx.policy(keys)
    if policy is None:
        return None
    calendar_name, calendar = ctx.calendar(keys)
    targets = ctx.targets(policy)
    metrics = []
    for metric in clock_rules.METRICS:
        target = targets.for_metric(metric)
        if target is not None:
            us = (target.days * 86_400 + target.seconds) * 1_000_000 + target.microseconds
            metrics.append((metric, us, int(target.total_seconds() // 60)))
    return _Plan(
        policy.pk,
        calendar_name,
        calendar,
        tuple(metrics),
        targets.warn_percent,
        targets.critical_percent,
        targets.pause_statuses,
    )


def _recompute_chunk(ctx: _Context, loaded: _Batch, pk_range: tuple[int, int] | None) -> int:
    """Recompute the clocks of the loaded tickets and write those that changed.

    Every clock is computed; a clock whose stored row already holds exactly the computed values
    is left alone (also its ``computed_at``). After a calendar change most clocks of a million
    tickets stay as they were (those of tickets long closed, away from the changed days), and
    writing only the others is what keeps a recomputation of all of them short: the writes, their
    index entries and foreign-key checks cost far more than the computation. Returns the number
    of clock rows written or deleted.
    """
    now = engine.to_epoch_us(ctx.now)
    stored = _stored_clocks([row[0] for row, _spans, _taken in loaded], pk_range)
    plans = ctx.plans
    changed: list[tuple] = []  # id (None: a new clock), ticket, metric, values, level read
    gone: list[int] = []
    summaries: dict[int, tuple[int | None, str]] = {}
    clock_us = clock_rules.clock_us
    for row, spans, taken in loaded:
        (ticket_id, organisation_id, service_id, kind, priority, status, created_at) = row[:7]
        first_response_at, escalated_at, resolved_at, closed_at, due, sla_state = row[7:13]
        group_id, line = row[13], row[14]
        key = (organisation_id, service_id, kind, priority)
        if key in plans:
            plan = plans[key]
        else:
            plan = plans[key] = _plan(ctx, row)
        old = {clock[2]: clock for clock in stored.get(ticket_id, ())}
        new: list[tuple] = []  # what the ticket's summary needs of each clock
        if plan is not None:
            spans = _history(status, created_at, resolved_at, closed_at, spans)
            first_response_at = _first_response(first_response_at, taken)
            for metric, target, minutes in plan.metrics:
                computed = clock_us(
                    plan.calendar,
                    spans,
                    created_at,
                    first_response_at,
                    escalated_at,
                    metric=metric,
                    target=target,
                    warn_percent=plan.warn_percent,
                    critical_percent=plan.critical_percent,
                    pause=plan.pause,
                    now=now,
                )
                if computed is None:
                    continue
                _m, state, started, elapsed, stopped, deadline, breached, warn_at, critical_at = (
                    computed[:9]
                )
                before = old.pop(metric, None)
                level = before[-1] if before is not None else 0
                if level:
                    # Alerts already sent stay sent, unless the clock moved back under the
                    # threshold (a longer target, a pause): then the next pass may alert again.
                    level = _kept_level(level, state, warn_at, critical_at, now)
                values = (
                    plan.policy_id,
                    plan.calendar_name,
                    organisation_id,
                    service_id,
                    group_id,
                    priority,
                    line,
                    minutes,
                    state,
                    started,
                    int(elapsed / 1_000_000),  # as int(timedelta.total_seconds())
                    stopped,
                    deadline,
                    breached,
                    warn_at,
                    critical_at,
                    level,
                )
                new.append((state, stopped, deadline, warn_at, level))
                if before is None:
                    changed.append((None, ticket_id, metric, *values, 0))
                elif values != before[3:]:
                    changed.append((before[0], ticket_id, metric, *values, before[-1]))
        if old:  # metrics the ticket no longer has (a policy without a second line)
            gone += [clock[0] for clock in old.values()]
        summary = _summary(new, now)
        if summary != (due, sla_state):
            summaries[ticket_id] = summary
    if gone:
        SlaClock.objects.filter(pk__in=gone).delete()
    _write_changed_clocks(changed, ctx.now)
    _write_summaries(
        {
            ticket_id: (None if due is None else engine.from_epoch_us(due), state)
            for ticket_id, (due, state) in summaries.items()
        }
    )
    return len(changed) + len(gone)


def _write_changed_clocks(changed: list[tuple], now: datetime.datetime) -> None:
    """Update the clocks that changed in place and insert the new ones: id (None for a new
    one), ticket, metric, ``_VALUE_COLUMNS`` (times in epoch microseconds) and the alert level
    read with the old row."""
    if not changed:
        return
    at = engine.from_epoch_us
    times = [i for i, name in enumerate(_STAGED_COLUMNS) if name in _TIME_COLUMNS]
    rows = []
    for values in changed:
        values = [*values[:-1], now, values[-1]]
        for i in times:
            if values[i] is not None:
                values[i] = at(values[i])
        rows.append(values)
    if connection.vendor != "postgresql":
        made = [SlaClock(**dict(zip(_STAGED_COLUMNS, row[:-1], strict=True))) for row in rows]
        SlaClock.objects.filter(
            pk__in=[clock.pk for clock in made if clock.pk is not None]
        ).delete()
        SlaClock.objects.bulk_create(made, batch_size=2000)
        return
    # COPY into a temporary table, then one UPDATE by id and one INSERT: set-based, and the
    # rows keep their ids.
    columns = ", ".join((*_STAGED_COLUMNS, "seen_level"))
    assigned = ", ".join(f"{name} = s.{name}" for name in (*_VALUE_COLUMNS, "computed_at"))
    inserted = ", ".join(_STAGED_COLUMNS[1:])
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS sla_clock_changes AS "  # noqa: S608 - our own column names
            f"SELECT {', '.join(_STAGED_COLUMNS)}, alert_level AS seen_level FROM sla_slaclock "
            "WITH NO DATA"
        )
        lines = ["\t".join([_copy_text(value) for value in row]) for row in rows]
        with cursor.copy(f"COPY sla_clock_changes ({columns}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")
        # A clock whose alert went out meanwhile (its level is no longer the one read) is left
        # as it is: the alert job recomputed the ticket's clocks when it sent it, and writing
        # the level read before would send the alert again.
        cursor.execute(
            f"UPDATE sla_slaclock AS c SET {assigned} FROM sla_clock_changes AS s "  # noqa: S608 - our own column names
            "WHERE s.id IS NOT NULL AND c.id = s.id AND c.alert_level = s.seen_level"
        )
        # A clock that appeared meanwhile (the ticket was just edited) was computed as freshly.
        cursor.execute(
            f"INSERT INTO sla_slaclock ({inserted}) SELECT {inserted} FROM sla_clock_changes "  # noqa: S608 - our own column names
            "WHERE id IS NULL ON CONFLICT (ticket_id, metric) DO NOTHING"
        )
        cursor.execute("DELETE FROM sla_clock_changes")


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
    transaction, so a long run holds no lock for long and a restart simply starts over. Returns
    the number of tickets.
    """
    return _recompute(
        ticket_ids=ticket_ids,
        open_only=open_only,
        pk_range=pk_range,
        chunk_size=chunk_size,
        now=now,
        report=report,
    )[0]


def _recompute(
    *,
    ticket_ids: Iterable[int] | None = None,
    open_only: bool = False,
    pk_range: tuple[int, int] | None = None,
    chunk_size: int = 5000,
    now: datetime.datetime | None = None,
    report=None,
    ctx: _Context | None = None,
) -> tuple[int, int]:
    """``clocks_recompute``; returns the tickets recomputed and the clock rows written."""
    ctx = ctx or _Context.new(now)
    queryset = Ticket.objects.all()
    if pk_range is not None:
        queryset = queryset.filter(pk__gte=pk_range[0], pk__lte=pk_range[1])
    if ticket_ids is not None:
        queryset = queryset.filter(pk__in=list(ticket_ids))
    if open_only:
        queryset = queryset.filter(status__in=OPEN_STATUS_VALUES)
    done = written = 0
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return done, written
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Derived data, recomputed from the tickets at will: a crash that loses the last
                # chunks' commits loses nothing that a new run would not restore, and not
                # waiting for each commit's flush to disk saves a wait per chunk.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            chunk = (ids[0], ids[-1])
            written += _recompute_chunk(ctx, _load_batch(ids, chunk), chunk)
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
    time. The ids are cut into several slices per process, handed out as processes become free,
    so that all finish at about the same time without counting the tickets first.
    """
    import multiprocessing

    from django.db import connections

    ids = Ticket.objects.all()
    if upto_pk is not None:
        ids = ids.filter(pk__lte=upto_pk)
    bounds = ids.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return 0
    first, last = bounds["first"], bounds["last"]
    now = timezone.now()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # SQLite takes one writer at a time. Inside a transaction, processes of their own
        # would not see its uncommitted rows, and a forked child would inherit (and talk over)
        # this process's open connection: the work is done here, in the transaction.
        workers = 1
    slices = workers * 8 if workers > 1 else 1
    step = -(-(last - first + 1) // slices)
    ranges = [(lo, min(lo + step - 1, last), open_only) for lo in range(first, last + 1, step)]
    if workers <= 1:
        results = [_recompute(pk_range=(first, last), open_only=open_only, now=now)]
    else:
        connections.close_all()  # a forked child must not share the parent's connection
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_start_worker, initargs=(now,)) as pool:
            results = list(pool.imap_unordered(_recompute_range, ranges))
    done, written = sum(r[0] for r in results), sum(r[1] for r in results)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'sla_slaclock'::regclass")
            (rows,) = cursor.fetchone()
            if written >= 0.1 * rows:
                # A tenth of the clocks rewritten (when autovacuum would analyze): fresh
                # statistics keep the reports' plans right without waiting for it. After a
                # small change the old ones still hold, and ANALYZE costs a second or two.
                cursor.execute("ANALYZE sla_slaclock")
    return done


_worker_context: _Context | None = None


def _start_worker(now: datetime.datetime) -> None:
    """One context (policies, calendars) per process, for all its slices, with one ``now``."""
    global _worker_context
    from django.db import connections

    for inherited in connections.all(initialized_only=True):
        # A connection object copied from the parent by fork: forget it without closing it,
        # since closing would end the parent's session on the shared socket.
        inherited.connection = None
    _worker_context = _Context.new(now)


def _recompute_range(bounds: tuple[int, int, bool]) -> tuple[int, int]:
    from django.db import connections

    first, last, open_only = bounds
    try:
        return _recompute(pk_range=(first, last), open_only=open_only, ctx=_worker_context)
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
