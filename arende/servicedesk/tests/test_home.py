"""The service desk's panels on the start page: an agent's queues, a person's own tickets."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arende.core.models import Role
from arende.core.tests.factories import OrganisationFactory, UserFactory, grant
from arende.servicedesk.models import RequestType, Service, Ticket
from arende.servicedesk.services import tickets as services
from arende.servicedesk.tests.factories import SupportGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
Status = Ticket.Status


@pytest.fixture
def desk(db):
    herrljunga = OrganisationFactory(name="Herrljunga kommun", short_name="Herrljunga")
    vargarda = OrganisationFactory(name="Vårgårda kommun", short_name="Vårgårda")
    it = OrganisationFactory(kind="joint_board", org_number="", short_name="IT")
    agent = grant(UserFactory(organisation=it, first_name="Erik"), "agent")
    colleague = grant(UserFactory(organisation=it, first_name="Lina"), "agent")
    group = SupportGroupFactory(name="Servicedesk", line=1, members=[agent, colleague])
    switchboard = SupportGroupFactory(name="Växeln", line=1, members=[colleague])
    requester = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    neighbour = grant(UserFactory(organisation=herrljunga), "requester", herrljunga)
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        agent=agent,
        colleague=colleague,
        group=group,
        switchboard=switchboard,
        requester=requester,
        neighbour=neighbour,
    )


def _ticket(requester, title, **kwargs):
    return services.ticket_create(
        actor=requester, channel="portal", title=title, requester=requester, **kwargs
    )


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _tile(page: str, queue: str) -> str:
    """The figure on the start page's tile for ``queue``."""
    match = re.search(
        rf'href="/desk/\?queue={queue}">.*?<span class="kpi__value">([^<]*)</span>', page, re.S
    )
    assert match, f"no tile for {queue}"
    return match.group(1)


def test_a_requester_sees_own_ongoing_tickets_their_turn_first(client, desk):
    requester, agent = desk["requester"], desk["agent"]
    received = _ticket(requester, "Skrivaren skriver inte ut")
    asked = _ticket(requester, "Nytt lösenord till lönesystemet")
    services.ticket_assign(actor=agent, ticket=asked, version=None, assignee=agent)
    services.ticket_set_status(
        actor=agent, ticket=asked, version=None, status=Status.WAITING_REQUESTER
    )
    cancelled = _ticket(requester, "Gammal beställning")
    services.ticket_cancel(actor=requester, ticket=cancelled, version=None, reason="Behövs inte")
    _ticket(desk["neighbour"], "Grannens hemliga ärende")
    # The newest change is the received ticket's: still, the one waiting for the requester's
    # answer comes first.
    services.ticket_reply(actor=agent, ticket=received, body="Vi tittar på det.")

    page = _home(client, requester)
    assert "IT is waiting for your answer on 1 ticket." in page
    assert page.index(asked.title) < page.index(received.title)
    assert f'href="/portal/tickets/{asked.reference}/"' in page
    assert cancelled.title not in page
    assert "Grannens hemliga ärende" not in page
    assert "Your queues" not in page and 'href="/portal/new/problem/"' in page


def test_a_requester_with_many_tickets_sees_five_and_a_link_to_all(client, desk):
    for number in range(7):
        _ticket(desk["requester"], f"Ärende nummer {number}")
    page = _home(client, desk["requester"])
    assert len(re.findall(r'class="ticket-list__title"', page)) == 5
    assert "All 7 ongoing tickets" in page


def test_an_agent_sees_the_size_of_their_queues(client, desk):
    agent, requester = desk["agent"], desk["requester"]
    for title in ("Ett", "Två"):
        services.ticket_assign(
            actor=agent, ticket=_ticket(requester, title), version=None, assignee=agent
        )
    services.ticket_assign(
        actor=agent,
        ticket=_ticket(requester, "Tre"),
        version=None,
        group=desk["switchboard"],
        assignee=desk["colleague"],
    )
    _ticket(requester, "Fyra")  # nobody has it
    _ticket(grant(UserFactory(organisation=desk["vargarda"]), "requester"), "Vårgårdas")

    page = _home(client, agent)
    assert "?queue=open" not in page
    assert _tile(page, "mine") == "2"
    tickets = Ticket.objects.all()
    in_group = tickets.filter(group=desk["group"]).count()
    assert in_group == 4, "all but the switchboard's go to the default group"
    assert _tile(page, "groups") == "4"
    assert _tile(page, "unassigned") == "2"  # "Fyra" and Vårgårda's
    assert _tile(page, "breach") == "0"
    # Their own tickets are not their work: no such panel when they have none.
    assert "own-heading" not in page

    # A Herrljunga-only agent does not count Vårgårda's ticket.
    local = grant(UserFactory(organisation=desk["herrljunga"]), "agent", desk["herrljunga"])
    assert _tile(_home(client, local), "unassigned") == "1"


def test_an_approver_is_told_what_waits_for_their_approval(client, desk):
    service = Service.objects.create(name="Behörigheter")
    request_type = RequestType.objects.create(
        service=service,
        name="Behörighet",
        approval=RequestType.Approval.ROLE,
        approver_role=Role.objects.get(code="manager"),
    )
    manager = grant(UserFactory(organisation=desk["herrljunga"]), "manager")
    ticket = _ticket(
        desk["requester"], "Behörighet till ekonomisystemet", request_type=request_type
    )
    assert ticket.status == Status.PENDING_APPROVAL

    page = _home(client, manager)
    assert "1 request is waiting for your approval" in page
    # The IT manager is in no support group: she follows the whole desk, not "mine".
    assert _tile(page, "open") == "1" and _tile(page, "second_line") == "0"
    assert "?queue=mine" not in page and "?queue=groups" not in page


def test_the_start_page_reads_the_same_number_of_queries_whatever_the_data(client, desk):
    requester = desk["requester"]
    client.force_login(requester)
    client.get("/")  # sessions, caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    _ticket(requester, "Det första")
    few = queries()
    for number in range(6):
        _ticket(requester, f"Ett till {number}")
    assert queries() == few


def test_own_tickets_are_requested_or_watched_ones_on_every_database(client, desk):
    """``own_q`` reads the watched ids once (``id__in_set``; ``= ANY(ARRAY(…))`` on
    PostgreSQL, so that each side of the OR uses an index): the same rows as ``IN``."""
    requester, neighbour = desk["requester"], desk["neighbour"]
    mine = _ticket(requester, "Min dator")
    watched = _ticket(neighbour, "Gemensam skrivare")
    watched.watchers.add(requester)
    _ticket(neighbour, "Grannens eget")

    own = Ticket.objects.visible_to(requester).filter(Ticket.objects.own_q(requester))
    assert set(own) == {mine, watched}
    assert set(Ticket.objects.filter(id__in_set=[watched.pk, mine.pk])) == {mine, watched}
    assert not Ticket.objects.filter(id__in_set=[]).exists()
    page = _home(client, requester)
    assert "Gemensam skrivare" in page and "Grannens eget" not in page
