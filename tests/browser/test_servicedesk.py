"""The service desk in a real browser (issue 3, "Done when").

* The whole path: a requester reports a problem in the portal, the first line escalates it to a
  second-line group, the second line resolves it, the requester rates it, and the IT manager's
  dashboard counts it; the state is checked on the page at every step, and the escalation reason
  (internal) is shown to staff but never to the requester.
* axe-core (WCAG 2.1 AA) and the origin/CSP check on every page of the agent workspace, the
  portal, the phone intake and the dashboard, in their interesting states: each queue, a filter,
  a saved view, a bulk action's result, a ticket page with an invalid action and with a stale
  edit (two browsers editing the same ticket), forms with errors, the request form of a request
  type with its own fields, approvals, the rating page behind the signed link (logged out), and
  the phone intake's live search and chosen caller.

The browser package seeds the demo world without its year of history (``DEMO_HISTORY`` is False
in the test settings), so ``desk`` adds, once for this module and committed like the seed, the
demo's service catalogue (with the request types "Ny medarbetare" and "Ny mobiltelefon") and a
few tickets in different states, made through the services. The package's teardown flushes them
with the rest. The pages answer in Swedish (the default); expected texts are looked up in the
same translation catalogue the server uses, so a better translation does not break a test.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from .support import (
    AGENT,
    HERRLJUNGA_REQUESTER,
    IT_MANAGER,
    open_all_details,
    record_console,
    record_context,
)

pytestmark = pytest.mark.browser

REQUESTER = HERRLJUNGA_REQUESTER  # Astrid Andersson, Herrljunga
SPECIALIST = "maria.wik@it.herrljunga.example"  # member of "System och integration"
SWITCHBOARD = "eva.lund@it.herrljunga.example"
FIRST_LINE_GROUP = "Servicedesk"
SECOND_LINE_GROUP = "System och integration"
OTHER_SECOND_LINE_GROUP = "Drift och nätverk"


def sv(message) -> str:
    """``message`` (a msgid or a lazy translation) as the server renders it: in Swedish."""
    with translation.override("sv"):
        return str(translation.gettext(message) if isinstance(message, str) else message)


def sv_count(singular: str, plural: str, count: int) -> str:
    """A ``{% blocktranslate count counter=... %}`` text, in Swedish."""
    with translation.override("sv"):
        return translation.ngettext(singular, plural, count) % {"counter": count}


def _path(page) -> str:
    return urlsplit(page.url).path


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Desk:
    """What ``desk`` made: references of tickets in different states, and ids the pages use."""

    unassigned: str
    mine: str
    second_line: str
    waiting: str
    resolved: str
    stale: str
    bulk: tuple[tuple[int, str], ...]  # (pk, reference) of two new first-line tickets
    new_employee: int  # request type with text, date, choice and textarea fields
    new_phone: int  # request type approved by the IT manager's role
    rating_path: str  # the signed rating link of ``resolved`` (not rated yet)


@pytest.fixture(scope="module")
def desk(demo_server, django_db_blocker) -> Desk:
    """The catalogue and a handful of tickets, committed once for the module."""
    from arende.core.demo.history import ensure_catalogue
    from arende.core.models import User
    from arende.servicedesk.models import SupportGroup, Ticket
    from arende.servicedesk.rating import rating_url
    from arende.servicedesk.services import tickets as services
    from arende.servicedesk.services.snapshots import backlog_snapshots_take

    with django_db_blocker.unblock():
        first_line = SupportGroup.objects.get(name=FIRST_LINE_GROUP)
        other_group = SupportGroup.objects.get(name=OTHER_SECOND_LINE_GROUP)
        catalogue = ensure_catalogue(first_line, owners={})
        agent = User.objects.get(email=AGENT)
        requesters = list(
            User.objects.filter(
                organisation__short_name="Herrljunga", role_assignments__role__code="requester"
            )
            .exclude(email=REQUESTER)
            .order_by("pk")[:3]
        )
        now = timezone.now()
        printers = catalogue.categories["Skrivare"]
        accounts = catalogue.categories["Konto och behörighet"]

        def create(title: str, requester: User, days_ago: int, **extra) -> Ticket:
            return services.ticket_create(
                actor=requester,
                channel=Ticket.Channel.PORTAL,
                requester=requester,
                title=title,
                description=f"{title}. Det har varit så sedan i morse.",
                created_at=now - datetime.timedelta(days=days_ago, hours=2),
                **extra,
            )

        unassigned = create("Kan inte logga in i Visma", requesters[0], 6, category=accounts)
        mine = create("Skrivaren på plan 2 skriver inte ut", requesters[1], 5, category=printers)
        mine = services.ticket_assign(
            actor=agent, ticket=mine, version=mine.version, group=first_line, assignee=agent
        )
        second = create("Servern för lönesystemet är långsam", requesters[2], 9, impact=2)
        second = services.ticket_escalate(
            actor=agent,
            ticket=second,
            version=second.version,
            group=other_group,
            reason="Gäller servern, inte klienten: behöver drift.",
        )
        waiting = create("Ny skärm till receptionen", requesters[0], 4, kind="request")
        waiting = services.ticket_set_status(
            actor=agent, ticket=waiting, version=waiting.version, status="waiting_requester"
        )
        resolved = create("Glömt lösenordet", requesters[1], 3, category=accounts)
        resolved = services.ticket_resolve(
            actor=agent,
            ticket=resolved,
            version=resolved.version,
            resolution="Lösenordet återställt, du kan logga in igen.",
        )
        stale = create("Teams startar inte", requesters[2], 2)
        bulk = [
            create("Musen fungerar inte", requesters[0], 1),
            create("Tangentbordet saknar tangenter", requesters[1], 1),
        ]
        # The dashboard's backlog chart: a snapshot for each of the last two weeks, up to today
        # (so that the default period includes what the tests do today).
        today = timezone.localdate()
        backlog_snapshots_take(start=today - datetime.timedelta(days=13), end=today)
        return Desk(
            unassigned=unassigned.reference,
            mine=mine.reference,
            second_line=second.reference,
            waiting=waiting.reference,
            resolved=resolved.reference,
            stale=stale.reference,
            bulk=tuple((ticket.pk, ticket.reference) for ticket in bulk),
            new_employee=catalogue.new_employee.pk,
            new_phone=catalogue.new_phone.pk,
            rating_path=rating_url(resolved),
        )


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def check(page_log, live_url, assert_accessible, screenshot) -> Callable[..., None]:
    """``check(page, name)``: axe-core finds nothing, and nothing the test's browsers did so
    far left our origin or broke the CSP. A failing page is photographed as ``name``."""

    def run(page, name: str) -> None:
        page.wait_for_load_state("load")
        try:
            assert_accessible(page)
            foreign = page_log.foreign_requests(live_url)
            assert foreign == [], f"requests left {live_url}:\n" + "\n".join(foreign)
            csp = page_log.csp_errors()
            assert csp == [], "Content-Security-Policy violations:\n" + "\n".join(csp)
        except AssertionError:
            screenshot(page, f"servicedesk-{name}")
            raise

    return run


@pytest.fixture
def as_person(sign_in) -> Callable[..., None]:
    """``as_person(page, email)``: the page's context is now that person's (None: logged out)."""

    def switch(page, email: str | None) -> None:
        page.context.clear_cookies()
        if email:
            sign_in(page, email)

    return switch


@pytest.fixture
def second_page(browser, live_url, page_log) -> Iterator[Callable[[], object]]:
    """``second_page()``: a page in a context of its own, recorded into the test's log."""
    contexts = []

    def open_page():
        context = browser.new_context(
            base_url=live_url, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        record_context(context, page_log)
        contexts.append(context)
        new_page = context.new_page()
        record_console(new_page, page_log)
        return new_page

    yield open_page
    for context in contexts:
        context.close()


def _open_panel(page, action: str):
    """Open an action panel of the desk's ticket page; returns the panel."""
    panel = page.locator(f"details.action-panel--{action}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    panel.locator("form.action-panel__form").wait_for()  # fetched when the panel opens
    return panel


def _queue_row(page, reference: str):
    return page.locator("table.ticket-table tbody tr", has_text=reference)


def _table_row(page, heading_id: str, first_cell: str):
    """The row of a dashboard table whose header cell reads ``first_cell``."""
    section = page.locator(f"section[aria-labelledby={heading_id}]")
    return section.locator("tbody tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^\s*{re.escape(first_cell)}\s*$"))
    )


def _cell_int(row, index: int) -> int:
    """The number in the row's ``index``-th data cell; 0 when there is no such row (yet)."""
    if row.count() == 0:
        return 0
    text = row.locator("td").nth(index).text_content() or ""
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else 0


def _dashboard_figures(page) -> dict[str, int]:
    """Ratings of 4 and what "System och integration" resolved, as the dashboard shows them."""
    page.goto("/dashboard/")
    expect(page.locator("main h1")).to_have_text(sv("Service desk dashboard"))
    rated_4 = _table_row(page, "satisfaction-heading", "4")
    expect(rated_4).to_have_count(1)  # every score has its row; a group only once it has work
    return {
        "rated_4": _cell_int(rated_4, 0),
        "group_resolved": _cell_int(_table_row(page, "groups-heading", SECOND_LINE_GROUP), 1),
    }


# --------------------------------------------------------------------------- the whole path


def test_whole_path_from_portal_to_dashboard(page, as_person, check, desk):
    from arende.servicedesk.models import Ticket
    from arende.servicedesk.portal_status import STATUS_WORDS
    from arende.servicedesk.rating import rating_url

    Status = Ticket.Status
    title = "Skrivaren i Mötesrum Ljung skriver ut tomma sidor"
    description = "Alla utskrifter blir tomma sedan i morse. Jag har startat om skrivaren."
    reason = "Drivrutinen på utskriftsservern verkar trasig; första linjen kommer inte åt den."
    note = "Internt: kollade loggen på utskriftsservern, fel 0x0bcb."
    resolution = "Drivrutinen på utskriftsservern är ominstallerad. Utskrifterna fungerar igen."
    comment = "Bra hjälp, men det tog en dag."

    # The IT manager's figures before.
    as_person(page, IT_MANAGER)
    before = _dashboard_figures(page)

    # 1. The requester reports a problem in the portal.
    as_person(page, REQUESTER)
    page.goto("/portal/")
    check(page, "portal-home")
    with page.expect_navigation():
        page.locator('main a.button[href="/portal/new/problem/"]').click()
    assert _path(page) == "/portal/new/problem/"
    expect(page.locator("main h1")).to_have_text(sv("Report a problem"))
    check(page, "portal-new-problem")
    # Sending it empty shows what is missing, next to the fields and in a summary.
    with page.expect_navigation():
        page.locator("form.portal-form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_contain_text(sv("Write a short summary."))
    expect(page.locator("#id_title")).to_have_attribute("aria-invalid", "true")
    check(page, "portal-new-problem-errors")
    page.fill("#id_title", title)
    page.fill("#id_description", description)
    with page.expect_navigation():
        page.locator("form.portal-form button[type=submit]").click()
    match = re.fullmatch(r"/portal/tickets/(\d{4}-\d{6,})/", _path(page))
    assert match, f"after sending, the portal shows {page.url}"
    reference = match.group(1)
    expect(page.locator("main h1")).to_contain_text(reference)
    expect(page.locator("main h1")).to_contain_text(title)
    expect(page.locator("#state-heading")).to_contain_text(sv(STATUS_WORDS[Status.NEW]))
    expect(page.locator(".ticket-description")).to_have_text(description)
    open_all_details(page)  # "Cancel this ticket"
    check(page, "portal-ticket-new")

    # ... and sees it under "My tickets", on the start page and in the list.
    page.goto("/portal/")
    mine = page.locator("section[aria-labelledby=mine-heading]")
    expect(mine.locator("a.ticket-list__title", has_text=title)).to_have_attribute(
        "href", f"/portal/tickets/{reference}/"
    )
    page.goto("/portal/tickets/")
    row = page.locator("table.portal-tickets tbody tr", has_text=reference)
    expect(row).to_contain_text(title)
    expect(row).to_contain_text(sv(STATUS_WORDS[Status.NEW]))
    check(page, "portal-tickets")

    # 2. The first line finds it among the unassigned tickets and escalates it.
    as_person(page, AGENT)
    page.goto("/desk/?queue=unassigned")
    row = _queue_row(page, reference)
    expect(row).to_contain_text(title)
    expect(row.locator(".status")).to_have_text(sv(Status.NEW.label))
    with page.expect_navigation():
        row.locator("a", has_text=title).click()
    assert _path(page) == f"/desk/{reference}/"
    expect(page.locator(".ticket-tags .status")).to_contain_text(sv(Status.NEW.label))
    expect(page.locator(".ticket-tags")).to_contain_text(sv(Ticket.Line.FIRST.label))
    expect(page.locator("ol.timeline li.entry--system")).to_have_count(1)
    panel = _open_panel(page, "escalate")
    panel.locator("#id_escalate_group").select_option(label=SECOND_LINE_GROUP)
    panel.locator("#id_escalate_reason").fill(reason)
    panel.locator("button[type=submit]").click()
    expect(page.locator(".notice[role=status]")).to_have_text(
        sv("The ticket was escalated to the second line.")
    )
    expect(page.locator(".ticket-tags")).to_contain_text(sv(Ticket.Line.SECOND.label))
    escalation = page.locator("ol.timeline li.entry--escalation")
    expect(escalation).to_have_count(1)
    expect(escalation).to_contain_text(SECOND_LINE_GROUP)
    expect(escalation).to_contain_text(reason)
    expect(escalation).to_contain_text("Erik Nyström")
    check(page, "desk-ticket-escalated")

    # 3. The second line finds it in its queue, takes it, notes something and resolves it.
    as_person(page, SPECIALIST)
    page.goto("/desk/?queue=second_line")
    row = _queue_row(page, reference)
    expect(row).to_contain_text(SECOND_LINE_GROUP)
    check(page, "desk-queue-second-line-specialist")
    with page.expect_navigation():
        row.locator("a", has_text=title).click()
    expect(page.locator("ol.timeline li.entry--escalation")).to_contain_text(reason)
    page.locator("form.take-form button[type=submit]").click()
    expect(page.locator(".notice[role=status]")).to_have_text(sv("You took the ticket."))
    expect(page.locator(".ticket-tags .status")).to_contain_text(sv(Status.ASSIGNED.label))
    page.fill("#id_note_body", note)
    page.locator("form.composer__form--note button[type=submit]").click()
    expect(page.locator("ol.timeline li.entry--note")).to_contain_text(note)
    panel = _open_panel(page, "resolve")
    panel.locator("#id_resolve_resolution").fill(resolution)
    panel.locator("button[type=submit]").click()
    expect(page.locator(".notice[role=status]")).to_have_text(sv("The ticket was resolved."))
    expect(page.locator(".ticket-tags .status")).to_contain_text(sv(Status.RESOLVED.label))
    expect(page.locator(".desk-description")).to_contain_text(resolution)
    expect(page.locator("ol.timeline li.entry--status").last).to_contain_text(resolution)
    check(page, "desk-ticket-resolved")

    # 4. The requester sees it solved (without the internal reason and note) and rates it.
    as_person(page, REQUESTER)
    page.goto(f"/portal/tickets/{reference}/")
    expect(page.locator("#state-heading")).to_contain_text(sv(STATUS_WORDS[Status.RESOLVED]))
    expect(page.locator(".resolution")).to_contain_text(resolution)
    html = page.content()
    assert reason not in html, "the escalation reason is internal"
    assert note not in html, "an internal note is internal"
    check(page, "portal-ticket-resolved")
    page.locator("input[name=score][value='4']").check()
    page.fill("#id_comment", comment)
    with page.expect_navigation():
        page.locator("section[aria-labelledby=rate-heading] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(sv("Thank you for your rating!"))
    expect(page.locator("section[aria-labelledby=rate-heading]")).to_have_count(0)
    rated = page.locator("ol.portal-timeline li").last
    expect(rated).to_contain_text(sv("rated the help %(score)s of 5") % {"score": 4})
    expect(rated).to_contain_text(comment)
    check(page, "portal-ticket-rated")

    # The rating link of the mail now says it has been used (and works logged out).
    as_person(page, None)
    response = page.goto(rating_url(Ticket.objects.get(reference=reference)))
    assert response is not None and response.status == 200
    expect(page.locator("main")).to_contain_text(
        sv("This ticket has already been rated. Thank you!")
    )
    expect(page.locator("main form")).to_have_count(0)
    check(page, "rate-link-already-rated")

    # 5. The IT manager's dashboard counts it.
    as_person(page, IT_MANAGER)
    after = _dashboard_figures(page)
    assert after == {
        "rated_4": before["rated_4"] + 1,
        "group_resolved": before["group_resolved"] + 1,
    }, f"before: {before}"
    open_all_details(page)  # the figures as tables
    check(page, "dashboard")


def test_dashboard_filters_and_an_invalid_period(page, sign_in, check, desk):
    sign_in(page, IT_MANAGER)
    page.goto("/dashboard/")
    page.locator("#id_organisation").select_option(label="Herrljunga kommun")
    with page.expect_navigation():
        page.locator("form.dash-filters button[type=submit]").click()
    expect(page.locator(".dash-scope")).to_contain_text("Herrljunga kommun")
    check(page, "dashboard-organisation")

    # A period that ends before it starts is refused, next to the field.
    page.fill("#id_start", "2026-03-01")
    page.fill("#id_end", "2026-02-01")
    with page.expect_navigation() as navigation:
        page.locator("form.dash-filters button[type=submit]").click()
    assert navigation.value.status == 400
    expect(page.locator("#id_end_error")).to_have_text(
        sv("The end date must not be before the start date.")
    )
    expect(page.locator("#id_end")).to_have_attribute("aria-describedby", "id_end_error")
    check(page, "dashboard-invalid-period")


# --------------------------------------------------------------------------- the workspace


def test_desk_queues_filters_saved_view_and_bulk_assign(page, sign_in, check, desk):
    from arende.servicedesk.selectors import QUEUES

    sign_in(page, AGENT)
    page.goto("/desk/")
    expected = {
        "mine": desk.mine,
        "unassigned": desk.unassigned,
        "second_line": desk.second_line,
        "waiting": desk.waiting,
        "resolved": desk.resolved,
    }
    for queue in QUEUES:
        with page.expect_navigation():
            page.locator(f'.queue-list a[href="?queue={queue.key}"]').click()
        tab = page.locator(f'.queue-list a[href="?queue={queue.key}"]')
        expect(tab).to_have_attribute("aria-current", "page")
        expect(tab.locator(".queue-count")).to_have_text(re.compile(r"^\d+\+?$"))  # after the page
        expect(page.locator("main h1")).to_contain_text(sv(queue.label))
        if queue.key in expected:
            expect(_queue_row(page, expected[queue.key])).to_have_count(1)
        check(page, f"desk-queue-{queue.key}")

    # A filter: the open tickets of the first-line group.
    page.goto("/desk/?queue=open")
    page.locator("details.filters summary").click()
    page.locator("#id_group").select_option(label=FIRST_LINE_GROUP)
    with page.expect_navigation():
        page.locator(".filters__actions button[type=submit]").click()
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    expect(_queue_row(page, desk.mine)).to_have_count(1)
    expect(_queue_row(page, desk.second_line)).to_have_count(0)
    check(page, "desk-queue-filtered")

    # ... saved as a view of one's own.
    page.fill("#id_view_name", "Första linjen")
    with page.expect_navigation():
        page.locator("form.save-view button[type=submit]").click()
    saved = page.locator(".saved-views a", has_text="Första linjen")
    expect(saved).to_have_attribute("aria-current", "page")
    check(page, "desk-saved-view")

    # Bulk: assign the two new tickets to oneself.
    page.goto("/desk/?queue=unassigned")
    for pk, _reference in desk.bulk:
        page.locator(f"#select-{pk}").check()
    expect(page.locator("[data-selected-count]")).not_to_be_empty()
    page.locator("#id_bulk_group").select_option(label=FIRST_LINE_GROUP)
    page.locator("#id_bulk_assignee").select_option(label="Erik Nyström")
    with page.expect_navigation():
        page.locator("button[name=action][value=assign]").click()
    result = page.locator("section.bulk-result")
    expect(result.locator("h2")).to_have_text(
        sv_count("%(counter)s ticket changed", "%(counter)s tickets changed", 2)
    )
    for _pk, reference in desk.bulk:
        expect(_queue_row(page, reference)).to_have_count(0)
    check(page, "desk-bulk-result")
    page.goto("/desk/?queue=mine")
    for _pk, reference in desk.bulk:
        expect(_queue_row(page, reference)).to_contain_text("Erik Nyström")


def test_ticket_page_refuses_invalid_and_stale_edits(page, second_page, sign_in, check, desk):
    """Two agents' browsers on the same ticket: the later save is refused with what changed."""
    from arende.servicedesk.models import Ticket

    url = f"/desk/{desk.stale}/"
    sign_in(page, AGENT)
    page.goto(url)
    open_all_details(page)  # every action panel, so that axe checks every form
    check(page, "desk-ticket")

    # An action without what it needs is refused next to the field.
    panel = _open_panel(page, "escalate")
    panel.locator("#id_escalate_group").select_option(label=OTHER_SECOND_LINE_GROUP)
    panel.locator("button[type=submit]").click()
    reason = page.locator("#id_escalate_reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    expect(page.locator("#id_escalate_reason_error")).not_to_be_empty()
    expect(page.locator(".ticket-tags")).to_contain_text(sv(Ticket.Line.FIRST.label))
    check(page, "desk-ticket-invalid")

    # This browser starts to edit the urgency ...
    page.goto(url)
    panel = _open_panel(page, "edit")
    panel.locator("#id_edit_urgency").select_option("1")
    # ... while another browser changes the title and saves first.
    other = second_page()
    sign_in(other, AGENT)
    other.goto(url)
    _open_panel(other, "edit").locator("#id_edit_title").fill("Teams startar inte alls")
    other.locator("details.action-panel--edit button[type=submit]").click()
    expect(other.locator(".notice[role=status]")).to_have_text(sv("Saved."))

    panel.locator("button[type=submit]").click()
    stale = page.locator("section.stale[role=alert]")
    expect(stale).to_be_visible()
    expect(stale).to_be_focused()
    expect(stale.locator("h2")).to_have_text(sv("Not saved: the ticket was changed meanwhile"))
    changed = stale.locator("tbody tr")
    expect(changed.first).to_contain_text("Teams startar inte alls")
    # Nothing overwritten: the page shows the other's title, and keeps this browser's urgency.
    expect(page.locator("main h1")).to_contain_text("Teams startar inte alls")
    expect(page.locator("#id_edit_title")).to_have_value("Teams startar inte alls")
    expect(page.locator("#id_edit_urgency")).to_have_value("1")
    check(page, "desk-ticket-stale")

    # Sending it again, on top of the change, saves both.
    page.locator("details.action-panel--edit button[type=submit]").click()
    expect(page.locator(".notice[role=status]")).to_have_text(sv("Saved."))
    ticket = Ticket.objects.get(reference=desk.stale)
    assert (ticket.title, ticket.urgency) == ("Teams startar inte alls", 1)


# --------------------------------------------------------------------------- the portal


def test_portal_request_with_own_fields_and_its_approval(page, as_person, check, desk):
    from arende.servicedesk.models import Ticket
    from arende.servicedesk.portal_status import STATUS_WORDS

    as_person(page, REQUESTER)
    page.goto("/portal/")
    link = page.locator(f'main a[href="/portal/new/{desk.new_employee}/"]')
    expect(link).to_have_text("Ny medarbetare")
    with page.expect_navigation():
        link.click()
    expect(page.locator("main h1")).to_have_text("Ny medarbetare")
    expect(page.locator("#id_cf_starts_on")).to_have_attribute("type", "date")
    expect(page.locator("input[name=cf_equipment]")).to_have_count(3)
    expect(page.locator("textarea#id_cf_systems")).to_have_count(1)
    check(page, "portal-new-request-fields")

    # The other request type: sent without its required fields, then completed.
    page.goto(f"/portal/new/{desk.new_phone}/")
    with page.expect_navigation():
        page.locator("form.portal-form button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Modell")
    expect(summary).to_contain_text("Ansvar (kostnadsställe)")
    check(page, "portal-new-request-errors")
    page.locator("input[name=cf_model][value='iPhone SE']").check()
    page.fill("#id_cf_reason", "Jag har jour och behöver kunna nås.")
    page.fill("#id_cf_cost_centre", "1234")
    with page.expect_navigation():
        page.locator("form.portal-form button[type=submit]").click()
    reference = _path(page).split("/")[-2]
    expect(page.locator("#state-heading")).to_contain_text(
        sv(STATUS_WORDS[Ticket.Status.PENDING_APPROVAL])
    )
    expect(page.locator("dl.facts")).to_contain_text("iPhone SE")
    check(page, "portal-ticket-pending-approval")
    page.goto("/portal/tickets/?show=all")
    expect(page.locator("table.portal-tickets tbody tr", has_text=reference)).to_have_count(1)
    check(page, "portal-tickets-all")

    # The IT manager holds the approver role: she approves it.
    as_person(page, IT_MANAGER)
    page.goto("/portal/approvals/")
    item = page.locator("section.approval", has_text=reference)
    expect(item).to_contain_text("Jag har jour och behöver kunna nås.")
    check(page, "portal-approvals")
    item.locator("textarea").fill("Godkänt, jouren behöver den.")
    with page.expect_navigation():
        item.locator("button[value=approve]").click()
    expect(page.locator("section.approval", has_text=reference)).to_have_count(0)
    check(page, "portal-approvals-done")
    assert Ticket.objects.get(reference=reference).status == Ticket.Status.NEW


def test_rating_link_works_logged_out(page, check, desk):
    response = page.goto(desk.rating_path)
    assert response is not None and response.status == 200
    expect(page.locator("nav.main-nav")).to_have_count(0)
    check(page, "rate-link-form")

    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_contain_text(sv("Choose a rating from 1 to 5."))
    check(page, "rate-link-errors")

    page.locator("input[name=score][value='5']").check()
    page.fill("#id_comment", "Snabbt och vänligt.")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert urlsplit(page.url).query == "sent=1"
    expect(page.locator(".portal-notice[role=status]")).to_have_text(
        sv("Thank you for your rating! It helps us get better.")
    )
    check(page, "rate-link-thanks")

    response = page.goto(desk.rating_path[:-3] + "xyz/")
    assert response is not None and response.status == 404
    check(page, "rate-link-invalid")


# --------------------------------------------------------------------------- phone intake


def test_phone_intake_find_caller_and_log_the_call(page, sign_in, check, desk):
    sign_in(page, SWITCHBOARD)
    page.goto("/phone/")
    search = page.locator("#caller-query")
    expect(search).to_be_focused()
    search.press_sequentially("Andersson")  # the live search (HTMX) answers while typing
    choice = page.locator("#caller-results a.caller-choice", has_text=REQUESTER)
    expect(choice).to_be_visible()
    expect(page.locator("#caller-count")).not_to_be_empty()
    check(page, "phone-step-1-results")

    with page.expect_navigation():
        choice.click()
    expect(page.locator(".caller-card")).to_contain_text("Astrid Andersson")
    expect(page.locator("#id_title")).to_be_focused()
    check(page, "phone-step-2-caller")

    page.fill("#id_title", "Kommer inte åt lönespecifikationen")
    with page.expect_navigation():
        page.locator("button[name=action][value=log]").click()
    assert _path(page) == "/phone/"
    recent = page.locator("section[aria-labelledby=recent-heading] tbody tr").first
    expect(recent).to_contain_text("Kommer inte åt lönespecifikationen")
    expect(recent).to_contain_text("Astrid Andersson")
    check(page, "phone-logged")

    # A caller who is not in the list.
    page.fill("#caller-query", "0701234567")
    with page.expect_navigation():
        page.locator("button[name=caller][value=unknown]").click()
    expect(page.locator("#id_contact_phone")).to_have_value("0701234567")
    check(page, "phone-step-2-unknown-caller")
