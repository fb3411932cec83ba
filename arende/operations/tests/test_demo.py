"""The demo's operations year 2021 (from the seed document) and its figures."""

from __future__ import annotations

import datetime

import pytest

from arende.core.demo.seed import seed_demo
from arende.operations import selectors
from arende.operations.demo import seed_operations_demo
from arende.operations.models import (
    Change,
    MajorIncident,
    PlannedMaintenance,
    PostIncidentReview,
    ReviewAction,
)
from arende.servicedesk.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_holds_the_seeds_2021_and_is_written_once():
    seed_demo(password="arende-demo")
    incidents = MajorIncident.objects.all()
    switch = incidents.filter(services__name="Telefoni och växel")
    ddos = incidents.filter(security_type="ddos")
    assert switch.count() == 2 and ddos.count() == 2
    assert all(incident.time_to_mitigate <= datetime.timedelta(minutes=5) for incident in ddos)
    assert PostIncidentReview.objects.filter(status="done").count() == incidents.count()
    assert ReviewAction.objects.filter(description__contains="omstyrningstjänst").exists()
    assert Change.objects.filter(outcome="caused_disruption").get().caused_incidents.count() == 1
    assert not Ticket.objects.exists()  # the demo's operations never invent tickets
    counts = (incidents.count(), Change.objects.count(), ReviewAction.objects.count())
    assert seed_operations_demo() is False
    seed_demo(password="arende-demo")
    assert (
        MajorIncident.objects.count(),
        Change.objects.count(),
        ReviewAction.objects.count(),
    ) == counts

    followup = selectors.followup_share(
        MajorIncident.objects.filter(resolved_at__year=2021), working_days=10
    )
    # The second switch outage (resolved 2021-05-27) was reviewed on 2021-06-15: too late.
    assert (followup.in_time, followup.total) == (4, 5)
    months = selectors.change_figures(Change.objects.all(), MajorIncident.objects.all(), year=2021)
    started = {row.month: row.started for row in months if row.started}
    assert started == {4: 1, 6: 1, 9: 1, 10: 1, 11: 1}
    september = months[8]
    assert september.approved_before_start == 0  # the emergency change was approved afterwards
    assert months[9].disruptions == 1 and months[9].successful_share == 0.0
    assert sum(row.disruptions for row in months) == 1
    phone = MajorIncident.objects.filter(title="Avbrott i telefonväxeln").get().services.get()
    march = selectors.availability(
        phone, year=2021, incidents=MajorIncident.objects.all(),
        maintenance=PlannedMaintenance.objects.all(),
    )[2]  # fmt: skip
    assert march.downtime == datetime.timedelta(hours=3, minutes=35)
