"""SLA writes: keep each ticket's status history and clocks, recompute them, send alerts.

Clocks are derived from the ticket's history (see clocks.py), so every function here ends in
the same place, ``_store``: compute the clocks from facts, write them, and mirror the most urgent
deadline onto the ticket (``Ticket.sla_due_at`` / ``sla_state``) for the queues. Those two
fields are written with a plain UPDATE, without a new ticket version: they are not an edit
anyone made, and must never make a person's edit look stale.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from arende.servicedesk.models import LineSpan, SlaState, Ticket, TicketActivity
from arende.servicedesk.models.tickets import OPEN_STATUS_VALUES
from arende.sla import clocks as clock_rules
from arende.sla import engine
from arende.sla.models import SlaClock, SlaPolicy, StatusSpan
from arende.sla.selectors import (
    FIRST_YEAR,
    YEARS_AHEAD,
    business_calendar,
    calendar_for,
    policy_for,
)

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
)

_STATE_ORDER = {  # worst first: what the queue shows for a ticket with several clocks
    SlaState.BREACHED: 0,
    SlaState.WARNING: 1,
    SlaState.RUNNING: 2,
    SlaState.PAUSED: 3,
    SlaState.MET: 4,
}


# Status history --------------------------------------------------------------------------------


def status_span_track(*, ticket: Ticket, at: datetime.datetime) -> None:
    """Record the ticket's current status in its status history, if it changed."""
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
    calendars: dict[tuple, tuple[str, engine.BusinessCalendar]]

    @classmethod
    def new(cls, now: datetime.datetime | None = None) -> _Context:
        return cls(now=now or timezone.now(), policies={}, calendars={})

    def policy(self, row: dict[str, Any]) -> SlaPolicy | None:
        key = (row["organisation_id"], row["service_id"], row["kind"], row["priority"])
        if key not in self.policies:
            self.policies[key] = policy_for(
                organisation_id=key[0], service_id=key[1], kind=key[2], priority=key[3]
            )
        return self.policies[key]

    def calendar(self, row: dict[str, Any]) -> tuple[str, engine.BusinessCalendar]:
        key = (row["organisation_id"], row["service_id"])
        if key not in self.calendars:
            configured = calendar_for(*key)
            if configured is None:  # nothing configured: the Swedish office calendar
                self.calendars[key] = ("", _default_calendar())
            else:
                self.calendars[key] = (configured.name, business_calendar(configured))
        return self.calendars[key]


@functools.lru_cache(maxsize=1)
def _default_calendar() -> engine.BusinessCalendar:
    year = timezone.localdate().year
    return engine.swedish_calendar(range(FIRST_YEAR, year + YEARS_AHEAD + 1), name="")


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


def _load(ids: list[int]) -> list[tuple[dict[str, Any], clock_rules.TicketFacts]]:
    rows = list(Ticket.objects.filter(pk__in=ids).values(*_FACT_FIELDS))
    spans: dict[int, list[tuple]] = defaultdict(list)
    for ticket_id, status, started_at, ended_at in (
        StatusSpan.objects.filter(ticket_id__in=ids)
        .order_by("ticket_id", "started_at", "id")
        .values_list("ticket_id", "status", "started_at", "ended_at")
    ):
        spans[ticket_id].append((status, started_at, ended_at))
    taken = dict(
        LineSpan.objects.filter(ticket_id__in=ids, assignee__isnull=False)
        .values("ticket_id")
        .annotate(first=Min("started_at"))
        .values_list("ticket_id", "first")
    )
    return [(row, facts_of(row, spans.get(row["id"], []), taken.get(row["id"]))) for row in rows]


def _clock_row(
    ticket_id: int, clock: clock_rules.Clock, policy: SlaPolicy, calendar_name: str, now
) -> SlaClock:
    return SlaClock(
        ticket_id=ticket_id,
        metric=clock.metric,
        policy=policy,
        calendar_name=calendar_name,
        target_minutes=int(clock.target.total_seconds() // 60),
        state=clock.state,
        started_at=clock.started_at,
        elapsed_seconds=int(clock.elapsed.total_seconds()),
        stopped_at=clock.stopped_at,
        deadline=clock.deadline,
        breached_at=clock.breached_at,
        warn_at=clock.warn_at,
        critical_at=clock.critical_at,
        computed_at=now,
    )


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
    ctx: _Context, loaded: list[tuple[dict[str, Any], clock_rules.TicketFacts]]
) -> dict[int, tuple[list[SlaClock], list[SlaClock]]]:
    """Compute and write the clocks of the loaded tickets; returns (old, new) per ticket."""
    ids = [row["id"] for row, _facts in loaded]
    existing: dict[int, dict[str, SlaClock]] = defaultdict(dict)
    for clock in SlaClock.objects.filter(ticket_id__in=ids):
        existing[clock.ticket_id][clock.metric] = clock
    rows: list[SlaClock] = []
    summaries: dict[int, tuple[datetime.datetime | None, str]] = {}
    result: dict[int, tuple[list[SlaClock], list[SlaClock]]] = {}
    for row, facts in loaded:
        ticket_id = row["id"]
        old = existing.get(ticket_id, {})
        policy = ctx.policy(row)
        new: list[SlaClock] = []
        if policy is not None:
            calendar_name, calendar = ctx.calendar(row)
            computed = clock_rules.compute_clocks(calendar, facts, targets_of(policy), now=ctx.now)
            for clock in computed:
                fresh = _clock_row(ticket_id, clock, policy, calendar_name, ctx.now)
                previous = old.get(clock.metric)
                if previous is not None:
                    # Alerts already sent stay sent, unless the clock moved back under the
                    # threshold (a longer target, a pause): then the next pass may alert again.
                    fresh.alert_level = _kept_alert_level(previous.alert_level, fresh, ctx.now)
                new.append(fresh)
        rows += new
        summaries[ticket_id] = ticket_summary(new, ctx.now)
        result[ticket_id] = (list(old.values()), new)
    # Replace rather than update: one DELETE and a multi-row INSERT are far cheaper than an
    # UPDATE per row, and clock rows are derived data that nothing else refers to.
    if existing:
        SlaClock.objects.filter(ticket_id__in=ids).delete()
    SlaClock.objects.bulk_create(rows, batch_size=2000)
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
    *, ticket: Ticket, reason: str = "", now: datetime.datetime | None = None
) -> list[SlaClock]:
    """Recompute one ticket's clocks; a change of policy or target is shown on the ticket."""
    ctx = _Context.new(now)
    old, new = _store(ctx, _load([ticket.pk]))[ticket.pk]
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
                "policy": [str(previous.policy or ""), str(clock.policy or "")],
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


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def clocks_recompute(
    *,
    ticket_ids: Iterable[int] | None = None,
    open_only: bool = False,
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
            _store(ctx, _load(ids))
        done += len(ids)
        last = ids[-1]
        if report:
            report(done)


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
