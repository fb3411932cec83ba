"""Resolving a major incident tells each requester once, however many of their tickets were
linked to it (the mail app coalesces the notifications of one transaction per recipient)."""

from __future__ import annotations

from email.utils import parseaddr

import pytest
from django.core import mail as django_mail

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.operations.services.incidents import (
    major_incident_declare,
    major_incident_link_ticket,
    major_incident_resolve,
)
from arende.servicedesk.models import Service
from arende.servicedesk.services import tickets as ticket_services
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_requester_hears_once_when_the_major_incident_is_resolved():
    herrljunga = OrganisationFactory(name="Herrljunga kommun", short_name="Herrljunga")
    lead = grant(UserFactory(organisation=herrljunga, email="im@it.example"), "incident_manager")
    SupportGroupFactory(name="Servicedesk", line=1, members=[lead])
    phone = Service.objects.create(name="Telefoni och växel")
    anna = UserFactory(organisation=herrljunga, email="anna@herrljunga.example")
    bo = UserFactory(organisation=herrljunga, email="bo@herrljunga.example")

    def report(who, title):
        return ticket_services.ticket_create(
            actor=who, channel="portal", title=title, requester=who, service=phone
        )

    first = report(anna, "Växeln svarar inte")
    incident = major_incident_declare(
        actor=lead, title="Växeln nere", services=[phone], parent_ticket=first
    )
    major_incident_link_ticket(actor=lead, incident=incident, ticket=report(anna, "Igen: växeln"))
    major_incident_link_ticket(actor=lead, incident=incident, ticket=report(bo, "Inga samtal in"))
    django_mail.outbox.clear()

    major_incident_resolve(
        actor=lead,
        incident=incident,
        version=None,
        resolution="Operatören har åtgärdat felet; samtal kopplas igen.",
    )
    addressed = sorted(parseaddr(m.to[0])[1] for m in django_mail.outbox)
    assert addressed == [anna.email, bo.email]  # Anna's two tickets: one mail
    assert "Operatören har åtgärdat felet" in django_mail.outbox[0].body
    assert "/portal/rate/" in django_mail.outbox[0].body  # each resolved ticket can be rated
