"""The administration of SLA policies: pause statuses as checkboxes; clocks read only."""

from __future__ import annotations

import pytest

from arende.core.tests.factories import UserFactory
from arende.sla.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_a_policy_is_saved_with_its_pause_statuses_and_clocks_are_read_only(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/sla/slapolicy/add/",
        {
            "name": "Skolor",
            "order": 50,
            "kind": "",
            "first_response_minutes": 60,
            "resolution_minutes": 480,
            "warn_at_percent": 75,
            "second_warn_at_percent": 90,
            "pause_statuses": ["waiting_supplier"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SlaPolicy.objects.get(name="Skolor").pause_statuses == ["waiting_supplier"]
    assert client.get("/admin/sla/slaclock/add/").status_code == 403
