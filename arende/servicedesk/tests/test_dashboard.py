"""The IT manager's dashboard: exact figures on small known data, snapshots, exports, access."""

from __future__ import annotations

import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arende.core.demo.history import Backdater
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk import jobs
from arende.servicedesk import selectors_dashboard as sel
from arende.servicedesk.models import BacklogSnapshot, LineSpan, Ticket
from arende.servicedesk.services import tickets as services
from arende.servicedesk.services.snapshots import backlog_snapshot_take
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
MARCH = (datetime.date(2021, 3, 1), datetime.date(2021, 3, 31))


def at(day: int, hour: float = 8, month: int = 3) -> datetime.datetime:
    minutes = round(hour * 60)
    return datetime.datetime(2021, month, day, minutes // 60, minutes % 60, tzinfo=STOCKHOLM)


class Desk:
    """A small service desk, and tickets with a known past (steps back-dated as in history)."""

    def __init__(self) -> None:
        self.herrljunga = OrganisationFactory(name="Herrljunga kommun")
        self.vargarda = OrganisationFactory(name="Vårgårda kommun")
        it = OrganisationFactory(kind="joint_board", org_number="")
        self.agent = grant(UserFactory(organisation=it), "agent")
        self.specialist = grant(UserFactory(organisation=it), "specialist")
        self.manager = grant(UserFactory(organisation=it), "manager")
        self.first = SupportGroupFactory(name="Servicedesk", line=1, members=[self.agent])
        self.second = SupportGroupFactory(name="Drift", line=2, members=[self.specialist])
        self.requesters = {
            org.pk: grant(UserFactory(organisation=org), "requester", org)
            for org in (self.herrljunga, self.vargarda)
        }
        self.backdate = Backdater()

    def ticket(
        self,
        created: datetime.datetime,
        *,
        organisation=None,
        escalate: datetime.datetime | None = None,
        resolve: datetime.datetime | None = None,
        cancel: datetime.datetime | None = None,
        rating: tuple[int, datetime.datetime] | None = None,
    ) -> Ticket:
        organisation = organisation or self.herrljunga
        requester = self.requesters[organisation.pk]
        ticket = services.ticket_create(
            actor=requester,
            channel="portal",
            title="Skrivaren skriver inte ut",
            requester=requester,
            created_at=created,
        )
        services.ticket_assign(actor=self.agent, ticket=ticket, version=None, assignee=self.agent)
        self.backdate(ticket.pk, created + datetime.timedelta(minutes=5), spans=True)
        worker = self.agent
        if escalate:
            services.ticket_escalate(
                actor=self.agent, ticket=ticket, version=None, group=self.second, reason="Drift"
            )
            self.backdate(ticket.pk, escalate, spans=True, ticket_fields=("escalated_at",))
            worker = self.specialist
        if cancel:
            services.ticket_cancel(actor=requester, ticket=ticket, version=None, reason="Klart")
            self.backdate(ticket.pk, cancel, spans=True, ticket_fields=("closed_at",))
        if resolve:
            services.ticket_resolve(actor=worker, ticket=ticket, version=None, resolution="Löst")
            self.backdate(ticket.pk, resolve, spans=True, ticket_fields=("resolved_at",))
        if rating:
            services.ticket_rate(ticket=ticket, score=rating[0])
            self.backdate(ticket.pk, rating[1], rating=True, saved=False)
        return Ticket.objects.get(pk=ticket.pk)

    def query(self, user=None, **filters) -> sel.DashboardQuery:
        start, end = MARCH
        return sel.DashboardQuery(user=user or self.manager, start=start, end=end, **filters)


@pytest.fixture
def desk() -> Desk:
    return Desk()


# The figures -----------------------------------------------------------------------------------


def test_first_line_resolution_rate_counts_resolved_tickets_never_escalated(desk):
    desk.ticket(at(1), resolve=at(1, 11))
    desk.ticket(at(2), resolve=at(2, 10))
    desk.ticket(at(3), resolve=at(3, 9))
    desk.ticket(at(4), escalate=at(4, 10), resolve=at(5, 10))
    desk.ticket(at(5))  # still open: not counted
    desk.ticket(at(30), resolve=at(2, 9, month=4))  # resolved after the period
    rate = sel.first_line_rate(desk.query())
    assert (rate.resolved, rate.in_first_line, rate.escalated) == (4, 3, 1)
    assert rate.rate == Decimal("75.0")
    months = sel.first_line_per_month(desk.query())
    assert [(m.label, m.resolved, m.in_first_line) for m in months] == [("2021-03", 4, 3)]


def test_time_in_each_line_is_mean_and_median_hours_per_resolved_ticket(desk):
    desk.ticket(at(1, 8), resolve=at(1, 11))  # first line 3 h
    desk.ticket(at(2, 8), escalate=at(2, 10), resolve=at(3, 10))  # 2 h, then 24 h
    desk.ticket(at(3, 8), resolve=at(3, 9))  # 1 h
    desk.ticket(at(4, 8), resolve=at(4, 13))  # 5 h
    desk.ticket(at(5, 8))  # open: not counted
    first, second = sel.line_times(desk.query())
    assert (first.line, first.tickets, first.mean_hours, first.median_hours) == (
        1,
        4,
        Decimal("2.8"),  # 11 h / 4 = 2.75
        Decimal("2.5"),  # between 2 h and 3 h
    )
    assert (second.line, second.tickets, second.mean_hours, second.median_hours) == (
        2,
        1,
        Decimal("24.0"),
        Decimal("24.0"),
    )
    # The group filter keeps the time spent with that group only.
    [_first, second_only] = sel.line_times(desk.query(group=desk.second))
    assert (second_only.tickets, second_only.median_hours) == (1, Decimal("24.0"))
    assert sel.line_times(desk.query(group=desk.second))[0].tickets == 0


def test_inflow_and_outflow_per_iso_week(desk):
    desk.ticket(at(1), resolve=at(1, 12))  # Monday of week 9
    desk.ticket(at(3), resolve=at(9, 12))  # resolved in week 10
    desk.ticket(at(9), cancel=at(10))  # week 10, cancelled in week 10
    desk.ticket(at(10))
    weeks = sel.flow_per_week(desk.query())
    by_week = {w.label: (w.inflow, w.outflow) for w in weeks}
    assert by_week["2021-W09"] == (2, 1)
    assert by_week["2021-W10"] == (2, 2)
    assert by_week["2021-W11"] == (0, 0)
    assert weeks[0].monday == datetime.date(2021, 3, 1)
    assert weeks[-1].monday == datetime.date(2021, 3, 29)


def test_ageing_buckets_count_tickets_open_at_the_end_of_the_period(desk):
    end = at(31, 23.99)
    for days in (1, 5, 10, 40, 100):
        desk.ticket(end - datetime.timedelta(days=days))
    desk.ticket(at(2), resolve=at(3))  # finished: not open
    desk.ticket(at(1), resolve=at(2, 1, month=4))  # open at the end of March
    buckets = sel.ageing(desk.query())
    assert [b.count for b in buckets] == [1, 1, 2, 1, 1]  # the one from 1 March is 30 days old


def test_satisfaction_average_and_distribution(desk):
    for score in (5, 5, 4, 2):
        desk.ticket(at(2), resolve=at(3), rating=(score, at(4)))
    desk.ticket(at(2), resolve=at(3), rating=(1, at(2, 9, month=4)))  # rated after the period
    result = sel.satisfaction(desk.query())
    assert result.count == 4
    assert result.average == Decimal("4.00")
    assert result.distribution == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 2)]
    assert result.satisfied_share == Decimal("75.0")


def test_key_figures_and_breakdowns(desk):
    desk.ticket(at(1), resolve=at(2))
    desk.ticket(at(2), escalate=at(2, 12), resolve=at(4), rating=(4, at(5)))
    desk.ticket(at(3), organisation=desk.vargarda)
    desk.ticket(at(10), organisation=desk.vargarda, escalate=at(10, 9))
    board = sel.dashboard(desk.query())
    assert (board.figures.created, board.figures.finished, board.figures.open_at_end) == (4, 2, 2)
    organisations = {o.name: o for o in board.organisations}
    assert (
        organisations["Herrljunga kommun"].resolved,
        organisations["Herrljunga kommun"].rating,
    ) == (
        2,
        Decimal("4.00"),
    )
    assert organisations["Vårgårda kommun"].open_at_end == 2
    groups = {g.name: g for g in board.groups}
    assert (groups["Servicedesk"].resolved, groups["Servicedesk"].open_at_end) == (1, 1)
    assert (groups["Drift"].resolved, groups["Drift"].open_at_end) == (1, 1)
    assert board.categories[0].created == 4


# Backlog snapshots -----------------------------------------------------------------------------


def test_snapshot_rebuilds_a_past_day_from_the_line_spans_and_is_idempotent(desk):
    desk.ticket(at(1), escalate=at(2, 10), resolve=at(4, 10))
    desk.ticket(at(2), organisation=desk.vargarda)
    counts = {}
    for day in range(1, 6):
        total = backlog_snapshot_take(datetime.date(2021, 3, day))
        counts[day] = total
    assert counts == {1: 1, 2: 2, 3: 2, 4: 1, 5: 1}
    rows = set(
        BacklogSnapshot.objects.filter(day=datetime.date(2021, 3, 3), open_count__gt=0).values_list(
            "organisation_id", "group_id", "line", "open_count"
        )
    )
    assert rows == {
        (desk.herrljunga.pk, desk.second.pk, 2, 1),
        (desk.vargarda.pk, desk.first.pk, 1, 1),
    }
    before = BacklogSnapshot.objects.count()
    backlog_snapshot_take(datetime.date(2021, 3, 3))
    backlog_snapshot_take(datetime.date(2021, 3, 3))
    assert BacklogSnapshot.objects.count() == before
    series = sel.backlog_series(desk.query())
    assert [(p.day.day, p.first_line, p.second_line) for p in series] == [
        (1, 1, 0),
        (2, 1, 1),
        (3, 1, 1),
        (4, 1, 0),
        (5, 1, 0),
    ]


def test_the_nightly_job_takes_yesterdays_snapshot_once(desk):
    services.ticket_create(
        actor=None, channel="phone", title="Växeln svarar inte", contact_name="Okänd",
        organisation=desk.herrljunga,
    )  # fmt: skip
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    jobs.backlog_snapshot_yesterday.call_local()
    jobs.backlog_snapshot_yesterday.call_local()
    # Created today, so it was not open at the end of yesterday: zero rows, no duplicates.
    assert not BacklogSnapshot.objects.filter(day=yesterday, open_count__gt=0).exists()
    assert BacklogSnapshot.objects.filter(day=yesterday).count() == 3  # one per organisation
    Ticket.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    LineSpan.objects.update(started_at=timezone.now() - datetime.timedelta(days=3))
    jobs.backlog_snapshot_yesterday.call_local()
    jobs.backlog_snapshot_yesterday.call_local()
    counts = BacklogSnapshot.objects.filter(day=yesterday).values_list("open_count", flat=True)
    assert sorted(counts) == [0, 0, 1]


# Page and exports ------------------------------------------------------------------------------


def _march(**extra) -> dict[str, str]:
    return {"start": "2021-03-01", "end": "2021-03-31", **extra}


def test_dashboard_page_shows_the_figures_with_swedish_numbers(client, desk):
    for day in (1, 2, 3):
        desk.ticket(at(day), resolve=at(day, 12))
    desk.ticket(at(4), escalate=at(4, 9), resolve=at(5))
    for day in range(1, 32):
        backlog_snapshot_take(datetime.date(2021, 3, day))
    client.force_login(desk.manager)
    response = client.get("/dashboard/", _march())
    assert response.status_code == 200
    html = response.content.decode()
    assert "75,0&nbsp;%" in html  # first-line resolution, Swedish decimal comma
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "style=" not in html.split("<main", 1)[1]  # no inline styles (CSP)
    assert "/dashboard/export/first_line.xlsx?" in html


def test_csv_export_has_the_same_rows_as_the_table(client, desk):
    desk.ticket(at(1), resolve=at(1, 11))
    desk.ticket(at(2), resolve=at(2, 10))
    desk.ticket(at(3), resolve=at(3, 9))
    desk.ticket(at(4), escalate=at(4, 10), resolve=at(5, 10))
    client.force_login(desk.manager)
    response = client.get("/dashboard/export/first_line.csv", _march())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "arende-first-line-2021-03-01-2021-03-31.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 3
    assert rows[1] == ["2021-03", "4", "3", "1", "75,0"]
    assert rows[2][1:] == ["4", "3", "1", "75,0"]  # the whole period


def test_excel_export_is_a_valid_workbook_with_the_same_figures(client, desk):
    from openpyxl import load_workbook

    desk.ticket(at(1), resolve=at(1, 11))
    desk.ticket(at(4), escalate=at(4, 10), resolve=at(5, 10))
    client.force_login(desk.manager)
    response = client.get("/dashboard/export/first_line.xlsx", _march())
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1] == ["2021-03", 2, 1, 1, 0.5]
    assert sheet["E2"].number_format == "0.0%"
    assert workbook.worksheets[1]["B2"].value == "2021-03-01 – 2021-03-31"


@pytest.mark.parametrize("name", sorted(sel.EXPORT_TABLES))
def test_every_table_exports_to_csv_and_excel(client, desk, name):
    desk.ticket(at(1), escalate=at(1, 10), resolve=at(2), rating=(5, at(3)))
    backlog_snapshot_take(datetime.date(2021, 3, 1))
    client.force_login(desk.manager)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/dashboard/export/{name}.{fmt}", _march())
        assert response.status_code == 200, (name, fmt)
    assert client.get(f"/dashboard/export/{name}.pdf", _march()).status_code == 404


# Access ----------------------------------------------------------------------------------------


def test_a_vargarda_manager_sees_only_vargarda(client, desk):
    vargarda_manager = grant(UserFactory(organisation=desk.vargarda), "manager", desk.vargarda)
    desk.ticket(at(1), resolve=at(2))
    desk.ticket(at(2), resolve=at(3))
    desk.ticket(at(3), organisation=desk.vargarda, resolve=at(4), rating=(3, at(5)))
    for day in range(1, 6):
        backlog_snapshot_take(datetime.date(2021, 3, day))

    query = desk.query(user=vargarda_manager)
    board = sel.dashboard(query)
    assert board.figures.created == 1
    assert [o.name for o in board.organisations] == ["Vårgårda kommun"]
    assert board.first_line.resolved == 1
    assert board.satisfaction.count == 1
    assert [p.total for p in board.backlog] == [0, 0, 1, 0, 0]
    assert list(sel.dashboard_organisations(vargarda_manager)) == [desk.vargarda]

    client.force_login(vargarda_manager)
    response = client.get("/dashboard/", _march())
    assert response.status_code == 200
    assert "Herrljunga" not in response.content.decode()
    # Asking for the other municipality is refused like any invalid choice, in page and export.
    assert client.get("/dashboard/", _march(organisation=desk.herrljunga.pk)).status_code == 400
    export = client.get(
        "/dashboard/export/organisations.csv", _march(organisation=desk.herrljunga.pk)
    )
    assert export.status_code == 400
    rows = client.get("/dashboard/export/organisations.csv", _march()).content.decode("utf-8")
    assert "Herrljunga" not in rows and "Vårgårda kommun" in rows


def test_requesters_and_agents_without_the_dashboard_role_get_403(client, desk):
    for user in (desk.requesters[desk.herrljunga.pk], desk.agent):
        client.force_login(user)
        assert client.get("/dashboard/").status_code == 403
        assert client.get("/dashboard/export/ageing.csv").status_code == 403
    client.logout()
    assert client.get("/dashboard/").status_code == 302  # to the login page


def test_the_dashboard_is_in_the_navigation_of_the_manager_only(client, desk):
    client.force_login(desk.manager)
    assert 'href="/dashboard/"' in client.get("/").content.decode()
    client.force_login(desk.agent)
    assert 'href="/dashboard/"' not in client.get("/").content.decode()


def test_the_page_costs_the_same_number_of_queries_whatever_the_data(client, desk):
    client.force_login(desk.manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/dashboard/", _march()).status_code == 200
        return len(queries)

    desk.ticket(at(1), resolve=at(2))
    backlog_snapshot_take(datetime.date(2021, 3, 1))
    few = count()
    for day in range(2, 20):
        desk.ticket(at(day), escalate=at(day, 10), resolve=at(day + 1), rating=(4, at(day + 2)))
        desk.ticket(at(day), organisation=desk.vargarda)
        backlog_snapshot_take(datetime.date(2021, 3, day))
    assert count() == few


def test_a_bad_period_is_refused_with_a_message(client, desk):
    client.force_login(desk.manager)
    response = client.get("/dashboard/", {"start": "2021-03-31", "end": "2021-03-01"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
