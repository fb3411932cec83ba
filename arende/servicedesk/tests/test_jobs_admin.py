"""The hourly close job, and that the catalogue is configurable (and audited) in the admin."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from arende.core.models import AuditEvent
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import jobs, services
from arende.servicedesk.models import PriorityRule, Ticket
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db


def test_the_hourly_job_closes_old_resolved_tickets():
    org = OrganisationFactory()
    agent = grant(UserFactory(organisation=org), "agent")
    SupportGroupFactory(line=1, members=[agent])
    ticket = services.ticket_create(
        actor=agent, channel="phone", title="Skärm", requester=UserFactory(organisation=org)
    )
    ticket = services.ticket_resolve(actor=agent, ticket=ticket, version=1, resolution="Bytt")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - datetime.timedelta(days=10)
    )
    jobs.close_resolved_tickets.call_local()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_the_priority_matrix_is_configurable_in_the_admin_and_audited(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/servicedesk/priorityrule/add/", {"impact": 3, "urgency": 3, "priority": 3}
    )
    assert response.status_code == 302, response.content[:500]
    assert services.priority_for(3, 3) == 3
    assert PriorityRule.objects.count() == 1
    assert AuditEvent.objects.filter(action="create", content_type__model="priorityrule").exists()
    assert client.get("/admin/servicedesk/service/").status_code == 200
