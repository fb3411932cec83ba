"""Availability per service and month, with known data: overlaps, month boundaries, maintenance."""

from __future__ import annotations

import datetime

import pytest

from arende.operations import selectors
from arende.operations.models import MajorIncident, PlannedMaintenance
from arende.operations.services.incidents import major_incident_declare, major_incident_resolve
from arende.operations.services.maintenance import maintenance_create

pytestmark = pytest.mark.django_db
STHLM = datetime.timezone(datetime.timedelta(hours=1))  # winter time in Stockholm
SUMMER = datetime.timezone(datetime.timedelta(hours=2))


def _incident(ops, start, restored, service=None, resolved=None):
    incident = major_incident_declare(
        actor=None,
        title="Avbrott",
        services=[service or ops["phone"]],
        organisations=[ops["herrljunga"]],
        started_at=start,
        at=start,
    )
    incident.mitigated_at = restored
    incident.save()
    return major_incident_resolve(
        actor=None,
        incident=incident,
        version=None,
        resolution="Löst.",
        at=resolved or restored,
        resolve_tickets=False,
    )


def test_downtime_merges_overlaps_and_splits_at_month_boundaries(ops):
    # Two incidents on the phone service in January overlap: 10:00–12:00 and 11:00–13:00
    # → 3 hours of downtime, not 4; their restore times are 2 h each.
    _incident(
        ops,
        datetime.datetime(2021, 1, 12, 10, tzinfo=STHLM),
        datetime.datetime(2021, 1, 12, 12, tzinfo=STHLM),
    )
    _incident(
        ops,
        datetime.datetime(2021, 1, 12, 11, tzinfo=STHLM),
        datetime.datetime(2021, 1, 12, 13, tzinfo=STHLM),
    )
    # One across the new year's night of February → March, Stockholm time: 23:00–01:30.
    _incident(
        ops,
        datetime.datetime(2021, 2, 28, 23, tzinfo=STHLM),
        datetime.datetime(2021, 3, 1, 1, 30, tzinfo=STHLM),
    )
    # Another service does not count.
    _incident(
        ops,
        datetime.datetime(2021, 1, 5, 8, tzinfo=STHLM),
        datetime.datetime(2021, 1, 5, 18, tzinfo=STHLM),
        service=ops["mail"],
    )
    # Planned maintenance is counted apart, and a cancelled window not at all.
    maintenance_create(
        actor=None, title="Uppgradering av växeln", services=[ops["phone"]],
        organisations=[ops["herrljunga"]],
        starts_at=datetime.datetime(2021, 1, 20, 18, tzinfo=STHLM),
        ends_at=datetime.datetime(2021, 1, 20, 20, tzinfo=STHLM),
    )  # fmt: skip
    cancelled = maintenance_create(
        actor=None, title="Inställt", services=[ops["phone"]], organisations=[ops["herrljunga"]],
        starts_at=datetime.datetime(2021, 1, 21, 18, tzinfo=STHLM),
        ends_at=datetime.datetime(2021, 1, 21, 20, tzinfo=STHLM),
    )  # fmt: skip
    PlannedMaintenance.objects.filter(pk=cancelled.pk).update(is_cancelled=True)

    months = selectors.availability(
        ops["phone"],
        year=2021,
        incidents=MajorIncident.objects.all(),
        maintenance=PlannedMaintenance.objects.all(),
    )
    january, february, march = months[0], months[1], months[2]
    assert january.downtime == datetime.timedelta(hours=3)
    assert january.maintenance == datetime.timedelta(hours=2)
    assert january.incidents == 2
    assert january.mttr == datetime.timedelta(hours=2)
    assert january.period == datetime.timedelta(days=31)
    assert january.availability == pytest.approx(100 * (1 - 3 / (31 * 24)))
    assert february.downtime == datetime.timedelta(hours=1)
    assert february.mttr == datetime.timedelta(hours=2, minutes=30)
    assert march.downtime == datetime.timedelta(hours=1, minutes=30)
    assert march.incidents == 0 and march.mttr is None
    # March is 31 days less the hour lost to summer time.
    assert march.period == datetime.timedelta(days=31) - datetime.timedelta(hours=1)
    assert months[3].availability == 100


def test_restore_is_mitigation_not_resolution(ops):
    _incident(
        ops,
        datetime.datetime(2021, 6, 1, 9, tzinfo=SUMMER),
        datetime.datetime(2021, 6, 1, 9, 5, tzinfo=SUMMER),
        resolved=datetime.datetime(2021, 6, 3, 9, tzinfo=SUMMER),
    )
    june = selectors.availability(
        ops["phone"], year=2021, incidents=MajorIncident.objects.all(),
        maintenance=PlannedMaintenance.objects.none(),
    )[5]  # fmt: skip
    assert june.downtime == datetime.timedelta(minutes=5)
    assert june.mttr_minutes == 5
