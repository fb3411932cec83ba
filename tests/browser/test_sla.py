"""SLA in a real browser (issue 4, "Done when").

* A ticket's clock pauses while the ticket waits for the requester, and when work resumes the
  deadline has moved by the time it waited: checked on the ticket page, in Swedish.
* The queue shows each ticket's SLA state in words and the time left; the compliance report and
  the list of breaches pass axe-core (WCAG 2.1 AA) and stay on our origin.

The ticket is made in the test's setup through the services, on a service with a round-the-clock
calendar (so that the assertions do not depend on the hour the tests run at). Its wait for the
requester is moved one hour back with a plain UPDATE of the status history, as an import would
do, and its clocks are recomputed from that history: that is the retroactive recomputation the
page then shows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from .support import AGENT, IT_MANAGER

pytestmark = pytest.mark.browser


def sv(message) -> str:
    with translation.override("sv"):
        return str(translation.gettext(message) if isinstance(message, str) else message)


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Waiting:
    reference: str
    deadline_before_pause: datetime.datetime


@pytest.fixture(scope="module")
def waiting(demo_server, django_db_blocker) -> Waiting:
    from arende.core.models import User
    from arende.servicedesk.models import Service, SupportGroup, Ticket
    from arende.servicedesk.services import tickets as services
    from arende.sla.models import Calendar, SlaClock, StatusSpan
    from arende.sla.services import ticket_clocks_refresh

    with django_db_blocker.unblock():
        on_call = Service.objects.create(name="Larm och jour (test)")
        Calendar.objects.create(name="Jour (test)", service=on_call, always_open=True)
        agent = User.objects.get(email=AGENT)
        requester = User.objects.filter(role_assignments__role__code="requester").first()
        first_line = SupportGroup.objects.get(name="Servicedesk")
        created = timezone.now() - datetime.timedelta(hours=3)
        ticket = services.ticket_create(
            actor=requester,
            channel=Ticket.Channel.PORTAL,
            requester=requester,
            title="Larmet i serverhallen piper",
            service=on_call,
            created_at=created,
        )
        ticket = services.ticket_assign(
            actor=agent, ticket=ticket, version=None, group=first_line, assignee=agent
        )
        before = SlaClock.objects.get(ticket=ticket, metric="resolution").deadline
        ticket = services.ticket_set_status(
            actor=agent, ticket=ticket, version=None, status=Ticket.Status.WAITING_REQUESTER
        )
        # The wait began an hour ago (see the module's doc).
        an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
        StatusSpan.objects.filter(ticket=ticket, ended_at__isnull=True).update(
            started_at=an_hour_ago
        )
        StatusSpan.objects.filter(ticket=ticket, ended_at__isnull=False).filter(
            ended_at__gt=an_hour_ago
        ).update(ended_at=an_hour_ago)
        ticket_clocks_refresh(ticket=ticket)
        return Waiting(reference=ticket.reference, deadline_before_pause=before)


def test_the_clock_pauses_while_waiting_and_the_deadline_moves(
    page, sign_in, assert_accessible, page_log, live_url, waiting
):
    from arende.servicedesk.models import Ticket
    from arende.sla.models import ClockState, Metric, SlaClock

    sign_in(page, AGENT)
    page.goto(f"/desk/{waiting.reference}/")
    panel = page.locator("section.sla-clocks")
    resolution = panel.locator("tbody tr", has_text=sv(Metric.RESOLUTION.label))
    expect(resolution).to_contain_text(sv(ClockState.PAUSED.label))
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    expect(panel.locator(".sla-segments").last).to_contain_text(sv("Paused"))
    assert_accessible(page)

    # Work resumes: the clock counts again, and its deadline is an hour (the wait) later.
    status = page.locator("details.action-panel--status")
    if status.get_attribute("open") is None:
        status.locator("summary").click()
    status.locator("select").select_option(Ticket.Status.IN_PROGRESS.value)
    status.locator("button[type=submit]").click()
    expect(resolution).to_contain_text(sv(ClockState.RUNNING.label))
    clock = SlaClock.objects.get(ticket__reference=waiting.reference, metric="resolution")
    moved = clock.deadline - waiting.deadline_before_pause
    assert datetime.timedelta(hours=1) <= moved < datetime.timedelta(hours=1, minutes=2)
    expect(resolution).to_contain_text(_local(clock.deadline))
    assert page_log.foreign_requests(live_url) == []
    assert page_log.csp_errors() == []

    # The queue says it in words, with the time left.
    page.goto("/desk/?queue=open&sort=sla")
    row = page.locator("table tbody tr", has_text=waiting.reference)
    expect(row).to_contain_text(sv("On track"))
    assert_accessible(page)


def test_compliance_report_and_breaches_pass_axe(page, sign_in, assert_accessible, page_log,
                                                  live_url, waiting):  # fmt: skip
    sign_in(page, IT_MANAGER)
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name=sv("SLA"), exact=True).click()
    expect(page.locator("main h1")).to_have_text(sv("SLA compliance"))
    expect(page.locator("figure.chart svg")).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("link", name=sv("List the breaches")).click()
    expect(page.locator("main h1")).to_have_text(sv("SLA breaches"))
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")
    # A period that ends before it starts is refused with the field named.
    page.goto("/sla/?start=2021-12-31&end=2021-01-01")
    expect(page.locator("#id_end_error")).not_to_be_empty()
    assert_accessible(page)
    assert page_log.foreign_requests(live_url) == []
    assert page_log.csp_errors() == []
