"""Operations in a real browser (issue 6, "Done when").

* A major incident: the Incident Manager declares it from the first ticket about the
  telephone switch, links three more tickets, logs a public update, resolves it (every linked
  ticket is resolved with one answer), writes the post-incident review and adds an action.
* A change: a specialist requests it, the Change Manager approves it, the specialist starts
  and records the implementation, a disruption follows, and the Change Manager reviews the
  change as "caused a disruption" with that major incident linked.
* axe-core (WCAG 2.1 AA), the origin and the CSP on every new page, also the public status
  page and the pages with open panels and errors; the status page shows nothing internal.

The demo world (seeded once for the package, with the operations demo of 2021) is shared with
the other browser modules; the tickets and records made here are committed and flushed with it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from .support import open_all_details

pytestmark = pytest.mark.browser

INCIDENT_MANAGER = "anna.sjoberg@it.herrljunga.example"
CHANGE_MANAGER = "peter.dahl@it.herrljunga.example"
SPECIALIST = "maria.wik@it.herrljunga.example"
SECRET = "INTERN-anteckning-som-aldrig-ska-synas"


def sv(message: str) -> str:
    with translation.override("sv"):
        return str(translation.gettext(message))


@dataclass(frozen=True)
class Reports:
    references: tuple[str, ...]  # four tickets about the telephone switch, oldest first


@pytest.fixture(scope="module")
def reports(demo_server, django_db_blocker) -> Reports:
    from arende.core.models import User
    from arende.servicedesk.models import Service, Ticket
    from arende.servicedesk.services import tickets as services

    with django_db_blocker.unblock():
        phone = Service.objects.get(name="Telefoni och växel")
        requesters = list(
            User.objects.filter(
                organisation__short_name="Herrljunga", role_assignments__role__code="requester"
            ).order_by("-pk")[:4]
        )
        tickets = [
            services.ticket_create(
                actor=person,
                channel=Ticket.Channel.PHONE,
                requester=person,
                title=f"Växeln svarar inte ({index})",
                service=phone,
            )
            for index, person in enumerate(requesters, start=1)
        ]
        return Reports(tuple(ticket.reference for ticket in tickets))


@pytest.fixture
def check(page_log, live_url, assert_accessible, screenshot) -> Callable[..., None]:
    def run(page, name: str) -> None:
        page.wait_for_load_state("load")
        try:
            assert_accessible(page)
            foreign = page_log.foreign_requests(live_url)
            assert foreign == [], f"requests left {live_url}:\n" + "\n".join(foreign)
            csp = page_log.csp_errors()
            assert csp == [], "Content-Security-Policy violations:\n" + "\n".join(csp)
        except AssertionError:
            screenshot(page, f"operations-{name}")
            raise

    return run


def _open(page, name: str):
    panel = page.locator(f"#panel-{name}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def test_a_major_incident_from_declaration_to_review(page, sign_in, check, screenshot, reports):
    from arende.operations.models import MajorIncident
    from arende.servicedesk.models import Ticket, TicketActivity

    sign_in(page, INCIDENT_MANAGER)
    page.goto("/")
    page.get_by_role("navigation", name=sv("Main navigation")).get_by_role(
        "link", name=sv("Operations")
    ).click()
    expect(page.locator("main h1")).to_have_text(sv("Operations"))
    check(page, "overview")

    first, *others = reports.references
    page.goto(f"/operations/major-incidents/new/?ticket={first}")
    expect(page.locator("#id_declare_parent_ticket")).to_have_value(first)
    page.locator("#id_declare_title").fill("")
    page.get_by_role("button", name=sv("Declare")).click()
    expect(page.locator(".field-error").first).to_be_visible()  # the title is required
    check(page, "declare-error")
    page.locator("#id_declare_title").fill("Avbrott i växeln")
    page.locator("#id_declare_description").fill(SECRET)
    page.locator("#id_declare_public_title").fill("Störning i telefoni och växel")
    page.locator("#id_declare_public_summary").fill("Det går inte att ringa till växeln.")
    page.locator("#id_declare_severity").select_option("1")
    page.get_by_role("button", name=sv("Declare")).click()
    expect(page).to_have_url(re.compile(r"/operations/major-incidents/\d+/$"))
    incident = MajorIncident.objects.get(parent_ticket__reference=first)
    check(page, "incident")
    # The ticket page shows what operations knows about the ticket (the include hook).
    page.goto(f"/desk/{first}/")
    expect(page.locator("#ops-ticket-heading")).to_be_visible()
    expect(page.locator("main")).to_contain_text(incident.reference)
    check(page, "ticket-hook")
    page.get_by_role("link", name=re.compile(re.escape(incident.reference))).first.click()
    expect(page).to_have_url(re.compile(rf"/operations/major-incidents/{incident.pk}/$"))

    for reference in others:
        panel = _open(page, "link")
        panel.locator("#id_link_reference").fill(reference)
        panel.locator("button[type=submit]").click()
        expect(page.locator("#linked-tickets")).to_contain_text(reference)
    panel = _open(page, "link")
    panel.locator("#id_link_reference").fill("1999-000001")
    panel.locator("button[type=submit]").click()
    expect(page.locator("#panel-link .field-error")).to_be_visible()
    check(page, "link-error")

    panel = _open(page, "entry")
    panel.locator("#id_entry_kind").select_option("update")
    panel.locator("#id_entry_body").fill("Vi felsöker tillsammans med operatören.")
    panel.locator("#id_entry_is_public").check()
    panel.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("Vi felsöker tillsammans med operatören.")

    panel = _open(page, "resolve")
    panel.locator("#id_resolve_resolution").fill("Växeln fungerar igen. Tack för ert tålamod.")
    panel.locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("Resolved"))
    children = Ticket.objects.filter(reference__in=reports.references)
    assert set(children.values_list("status", flat=True)) == {Ticket.Status.RESOLVED}
    for ticket in children:
        answers = TicketActivity.objects.filter(ticket=ticket, is_public=True, kind="status")
        assert answers.count() == 1

    panel = _open(page, "review")
    panel.locator("#id_review_cause").fill("Fel i operatörens växelplattform.")
    panel.locator("#id_review_what_worked").fill("Snabb information till receptionen.")
    panel.locator("#id_review_what_to_improve").fill("Reservväg för inkommande samtal.")
    panel.locator("button[type=submit]").click()
    panel = _open(page, "action")
    panel.locator("#id_action_description").fill("Köp omstyrningstjänst")
    panel.locator("#id_action_owner").select_option(label="Sara Lindqvist")
    panel.locator("#id_action_due_date").fill("2030-01-31")
    panel.locator("button[type=submit]").click()
    expect(page.locator("#review-actions")).to_contain_text("Köp omstyrningstjänst")
    incident.refresh_from_db()
    assert incident.review.cause == "Fel i operatörens växelplattform."
    open_all_details(page)
    check(page, "incident-resolved")
    screenshot(page, "operations-incident-resolved")

    # The public status page: no login, the public update is there, the internal text is not.
    page.context.clear_cookies()
    page.goto("/driftstatus/")
    expect(page.locator("main h1")).to_have_text(sv("Operational status"))
    expect(page.locator("main")).to_contain_text("Störning i telefoni och växel")
    expect(page.locator("main")).to_contain_text("Vi felsöker tillsammans med operatören.")
    assert SECRET not in page.content()
    check(page, "status-page")
    screenshot(page, "operations-status-page")
    feed = page.request.get("/driftstatus/feed/")
    assert feed.ok and "Störning i telefoni och växel" in feed.text()
    assert SECRET not in feed.text()


def test_a_change_that_caused_a_disruption(page, sign_in, check, screenshot, reports):
    from arende.operations.models import Change, MajorIncident
    from arende.operations.services.incidents import major_incident_declare
    from arende.servicedesk.models import Service

    sign_in(page, SPECIALIST)
    page.goto("/operations/changes/")
    check(page, "changes")
    page.get_by_role("link", name=sv("Request a change")).click()
    check(page, "change-form")
    start = (timezone.localtime() + datetime.timedelta(days=1)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    page.locator("#id_change_title").fill("Nytt certifikat för e-post (test)")
    page.locator("#id_change_type").select_option("normal")
    page.locator("#id_change_description").fill("Det utgående certifikatet ersätts.")
    page.locator("#id_change_reason").fill("Certifikatet löper ut.")
    page.get_by_role("checkbox", name="E-post och kalender").check()
    page.get_by_role("checkbox", name="Herrljunga kommun").check()
    page.locator("#id_change_planned_start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_change_planned_end").fill(
        (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    page.locator("#id_change_implementation_plan").fill("Installera certifikatet, testa.")
    page.locator("#id_change_backout_plan").fill("Återställ det gamla certifikatet.")
    page.get_by_role("button", name=sv("Save as draft")).click()
    expect(page).to_have_url(re.compile(r"/operations/changes/\d+/$"))
    change = Change.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert change.risk_level == "low"
    open_all_details(page)  # the edit panel's form is checked too
    check(page, "change-draft")
    _open(page, "submit").locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("Awaiting approval"))

    sign_in(page, CHANGE_MANAGER)
    page.reload()
    panel = _open(page, "decide")
    panel.get_by_label(sv("Approve")).check()
    panel.locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("Approved"))
    expect(page.locator("#approvals")).to_contain_text(sv("Approved"))
    check(page, "change-approved")

    sign_in(page, SPECIALIST)
    page.reload()
    _open(page, "start").locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("In progress"))
    panel = _open(page, "implement")
    panel.locator("#id_implement_notes").fill("Certifikatet installerat.")
    panel.locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("Implemented"))

    disruption = major_incident_declare(
        actor=None,
        title="E-post utifrån kommer inte fram",
        services=[Service.objects.get(name="E-post och kalender")],
        organisations=list(change.organisations.all()),
        open_parent_ticket=False,
    )

    sign_in(page, CHANGE_MANAGER)
    page.reload()
    panel = _open(page, "review")
    panel.locator("button[type=submit]").click()  # no outcome chosen
    expect(page.locator("#panel-review .field-error").first).to_be_visible()
    check(page, "change-review-error")
    panel = _open(page, "review")
    panel.get_by_label(sv("Caused a disruption")).check()
    panel.get_by_label(str(disruption)).check()
    panel.locator("#id_pir_notes").fill("Mellanliggande certifikat saknades.")
    panel.locator("button[type=submit]").click()
    expect(page.locator(".ops-status")).to_contain_text(sv("Reviewed"))
    expect(page.locator("main")).to_contain_text(disruption.reference)
    disruption.refresh_from_db()
    assert disruption.caused_by_change_id == change.pk
    check(page, "change-reviewed")
    screenshot(page, "operations-change-reviewed")

    page.goto(f"/operations/changes/calendar/?month={start:%Y-%m}")
    expect(page.locator(".ops-calendar")).to_contain_text(change.reference)
    check(page, "calendar")
    page.goto(f"/operations/figures/?year={timezone.localdate().year}")
    expect(page.locator("#change-figures")).to_be_visible()
    check(page, "figures")
    assert MajorIncident.objects.filter(caused_by_change=change).count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/operations/major-incidents/",
        "/operations/major-incidents/?state=security",
        "/operations/problems/",
        "/operations/problems/new/",
        "/operations/changes/calendar/?month=2021-10",
        "/operations/maintenance/",
        "/operations/availability/?year=2021",
        "/operations/figures/?year=2021",
    ],
)
def test_every_operations_page_passes_axe(page, sign_in, check, path):
    sign_in(page, "sara.lindqvist@it.herrljunga.example")
    response = page.goto(path)
    assert response.status == 200
    open_all_details(page)
    check(page, path)


def test_demo_records_pass_axe(page, sign_in, check):
    from arende.operations.models import Change, MajorIncident, Problem

    sign_in(page, "sara.lindqvist@it.herrljunga.example")
    ddos = MajorIncident.objects.filter(security_type="ddos").order_by("started_at").first()
    for path in (
        f"/operations/major-incidents/{ddos.pk}/",
        f"/operations/changes/{Change.objects.filter(outcome='caused_disruption').first().pk}/",
        f"/operations/problems/{Problem.objects.order_by('pk').first().pk}/",
    ):
        page.goto(path)
        open_all_details(page)
        check(page, path)
