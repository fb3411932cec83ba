"""Recomputing many tickets' clocks after a calendar change: the same clocks as computing each
ticket afresh, and clocks the change does not touch are not rewritten."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import Ticket
from arende.sla import clocks
from arende.sla.models import Calendar, CalendarException, SlaClock, SlaPolicy, StatusSpan
from arende.sla.services import clocks_recompute, ticket_clocks_refresh

pytestmark = pytest.mark.django_db
STHLM = ZoneInfo("Europe/Stockholm")
Status = Ticket.Status

# Evenings, when the office calendar is closed: open clocks count nothing between the two.
FIRST_PASS = datetime.datetime(2025, 3, 20, 20, 0, tzinfo=STHLM)
SECOND_PASS = FIRST_PASS + datetime.timedelta(minutes=30)
STAFF_DAY = datetime.date(2025, 3, 12)  # a Wednesday, closed afterwards


def local(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2025, 3, day, hour, tzinfo=STHLM)


@pytest.fixture
def office():
    Calendar.objects.create(name="Kontorstid", shortened_days=False)
    SlaPolicy.objects.create(
        name="Standard", order=100, first_response_minutes=8 * 60, resolution_minutes=24 * 60
    )
    SlaPolicy.objects.create(
        name="Prio 1",
        order=10,
        priority=1,
        first_response_minutes=60,
        resolution_minutes=4 * 60,
        second_line_resolution_minutes=2 * 60,
    )
    requester = grant(UserFactory(organisation=OrganisationFactory()), "requester")
    return requester


def _ticket(requester, created: datetime.datetime, *history, **fields) -> Ticket:
    """A ticket created at ``created`` whose status then changed as ``history`` says:
    (day, hour, status) steps."""
    ticket = services.ticket_create(
        actor=requester,
        channel="portal",
        title="Skrivaren skriver inte ut",
        requester=requester,
        impact=fields.pop("impact", 3),
        urgency=fields.pop("urgency", 3),
        created_at=created,
    )
    status, since = ticket.status, created
    StatusSpan.objects.filter(ticket=ticket).delete()
    for day, hour, new_status in history:
        at = local(day, hour)
        StatusSpan.objects.create(ticket=ticket, status=status, started_at=since, ended_at=at)
        status, since = new_status, at
        if new_status == Status.RESOLVED:
            fields["resolved_at"] = at
    StatusSpan.objects.create(ticket=ticket, status=status, started_at=since)
    Ticket.objects.filter(pk=ticket.pk).update(status=status, **fields)
    return ticket


def _stored() -> dict[tuple[int, str], dict]:
    return {
        (row["ticket_id"], row["metric"]): row
        for row in SlaClock.objects.values().order_by("ticket_id", "metric")
    }


def _derived(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("id", "computed_at")}


def test_recomputing_after_a_calendar_change_equals_fresh_clocks_and_leaves_the_rest(office):
    before_it = _ticket(office, local(3, 9), (4, 10, Status.RESOLVED))
    across_it = _ticket(office, local(11, 9), (11, 10, Status.IN_PROGRESS), (14, 11, "resolved"))
    open_across = _ticket(
        office,
        local(11, 14),
        (11, 15, Status.IN_PROGRESS),
        (13, 9, Status.WAITING_REQUESTER),
        (13, 11, Status.IN_PROGRESS),
        impact=1,
        urgency=1,
        escalated_at=local(11, 14),
    )
    open_after = _ticket(office, local(17, 9), (17, 10, Status.IN_PROGRESS))
    tickets = [before_it, across_it, open_across, open_after]

    clocks_recompute(now=FIRST_PASS)
    first = _stored()
    assert {c["computed_at"] for c in first.values()} == {FIRST_PASS}

    CalendarException.objects.create(
        calendar=Calendar.objects.get(name="Kontorstid"), date=STAFF_DAY, note="Personaldag"
    )
    clocks_recompute(now=SECOND_PASS)
    second = _stored()
    assert set(second) == set(first)

    # What changed is what crosses the closed day, and only that was written.
    moved = {key for key in second if _derived(second[key]) != _derived(first[key])}
    rewritten = {key for key, row in second.items() if row["computed_at"] == SECOND_PASS}
    assert moved == rewritten
    assert {ticket_id for ticket_id, _metric in moved} == {across_it.pk, open_across.pk}
    assert (open_across.pk, clocks.SECOND_LINE) in moved
    for key in set(second) - moved:
        assert second[key]["id"] == first[key]["id"]
        assert second[key]["computed_at"] == FIRST_PASS
    resolution = (across_it.pk, clocks.RESOLUTION)
    day = 7.5 * 3600  # the closed day's business time no longer counts
    assert second[resolution]["elapsed_seconds"] == first[resolution]["elapsed_seconds"] - day

    # Each ticket's clocks computed afresh, one by one, are the same as the recomputation's.
    SlaClock.objects.all().delete()
    for ticket in tickets:
        ticket_clocks_refresh(ticket=Ticket.objects.get(pk=ticket.pk), now=SECOND_PASS)
    fresh = _stored()
    assert {k: _derived(v) for k, v in fresh.items()} == {k: _derived(v) for k, v in second.items()}
    queue = dict(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("pk", "sla_due_at")
    )
    clocks_recompute(now=SECOND_PASS)
    assert {k: _derived(v) for k, v in _stored().items()} == {
        k: _derived(v) for k, v in fresh.items()
    }
    assert queue == dict(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("pk", "sla_due_at")
    )


def test_a_clock_the_policy_no_longer_has_is_removed_and_a_new_one_added(office):
    urgent = _ticket(
        office,
        local(11, 9),
        (11, 10, Status.IN_PROGRESS),
        impact=1,
        urgency=1,
        escalated_at=local(11, 9),
    )
    clocks_recompute(now=FIRST_PASS)
    assert SlaClock.objects.filter(ticket=urgent, metric=clocks.SECOND_LINE).exists()
    SlaPolicy.objects.filter(name="Prio 1").update(second_line_resolution_minutes=None)
    clocks_recompute(now=SECOND_PASS)
    assert not SlaClock.objects.filter(ticket=urgent, metric=clocks.SECOND_LINE).exists()
    SlaPolicy.objects.filter(name="Prio 1").update(second_line_resolution_minutes=120)
    clocks_recompute(now=SECOND_PASS)
    added = SlaClock.objects.get(ticket=urgent, metric=clocks.SECOND_LINE)
    assert (added.target_minutes, added.computed_at) == (120, SECOND_PASS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.django_db(transaction=True)  # the processes read what the test committed
def test_recomputing_in_parallel_processes_gives_the_same_clocks(office):
    from django.db import connection

    from arende.sla.services import clocks_recompute_parallel

    if connection.vendor == "sqlite":
        pytest.skip("the processes need a database server")
    for day in range(3, 28):
        if datetime.date(2025, 3, day).weekday() < 5:
            _ticket(office, local(day, 9), (day, 10, Status.IN_PROGRESS), (day + 1, 15, "resolved"))
    clocks_recompute()
    CalendarException.objects.create(
        calendar=Calendar.objects.get(name="Kontorstid"), date=STAFF_DAY, note="Personaldag"
    )
    assert clocks_recompute_parallel(workers=2) == Ticket.objects.count()
    parallel = {k: _derived(v) for k, v in _stored().items()}
    SlaClock.objects.all().delete()
    clocks_recompute()
    assert parallel == {k: _derived(v) for k, v in _stored().items()}
    assert len(parallel) == 2 * Ticket.objects.count()


def test_a_parallel_recomputation_inside_a_transaction_is_done_in_it(office):
    """Processes of their own would not see the transaction's rows (nor may they share its
    connection): inside one, the work is done in this process."""
    from django.db import connection

    from arende.sla.services import clocks_recompute_parallel

    _ticket(office, local(11, 9), (11, 10, Status.IN_PROGRESS))
    assert connection.in_atomic_block
    assert clocks_recompute_parallel(workers=2) == Ticket.objects.count() == 1
    assert SlaClock.objects.filter(ticket__in=Ticket.objects.all()).count() == 2


def test_an_alert_sent_while_the_clocks_are_recomputed_is_not_undone(office, monkeypatch):
    from django.db import connection

    from arende.sla import services as sla_services

    if connection.vendor == "sqlite":
        pytest.skip("SQLite takes one writer at a time")
    ticket = _ticket(office, local(11, 9), (11, 10, Status.IN_PROGRESS))
    clocks_recompute(now=FIRST_PASS)
    CalendarException.objects.create(
        calendar=Calendar.objects.get(name="Kontorstid"), date=STAFF_DAY, note="Personaldag"
    )
    write = sla_services._write_changed_clocks

    def alert_meanwhile(changed, now):
        assert changed  # the closed day moves the open ticket's clocks
        SlaClock.objects.filter(ticket=ticket).update(alert_level=1)  # as the alert job would
        write(changed, now)

    monkeypatch.setattr(sla_services, "_write_changed_clocks", alert_meanwhile)
    clocks_recompute(now=SECOND_PASS)
    assert set(SlaClock.objects.filter(ticket=ticket).values_list("alert_level", flat=True)) == {1}
