"""SLA on the agent's pages: the queue's column, sort and "about to breach" queue, the ticket's
clock panel and its timeline entries."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.models import Ticket
from arende.servicedesk.tests.factories import SupportGroupFactory
from arende.sla.models import Calendar, SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    herrljunga = OrganisationFactory()
    it = OrganisationFactory(kind="joint_board", org_number="")
    agent = grant(UserFactory(organisation=it), "agent")
    SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    Calendar.objects.create(name="Dygnet runt", always_open=True)
    SlaPolicy.objects.create(name="Standard", first_response_minutes=480, resolution_minutes=1440)
    SlaPolicy.objects.create(
        name="Kritisk", order=10, priority=1, first_response_minutes=30, resolution_minutes=240
    )

    def ticket(title: str, hours_ago: float, **extra) -> Ticket:
        return services.ticket_create(
            actor=requester,
            channel="portal",
            title=title,
            requester=requester,
            created_at=timezone.now() - datetime.timedelta(hours=hours_ago),
            **extra,
        )

    return dict(agent=agent, ticket=ticket)


def _references(response) -> list[str]:
    import re

    return re.findall(r'class="mono nowrap">(\d{4}-\d{6})<', response.content.decode())


def test_the_queue_shows_state_and_time_left_sorts_by_deadline_and_lists_near_breaches(
    client, desk
):
    late = desk["ticket"]("Servern svarar inte", 30)  # past both deadlines: breached
    soon = desk["ticket"]("Skrivaren", 7)  # 7 of 8 h to first response: past 75 %
    calm = desk["ticket"]("Ny skärm", 1)
    client.force_login(desk["agent"])
    response = client.get("/desk/", {"queue": "open", "sort": "sla"})
    assert _references(response) == [late.reference, soon.reference, calm.reference]
    body = response.content.decode()
    assert "sla--breached" in body and "sla--warning" in body and "sla--running" in body
    assert "6 h 59 min" in body or "7 h 0 min" in body  # the calm ticket's first response
    breach = client.get("/desk/", {"queue": "breach"})
    assert sorted(_references(breach)) == sorted([late.reference, soon.reference])


def test_the_ticket_page_shows_each_clock_and_a_recalculation(client, desk):
    ticket = desk["ticket"]("Växeln", 1)
    services.ticket_update(actor=desk["agent"], ticket=ticket, version=None, impact=1, urgency=1)
    client.force_login(desk["agent"])
    body = client.get(f"/desk/{ticket.reference}/").content.decode()
    assert 'class="card sla-clocks"' in body
    assert body.count('class="sla sla--') >= 2  # first response and resolution
    assert "Kritisk" in body  # the policy now in force, in the clock history
    assert "Standard" in body and "Kritisk" in body  # ... and the timeline's recalculation


def test_the_api_gives_staff_the_sla_deadline_and_state(client, desk):
    ticket = desk["ticket"]("Växeln", 1)
    client.force_login(desk["agent"])
    data = client.get(f"/api/tickets/{ticket.pk}/").json()
    ticket.refresh_from_db()
    assert data["sla_state"] == "running"
    assert data["sla_due_at"] is not None
    assert data["sla_due_at"].startswith(timezone.localtime(ticket.sla_due_at).strftime("%Y-%m-%d"))
