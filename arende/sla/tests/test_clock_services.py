"""Clocks kept by the ticket services: pauses, retroactive recalculation, alerts exactly once."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import Ticket, TicketActivity
from arende.servicedesk.tests.factories import SupportGroupFactory
from arende.sla import clocks
from arende.sla.models import Calendar, CalendarException, SlaClock, SlaPolicy, StatusSpan
from arende.sla.services import (
    clocks_recompute,
    sla_alerts_send,
    status_spans_rebuild,
    ticket_clocks_refresh,
)
from arende.sla.signals import sla_alert

pytestmark = pytest.mark.django_db
Status = Ticket.Status
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def desk():
    herrljunga = OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it), "agent")
    colleague = grant(UserFactory(organisation=it), "agent")
    manager = grant(UserFactory(organisation=it), "manager")
    first = SupportGroupFactory(name="Servicedesk", line=1, members=[agent, colleague])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    # Round the clock, so that the assertions do not depend on when the test runs.
    Calendar.objects.create(name="Dygnet runt", always_open=True)
    policy = SlaPolicy.objects.create(
        name="Standard", order=100, first_response_minutes=8 * 60, resolution_minutes=24 * 60
    )
    urgent = SlaPolicy.objects.create(
        name="Prio 1", order=10, priority=1, first_response_minutes=30, resolution_minutes=4 * 60
    )
    return dict(
        agent=agent,
        colleague=colleague,
        manager=manager,
        first=first,
        requester=requester,
        policy=policy,
        urgent=urgent,
    )


def _ticket(desk, **kwargs) -> Ticket:
    values = dict(
        actor=desk["requester"],
        channel="portal",
        title="Skrivaren skriver inte ut",
        requester=desk["requester"],
        impact=3,
        urgency=3,
    )
    values.update(kwargs)
    return services.ticket_create(**values)


def _clock(ticket: Ticket, metric: str = clocks.RESOLUTION) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric=metric)


def test_a_new_ticket_gets_its_clocks_and_the_queue_fields(desk):
    ticket = _ticket(desk)
    resolution = _clock(ticket)
    assert resolution.policy == desk["policy"]
    assert resolution.state == clocks.RUNNING
    assert resolution.deadline == ticket.created_at + 24 * HOUR
    assert _clock(ticket, clocks.FIRST_RESPONSE).deadline == ticket.created_at + 8 * HOUR
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ticket.created_at + 8 * HOUR  # the earliest running deadline
    assert ticket.sla_state == "running"


def test_waiting_for_the_requester_pauses_every_clock_and_moves_the_deadline(desk):
    ticket = _ticket(desk)
    before = _clock(ticket).deadline
    services.ticket_set_status(
        actor=desk["agent"], ticket=ticket, version=None, status=Status.WAITING_REQUESTER
    )
    assert {c.state for c in SlaClock.objects.filter(ticket=ticket)} == {clocks.PAUSED}
    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_state) == (None, "paused")

    services.ticket_reply(actor=desk["requester"], ticket=ticket, body="Nu har jag startat om.")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # the requester's answer resumes the ticket
    pause = StatusSpan.objects.get(ticket=ticket, status=Status.WAITING_REQUESTER)
    after = _clock(ticket)
    assert after.state == clocks.RUNNING
    assert after.deadline == before + (pause.ended_at - pause.started_at)


def test_a_priority_change_recomputes_the_clocks_and_says_so_on_the_ticket(desk):
    ticket = _ticket(desk)
    services.ticket_update(actor=desk["agent"], ticket=ticket, version=None, impact=1, urgency=1)
    clock = _clock(ticket)
    assert clock.policy == desk["urgent"]
    assert clock.deadline == ticket.created_at + 4 * HOUR  # counted from creation, not now
    note = TicketActivity.objects.get(ticket=ticket, data__event="sla_recalculated")
    assert note.is_public is False
    change = note.data["clocks"][clocks.RESOLUTION]
    assert change["target_minutes"] == [24 * 60, 4 * 60]
    assert change["policy"] == ["Standard", "Prio 1"]


def test_resolving_stops_and_reopening_resumes_the_resolution_clock(desk):
    ticket = _ticket(desk)
    services.ticket_resolve(actor=desk["agent"], ticket=ticket, version=None, resolution="Klart")
    stopped = _clock(ticket)
    assert stopped.state == clocks.MET and stopped.stopped_at is not None
    assert _clock(ticket, clocks.FIRST_RESPONSE).state == clocks.MET
    services.ticket_reopen(actor=desk["requester"], ticket=ticket, reason="Fungerar inte ändå")
    resumed = _clock(ticket)
    assert resumed.state == clocks.RUNNING and resumed.stopped_at is None
    assert resumed.elapsed_seconds >= stopped.elapsed_seconds


def test_a_calendar_change_recomputes_open_tickets(desk, django_capture_on_commit_callbacks):
    ticket = _ticket(desk)
    with django_capture_on_commit_callbacks(execute=True):
        office = Calendar.objects.get(name="Dygnet runt")
        office.always_open = False
        office.save()
    clock = _clock(ticket)
    # Office hours: 24 business hours is more than three working days away.
    assert clock.deadline - ticket.created_at > 3 * 24 * HOUR


def test_a_closed_day_added_afterwards_moves_deadlines_that_cross_it(desk):
    Calendar.objects.filter(name="Dygnet runt").update(always_open=False)
    ticket = _ticket(desk)
    ticket_clocks_refresh(ticket=ticket)
    before = _clock(ticket).deadline
    day = timezone.localtime(before).date()
    CalendarException.objects.create(
        calendar=Calendar.objects.get(name="Dygnet runt"), date=day, note="Personaldag"
    )
    clocks_recompute(open_only=True)
    assert _clock(ticket).deadline > before


def test_alerts_are_sent_once_to_assignee_group_and_for_priority_one_the_manager(desk):
    ticket = _ticket(desk, impact=1, urgency=1)
    services.ticket_assign(
        actor=desk["agent"],
        ticket=ticket,
        version=None,
        group=desk["first"],
        assignee=desk["agent"],
    )
    received = []

    def listener(sender, **kwargs):
        received.append((kwargs["metric"], kwargs["level"], kwargs["recipients"]))

    sla_alert.connect(listener)
    try:
        # Taking the ticket answered it; the resolution clock (4 h) is what can alert now.
        assert sla_alerts_send(now=ticket.created_at + 2 * HOUR) == 0
        warning_time = ticket.created_at + datetime.timedelta(minutes=185)  # past 75 % of 4 h
        assert sla_alerts_send(now=warning_time) == 1
        assert sla_alerts_send(now=warning_time) == 0  # once
        metric, level, recipients = received[0]
        assert (metric, level) == (clocks.RESOLUTION, "warning")
        assert set(recipients) == {desk["agent"], desk["colleague"], desk["manager"]}
        # Past the critical threshold and the deadline at once: only the breach alert.
        assert sla_alerts_send(now=ticket.created_at + 5 * HOUR) == 1
        assert [(m, lvl) for m, lvl, _r in received[1:]] == [(clocks.RESOLUTION, "breached")]
    finally:
        sla_alert.disconnect(listener)
    recorded = TicketActivity.objects.filter(ticket=ticket, data__event="sla_alert")
    assert recorded.count() == 2
    ticket.refresh_from_db()
    assert ticket.sla_state == "breached"


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_alert_once(desk):
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent connections")
    tickets = [_ticket(desk) for _ in range(6)]
    now = max(t.created_at for t in tickets) + 30 * HOUR
    counts: list[int] = []
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        try:
            counts.append(sla_alerts_send(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Two clocks per ticket, each breached: twelve alerts in all, whoever sent them.
    assert sum(counts) == 12
    assert TicketActivity.objects.filter(data__event="sla_alert").count() == 12


def test_status_history_rebuilt_from_the_timeline_gives_the_same_clocks(desk):
    ticket = _ticket(desk)
    services.ticket_set_status(
        actor=desk["agent"], ticket=ticket, version=None, status=Status.WAITING_SUPPLIER
    )
    services.ticket_set_status(
        actor=desk["agent"], ticket=ticket, version=None, status=Status.IN_PROGRESS
    )
    services.ticket_resolve(actor=desk["agent"], ticket=ticket, version=None, resolution="Klart")
    kept = list(StatusSpan.objects.filter(ticket=ticket).values_list("status", flat=True))
    before = _clock(ticket)
    status_spans_rebuild(ticket_ids=[ticket.pk])
    rebuilt = list(StatusSpan.objects.filter(ticket=ticket).values_list("status", flat=True))
    assert rebuilt == kept == ["new", "waiting_supplier", "in_progress", "resolved"]
    clocks_recompute(ticket_ids=[ticket.pk])
    after = _clock(ticket)
    assert (after.state, after.elapsed_seconds, after.stopped_at) == (
        before.state,
        before.elapsed_seconds,
        before.stopped_at,
    )


def test_taking_the_ticket_counts_as_the_first_response(desk):
    ticket = _ticket(desk)
    assert _clock(ticket, clocks.FIRST_RESPONSE).state == clocks.RUNNING
    services.ticket_assign(
        actor=desk["agent"],
        ticket=ticket,
        version=None,
        group=desk["first"],
        assignee=desk["agent"],
    )
    response = _clock(ticket, clocks.FIRST_RESPONSE)
    assert response.state == clocks.MET and response.stopped_at is not None
    assert _clock(ticket).state == clocks.RUNNING  # resolution goes on


def test_time_left_for_a_page_of_tickets_in_business_time(desk, django_assert_max_num_queries):
    from arende.sla.selectors import time_left_for
    from arende.sla.templatetags.sla import business_duration

    running = _ticket(desk)
    paused = _ticket(desk)
    services.ticket_set_status(
        actor=desk["agent"], ticket=paused, version=None, status=Status.WAITING_SUPPLIER
    )
    tickets = list(Ticket.objects.filter(pk__in=[running.pk, paused.pk]))
    now = running.created_at + 3 * HOUR
    with django_assert_max_num_queries(3):
        left = time_left_for(tickets, now=now)
    # Round the clock: the first-response deadline (8 h) is 5 h away.
    assert left[running.pk] == 5 * 3600
    paused_clock = _clock(paused)
    assert left[paused.pk] == min(
        c.target_minutes * 60 - c.elapsed_seconds
        for c in SlaClock.objects.filter(ticket=paused, state=clocks.PAUSED)
    )
    assert paused_clock.state == clocks.PAUSED
    assert business_duration(9000) == "2 h 30 min"
    assert business_duration(-300).startswith("5 min")
    assert business_duration(99 * 3600 + 59 * 60) == "99 h 59 min"
    assert business_duration(100 * 3600 + 59 * 60) == "100 h"
    assert business_duration(-(9329 * 3600 + 55 * 60)).startswith("9\u00a0329 h ")


def test_time_left_follows_a_calendar_change_at_once(desk, django_assert_num_queries):
    """Pages read the calendars from the cache; a change to one shows on the next page."""
    from arende.sla.selectors import time_left_for

    ticket = _ticket(desk)
    tickets = list(Ticket.objects.filter(pk=ticket.pk))
    deadline = tickets[0].sla_due_at
    now = deadline - 4 * HOUR
    assert time_left_for(tickets, now=now)[ticket.pk] == 4 * 3600
    with django_assert_num_queries(0):  # the calendars are cached now
        time_left_for(tickets, now=now)
    calendar = Calendar.objects.get(name="Dygnet runt")
    calendar.always_open = False  # office hours: the four hours are no longer all counted
    calendar.save()
    assert time_left_for(tickets, now=now)[ticket.pk] != 4 * 3600
    calendar.always_open = True
    calendar.save()
    assert time_left_for(tickets, now=now)[ticket.pk] == 4 * 3600


def test_a_new_calendar_exception_makes_pages_read_the_calendars_again(desk):
    from django.core.cache import cache

    from arende.sla.selectors import CALENDARS, CalendarBook

    CalendarBook.for_display()
    generation = cache.get(CALENDARS.generation_key)
    calendar = Calendar.objects.get(name="Dygnet runt")
    CalendarException.objects.create(calendar=calendar, date=datetime.date(2026, 12, 28))
    assert cache.get(CALENDARS.generation_key) != generation
