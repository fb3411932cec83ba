from __future__ import annotations

import pytest

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk.models import Service
from arende.servicedesk.tests.factories import SupportGroupFactory


@pytest.fixture
def ops(db):
    """Two municipalities, the IT unit's people, three services and a requester in each."""
    herrljunga = OrganisationFactory(name="Herrljunga kommun", short_name="Herrljunga")
    vargarda = OrganisationFactory(name="Vårgårda kommun", short_name="Vårgårda")
    it = OrganisationFactory(kind="joint_board", org_number="", short_name="IT")
    incident_manager = grant(UserFactory(organisation=it), "incident_manager")
    change_manager = grant(UserFactory(organisation=it), "change_manager")
    manager = grant(UserFactory(organisation=it), "manager")
    agent = grant(UserFactory(organisation=it), "agent")
    specialist = grant(UserFactory(organisation=it), "specialist")
    vargarda_im = grant(UserFactory(organisation=vargarda), "incident_manager", vargarda)
    SupportGroupFactory(name="Servicedesk", line=1, members=[agent])
    requesters = [
        grant(UserFactory(organisation=herrljunga), "requester", herrljunga) for _ in range(3)
    ]
    vargarda_requester = grant(UserFactory(organisation=vargarda), "requester", vargarda)
    phone = Service.objects.create(name="Telefoni och växel")
    internet = Service.objects.create(name="Internet")
    mail = Service.objects.create(name="E-post")
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        it=it,
        im=incident_manager,
        cm=change_manager,
        manager=manager,
        agent=agent,
        specialist=specialist,
        vargarda_im=vargarda_im,
        requesters=requesters,
        vargarda_requester=vargarda_requester,
        phone=phone,
        internet=internet,
        mail=mail,
    )
