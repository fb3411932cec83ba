"""The demo world follows the seed document and can be built again without duplicates."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from arende.core.models import AuditEvent, Organisation, RoleAssignment, User
from arende.people.models import Employment
from arende.servicedesk.models import SupportGroup

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_seed_world_once(capsys):
    call_command("seed_demo")
    first_output = capsys.readouterr().out
    counts = (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo")
    assert (
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEvent.objects.count(),
    ) == counts

    herrljunga = Organisation.objects.get(name="Herrljunga kommun")
    assert herrljunga.org_number == "212000-1520"
    board = Organisation.objects.get(kind="joint_board")
    assert board.host == herrljunga
    assert Organisation.objects.get(name="Vårgårda kommun").departments.exists()

    # Ten staff in the IT unit (plus the intern), two of them in reception and switchboard.
    staff = Employment.objects.exclude(form="intern")
    assert staff.count() == 10
    assert sorted(e.rate_percent for e in staff if e.rate_percent < 100) == [60, 80, 90]
    assert RoleAssignment.objects.filter(role__code="switchboard").count() == 2
    assert set(Employment.objects.values_list("form", flat=True)) >= {
        "labour_market",
        "fixed_term",
        "intern",
    }
    for code in ("manager", "architect", "controller", "change_manager", "incident_manager"):
        assert RoleAssignment.objects.filter(role__code=code, organisation__isnull=True).exists()
    assert set(SupportGroup.objects.values_list("line", flat=True)) == {1, 2}
    # Requesters in every municipality.
    for name in ("Herrljunga kommun", "Vårgårda kommun"):
        assert (
            RoleAssignment.objects.filter(role__code="requester", organisation__name=name).count()
            >= 10
        )
    # The demo world was built through the services, so the audit log tells it.
    assert (
        AuditEvent.objects.filter(action="create", content_type__model="user").count()
        == User.objects.count()
    )
    assert "sara.lindqvist@it.herrljunga.example" in first_output


def test_every_printed_demo_login_works(client, capsys):
    call_command("seed_demo")
    capsys.readouterr()
    call_command("seed_demo", "--if-empty")
    output = capsys.readouterr().out
    emails = [
        line.split()[0]
        for line in output.splitlines()
        if "@" in line.split(" ")[-1] or (line.startswith("  ") and "@" in line)
    ]
    assert len(emails) >= 15
    for email in emails:
        assert client.login(username=email, password="arende-demo"), email
        assert client.get("/").status_code == 200
        client.logout()
