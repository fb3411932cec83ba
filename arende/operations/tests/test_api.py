"""The operations API: same scoping as the pages, writes through the services, in the schema."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from arende.operations.models import Change, MajorIncident
from arende.servicedesk.services import tickets as ticket_services

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_major_incident_through_the_api(ops):
    client = _client(ops["im"])
    first = ticket_services.ticket_create(
        actor=ops["requesters"][0], channel="portal", title="Växeln", requester=ops["requesters"][0]
    )
    response = client.post(
        "/api/major-incidents/",
        {
            "title": "Växeln nere",
            "services": [ops["phone"].pk],
            "parent_ticket": first.reference,
            "public_title": "Störning i telefonin",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["parent_ticket"] == first.reference
    child = ticket_services.ticket_create(
        actor=ops["requesters"][1], channel="portal", title="Ring", requester=ops["requesters"][1]
    )
    response = client.post(f"/api/major-incidents/{pk}/link-ticket/", {"ticket": child.reference})
    assert response.status_code == 200 and response.json()["children"] == [child.reference]
    response = client.post(
        f"/api/major-incidents/{pk}/timeline/add/", {"kind": "update", "body": "Vi felsöker."}
    )
    assert response.status_code == 201
    response = client.post(f"/api/major-incidents/{pk}/status/", {"status": "identified"})
    assert response.status_code == 200 and response.json()["version"] == 2
    response = client.post(
        f"/api/major-incidents/{pk}/resolve/", {"resolution": "Löst.", "version": 1}
    )
    assert response.status_code == 409
    version = MajorIncident.objects.get(pk=pk).version
    response = client.post(
        f"/api/major-incidents/{pk}/resolve/", {"resolution": "Löst.", "version": version}
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    response = client.patch(f"/api/major-incidents/{pk}/review/", {"cause": "Ström"}, format="json")
    assert response.status_code == 200 and response.json()["cause"] == "Ström"
    response = client.post(
        f"/api/major-incidents/{pk}/review/actions/",
        {"description": "Köp reserv", "owner": ops["manager"].pk, "due_date": "2030-01-01"},
    )
    assert response.status_code == 201
    assert client.post(f"/api/major-incidents/{pk}/review/complete/", {}).status_code == 200
    assert len(client.get("/api/major-incidents/").json()["results"]) == 1

    # Another municipality sees nothing; a requester neither; an agent may read, not resolve.
    assert _client(ops["vargarda_im"]).get(f"/api/major-incidents/{pk}/").status_code == 404
    assert _client(ops["requesters"][0]).get("/api/major-incidents/").json()["results"] == []
    agent = _client(ops["agent"])
    assert agent.get(f"/api/major-incidents/{pk}/").status_code == 200
    response = agent.post(
        "/api/major-incidents/", {"title": "X", "services": [ops["phone"].pk]}, format="json"
    )
    assert response.status_code == 403


def test_change_through_the_api_and_figures(ops):
    start = timezone.now() + datetime.timedelta(days=1)
    client = _client(ops["specialist"])
    response = client.post(
        "/api/changes/",
        {
            "title": "Uppgradera växeln",
            "type": "emergency",
            "description": "Akut säkerhetsrättning",
            "organisations": [ops["herrljunga"].pk],
            "services": [ops["phone"].pk],
            "planned_start": start.isoformat(),
            "planned_end": (start + datetime.timedelta(hours=1)).isoformat(),
            "implementation_plan": "Patcha",
            "backout_plan": "Avinstallera",
            "risk_answers": {"many_users": True},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["risk_level"] == "medium"
    assert client.post(f"/api/changes/{pk}/submit/", {}).json()["status"] == "submitted"
    assert client.post(f"/api/changes/{pk}/decide/", {"approve": True}).status_code == 403
    response = _client(ops["manager"]).post(f"/api/changes/{pk}/decide/", {"approve": True})
    assert response.json()["status"] == "approved"
    client.post(f"/api/changes/{pk}/start/", {})
    response = client.post(f"/api/changes/{pk}/implement/", {"notes": "Klart"})
    assert response.json()["status"] == "implemented"
    response = _client(ops["cm"]).post(f"/api/changes/{pk}/review/", {"outcome": "successful"})
    assert response.json()["status"] == "reviewed"
    assert Change.objects.get(pk=pk).outcome == "successful"

    year = timezone.localdate().year
    figures = _client(ops["manager"]).get(f"/api/operations/figures/?year={year}").json()
    month = timezone.localtime(Change.objects.get(pk=pk).actual_start).month
    row = figures["changes"][month - 1]
    assert row["started"] == 1 and row["successful_share"] == 1.0
    availability = _client(ops["manager"]).get(
        f"/api/operations/availability/?service={ops['phone'].pk}&year=2021"
    )
    assert availability.status_code == 200 and len(availability.json()["months"]) == 12
    assert _client(ops["requesters"][0]).get("/api/operations/figures/").status_code == 403


def test_schema_lists_the_operations_endpoints(ops):
    client = _client(ops["manager"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/major-incidents/", "/api/changes/", "/api/problems/", "/api/maintenance/",
                 "/api/operations/figures/"):  # fmt: skip
        assert path in schema


def test_change_edit_through_the_api_is_scoped(ops):
    start = timezone.now() + datetime.timedelta(days=1)
    client = _client(ops["specialist"])
    created = client.post(
        "/api/changes/",
        {
            "title": "Ny brandvägg", "type": "normal", "description": "Byt",
            "organisations": [ops["herrljunga"].pk], "services": [ops["internet"].pk],
            "planned_start": start.isoformat(),
            "planned_end": (start + datetime.timedelta(hours=1)).isoformat(),
        },
        format="json",
    ).json()  # fmt: skip
    response = client.patch(
        f"/api/changes/{created['id']}/",
        {
            "version": created["version"],
            "backout_plan": "Tillbaka",
            "risk_answers": {"no_backout": True},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["risk_level"] == "medium" and response.json()["version"] == 2
    assert _client(ops["vargarda_im"]).get(f"/api/changes/{created['id']}/").status_code == 404
    stale = client.patch(
        f"/api/changes/{created['id']}/", {"version": 1, "title": "X"}, format="json"
    )
    assert stale.status_code == 409
