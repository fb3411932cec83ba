"""The demo history: the backlog's story, its realism, and the two ways of writing it."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db.models import Sum

from arende.core.demo import history
from arende.core.demo.seed import seed_demo
from arende.core.models import AuditEvent
from arende.servicedesk.models import (
    BacklogSnapshot,
    Category,
    LineSpan,
    RequestType,
    SatisfactionRating,
    Ticket,
    TicketActivity,
)
from arende.sla.models import SlaClock
from arende.sla.services import clocks_recompute, status_spans_rebuild

pytestmark = pytest.mark.django_db

START, END = datetime.date(2021, 3, 1), datetime.date(2021, 5, 31)


@pytest.fixture
def world(settings):
    settings.DEMO_HISTORY = False  # seed the people only; each test makes its own history
    seed_demo(password="arende-demo")
    assert not Ticket.objects.exists()


def _backlog() -> list[tuple[datetime.date, int]]:
    return list(
        BacklogSnapshot.objects.values("day")
        .annotate(n=Sum("open_count"))
        .order_by("day")
        .values_list("day", "n")
    )


def test_a_short_history_rises_then_falls_and_is_made_once(world):
    result = history.seed_history(start=START, end=END, volume=0.2, services_days=10)
    assert not result.skipped
    assert 0 < result.through_services < result.tickets

    backlog = _backlog()
    days = (END - START).days + 1
    assert [day for day, _n in backlog] == [
        START + datetime.timedelta(days=i) for i in range(days)
    ]  # a snapshot for every day
    totals = [n for _day, n in backlog]
    peak = max(range(days), key=totals.__getitem__)
    assert days * 0.2 < peak < days * 0.6  # the peak comes in spring...
    assert totals[0] < totals[peak] * 0.8  # ...after a rise...
    assert totals[-1] < totals[peak] * 0.5  # ...and the backlog falls to under half of it.
    # The snapshot of the last day agrees with the tickets' status today.
    assert totals[-1] == Ticket.objects.exclude(status__in=Ticket.CLOSED_STATUSES).count()

    again = history.seed_history(start=START, end=END, volume=0.2)
    assert again.skipped
    assert _backlog() == backlog


def test_the_history_looks_like_a_municipal_service_desk(world):
    history.seed_history(start=START, end=END, volume=0.2, services_days=10)
    tickets = Ticket.objects.all()
    resolved = tickets.filter(resolved_at__isnull=False)
    first_line = resolved.filter(resolved_in_first_line=True).count() / resolved.count()
    assert 0.55 < first_line < 0.8
    ratings = Counter(SatisfactionRating.objects.values_list("score", flat=True))
    assert (ratings[4] + ratings[5]) / sum(ratings.values()) > 0.6
    assert set(Category.objects.values_list("name", flat=True)) >= {
        "Konto och behörighet",
        "Skrivare",
        "Telefoni och växel",
        "E-post",
        "Verksamhetssystem",
        "Nätverk och wifi",
        "Hårdvara",
        "Beställning",
    }
    new_employee = RequestType.objects.get(name="Ny medarbetare")
    assert new_employee.approval == "department_manager" and len(new_employee.fields) >= 4
    assert RequestType.objects.get(name="Ny mobiltelefon").approver_role.code == "manager"
    assert tickets.filter(request_type=new_employee, status="closed").exists()
    # Working days bring 20–30 tickets at full volume; here a fifth of that.
    per_day = Counter(
        t.date()
        for t in tickets.filter(created_at__date__gte=START).values_list("created_at", flat=True)
    )
    working = [n for day, n in per_day.items() if history.is_working_day(day)]
    assert 3 <= sum(working) / len(working) <= 7
    # Both municipalities, several channels, every step of the workflow.
    assert tickets.values("organisation").distinct().count() == 2
    assert {"portal", "email", "phone"} <= set(tickets.values_list("channel", flat=True))
    assert {"closed", "resolved", "cancelled", "new", "assigned"} & set(
        tickets.values_list("status", flat=True)
    ) >= {"closed", "resolved"}
    assert tickets.filter(escalated_at__isnull=False, status="closed").exists()
    # Open tickets and the last days went through the services, with their audit trail.
    recent = tickets.filter(created_at__date__gt=END - datetime.timedelta(days=5)).first()
    assert AuditEvent.objects.filter(object_id=str(recent.pk), verb="").exists() or (
        AuditEvent.objects.filter(object_id=str(recent.pk)).exists()
    )
    assert AuditEvent.objects.filter(verb="demo_history").count() == 1
    # References run in order of creation, per year, and the counter continues after them.
    ordered = list(tickets.order_by("created_at", "pk").values_list("reference", flat=True))
    assert ordered == sorted(ordered)
    from arende.servicedesk.models import TicketCounter

    assert (
        TicketCounter.objects.get(year=2021).last_number
        == tickets.filter(reference__startswith="2021-").count()
    )


def test_the_plan_is_the_same_every_time(world):
    cast = history._cast()
    plans = [
        history.Planner(cast, start=START, end=END, volume=0.2, seed=7).run() for _ in range(2)
    ]
    signature = [
        [(p.created_at, p.title, p.resolve_at, p.escalate_at, p.rating) for p in run]
        for run in plans
    ]
    assert signature[0] == signature[1]


def _rows(ticket: Ticket) -> dict:
    fields = [
        f.attname for f in Ticket._meta.concrete_fields if f.attname not in ("id", "reference")
    ]
    values = Ticket.objects.filter(pk=ticket.pk).values(*fields).get()
    spans = list(
        LineSpan.objects.filter(ticket=ticket)
        .order_by("started_at", "id")
        .values_list(
            "line", "group_id", "assignee_id", "reason", "note", "started_at", "ended_at", "by_id"
        )
    )
    activities = list(
        TicketActivity.objects.filter(ticket=ticket)
        .order_by("at", "id")
        .values_list("kind", "at", "actor_id", "is_public", "body", "data", "channel")
    )
    rating = list(
        SatisfactionRating.objects.filter(ticket=ticket).values_list("score", "comment", "rated_at")
    )
    clocks = list(
        SlaClock.objects.filter(ticket=ticket)
        .order_by("metric")
        .values_list("metric", "state", "started_at", "elapsed_seconds", "stopped_at", "deadline")
    )
    return {
        "ticket": values,
        "spans": spans,
        "activities": activities,
        "rating": rating,
        "clocks": clocks,
    }


def test_bulk_writer_writes_exactly_what_the_services_write(world):
    """The old, finished tickets are written in bulk; this proves they look the same."""
    cast = history._cast()
    plans = history.Planner(cast, start=START, end=END, volume=0.2, seed=11).run()
    finished = [p for p in plans if p.resolve_at or p.cancel_at]
    chosen = []
    wanted = {
        "escalated, rated and closed": lambda p: p.escalate_at and p.rating and p.close_at,
        "first line": lambda p: not p.escalate_at and p.resolve_at,
        "cancelled": lambda p: p.cancel_at,
        "approved request": lambda p: p.approve_at and p.resolve_at,
        "monitoring": lambda p: p.requester is None,
        "in progress first": lambda p: p.progress_at and p.resolve_at,
    }
    for name, test in wanted.items():
        plan = next((p for p in finished if test(p)), None)
        assert plan is not None, name
        chosen.append(plan)

    backdate = history.Backdater()
    by_services = [history.replay(plan, backdate) for plan in chosen]
    bulk = history.BulkWriter()
    for index, plan in enumerate(chosen):
        bulk.add(plan, f"1999-{index + 1:06d}")
    bulk.write()
    # As seed_history does: the SLA history and clocks from the (back-dated) timelines.
    ids = list(Ticket.objects.values_list("pk", flat=True))
    status_spans_rebuild(ticket_ids=ids)
    clocks_recompute(ticket_ids=ids)
    in_bulk = Ticket.objects.filter(reference__startswith="1999-").order_by("reference")
    assert SlaClock.objects.filter(ticket__in=in_bulk).exists()

    for plan, one, other in zip(chosen, by_services, in_bulk, strict=True):
        assert _rows(one) == _rows(other), plan.title
