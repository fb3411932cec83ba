"""The compliance selector and the report pages, with known data."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import services
from arende.servicedesk.tests.factories import SupportGroupFactory
from arende.sla.compliance import ComplianceQuery, breaches, compliance
from arende.sla.models import SlaClock

pytestmark = pytest.mark.django_db
STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=STHLM)


@pytest.fixture
def data():
    herrljunga, vargarda = (
        OrganisationFactory(name="Herrljunga"),
        OrganisationFactory(name="Vårgårda"),
    )
    it = OrganisationFactory(kind="joint_board", org_number="")
    SupportGroupFactory(name="Servicedesk", line=1)
    manager = grant(UserFactory(organisation=it), "manager")
    local_manager = grant(UserFactory(organisation=vargarda), "manager", vargarda)
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    other = grant(UserFactory(organisation=vargarda), "requester", vargarda)

    def ticket(who, created):
        made = services.ticket_create(
            actor=who, channel="portal", title="Skrivaren", requester=who, created_at=created
        )
        SlaClock.objects.filter(ticket=made).delete()  # the known clocks below replace them
        return made

    def clock(t, metric, state, stopped=None, breached=None, target=240, elapsed=0):
        return SlaClock.objects.create(
            ticket=t,
            metric=metric,
            target_minutes=target,
            elapsed_seconds=elapsed,
            state=state,
            started_at=t.created_at,
            organisation_id=t.organisation_id,
            service_id=t.service_id,
            group_id=t.group_id,
            priority=t.priority,
            line=t.line,
            stopped_at=stopped,
            breached_at=breached,
            computed_at=t.created_at,
        )

    h1 = ticket(requester, at(2021, 1, 10, 9))
    h2 = ticket(requester, at(2021, 1, 20, 9))
    v1 = ticket(other, at(2021, 2, 3, 9))
    v2 = ticket(other, at(2021, 3, 1, 9))
    clock(h1, "resolution", "met", stopped=at(2021, 1, 11, 10))
    clock(h1, "first_response", "met", stopped=at(2021, 1, 10, 10))
    clock(h2, "resolution", "breached", stopped=at(2021, 2, 1, 0, 30), breached=at(2021, 1, 25, 9),
          elapsed=300 * 60)  # fmt: skip
    clock(v1, "resolution", "met", stopped=at(2021, 2, 5, 9))
    # Still open, past its deadline in March: counts as a breach in March.
    clock(v2, "resolution", "breached", breached=at(2021, 3, 2, 9), elapsed=250 * 60)
    # Neither counts: still within target, and a cancelled ticket.
    clock(v2, "first_response", "running")
    clock(v1, "first_response", "cancelled", stopped=at(2021, 2, 4, 9))
    return dict(manager=manager, local_manager=local_manager, requester=requester, h2=h2, v2=v2,
                herrljunga=herrljunga, vargarda=vargarda)  # fmt: skip


def _query(user, **kwargs):
    values = dict(user=user, start=datetime.date(2021, 1, 1), end=datetime.date(2021, 12, 31))
    values.update(kwargs)
    return ComplianceQuery(**values)


def test_compliance_counts_each_clock_in_the_month_its_outcome_was_known(data):
    result = compliance(_query(data["manager"]))
    assert (result.total.met, result.total.breached) == (3, 2)
    assert result.total.rate == Decimal("60.0")
    months = {row.label: (row.met, row.breached) for row in result.by["month"]}
    assert len(months) == 12  # every month of the period, also empty ones
    # h2's clock stopped at 00:30 on 1 February in Stockholm (still January in UTC).
    assert months["2021-01"] == (2, 0)
    assert months["2021-02"] == (1, 1)
    assert months["2021-03"] == (0, 1)
    assert months["2021-04"] == (0, 0)
    metrics = {row.key: (row.met, row.breached) for row in result.by["metric"]}
    assert metrics == {"resolution": (2, 2), "first_response": (1, 0)}
    organisations = {row.label: (row.met, row.breached) for row in result.by["organisation"]}
    assert organisations == {"Herrljunga": (2, 1), "Vårgårda": (1, 1)}


def test_filters_and_scope_narrow_the_same_figures(data):
    only_resolution = compliance(_query(data["manager"], metric="resolution"))
    assert (only_resolution.total.met, only_resolution.total.breached) == (2, 2)
    vargarda = compliance(_query(data["manager"], organisation=data["vargarda"]))
    assert (vargarda.total.met, vargarda.total.breached) == (1, 1)
    # A manager of Vårgårda alone sees Vårgårda's figures, whatever is asked for.
    local = compliance(_query(data["local_manager"]))
    assert (local.total.met, local.total.breached) == (1, 1)
    hidden = compliance(_query(data["local_manager"], organisation=data["herrljunga"]))
    assert hidden.total.total == 0
    first_quarter = compliance(_query(data["manager"], end=datetime.date(2021, 1, 31)))
    assert (first_quarter.total.met, first_quarter.total.breached) == (2, 0)


def test_breaches_lists_the_tickets_latest_first(data):
    listed = [clock.ticket.reference for clock in breaches(_query(data["manager"]))]
    assert listed == [data["v2"].reference, data["h2"].reference]


def test_report_page_exports_and_breach_list(client, data):
    client.force_login(data["manager"])
    page = client.get("/sla/", {"start": "2021-01-01", "end": "2021-12-31"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "60,0" in body  # Swedish decimal comma
    assert "<svg" in body
    export = client.get("/sla/export/month.csv", {"start": "2021-01-01", "end": "2021-12-31"})
    assert export.status_code == 200
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[1:4] == ["2021-01;2;0;2;100,0", "2021-02;1;1;2;50,0", "2021-03;0;1;1;0,0"]
    excel = client.get(
        "/sla/export/organisation.xlsx", {"start": "2021-01-01", "end": "2021-12-31"}
    )
    assert excel.status_code == 200 and excel.content[:2] == b"PK"
    listing = client.get("/sla/breaches/", {"start": "2021-01-01", "end": "2021-12-31"})
    assert data["h2"].reference in listing.content.decode()
    breaches_csv = client.get(
        "/sla/export/breaches.csv", {"start": "2021-01-01", "end": "2021-12-31"}
    )
    assert data["v2"].reference in breaches_csv.content.decode("utf-8-sig")
    bad = client.get("/sla/", {"start": "2021-12-31", "end": "2021-01-01"})
    assert bad.status_code == 400


def test_requesters_cannot_open_the_report(client, data):
    client.force_login(data["requester"])
    assert client.get("/sla/").status_code in (403, 404)
    assert client.get("/sla/export/month.csv").status_code in (403, 404)
