"""Phone intake for the switchboard: find the caller, log the call or solve it, in three steps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arende.core.tests.factories import (
    DepartmentFactory,
    OrganisationFactory,
    UserFactory,
    grant,
)
from arende.servicedesk.models import Ticket
from arende.servicedesk.tests.factories import SupportGroupFactory
from arende.servicedesk.views.phone import find_callers, phone_digits

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


Status = Ticket.Status
INTAKE = "/phone/"


@pytest.fixture
def world():
    herrljunga = OrganisationFactory(name="Herrljunga kommun")
    vargarda = OrganisationFactory(name="Vårgårda kommun")
    it = OrganisationFactory(kind="joint_board", org_number="")
    office = DepartmentFactory(organisation=herrljunga, name="Kommunledningskontoret")
    astrid = UserFactory(
        organisation=herrljunga,
        department=office,
        first_name="Astrid",
        last_name="Andersson",
        email="astrid.andersson@herrljunga.example",
        phone="0513-17011",
    )
    asa = UserFactory(
        organisation=herrljunga,
        department=office,
        first_name="Åsa",
        last_name="Öberg",
        phone="+46 513 170 99",
    )
    jakob = UserFactory(
        organisation=vargarda,
        first_name="Jakob",
        last_name="Andersson",
        phone="0322-17045",
    )
    switchboard = grant(UserFactory(organisation=it, first_name="Eva"), "switchboard")
    vargarda_switchboard = grant(
        UserFactory(organisation=vargarda, first_name="Vera"), "switchboard", vargarda
    )
    first = SupportGroupFactory(name="Servicedesk", line=1)
    SupportGroupFactory(name="Drift", line=2)
    return dict(
        herrljunga=herrljunga,
        vargarda=vargarda,
        office=office,
        astrid=astrid,
        asa=asa,
        jakob=jakob,
        switchboard=switchboard,
        vargarda_switchboard=vargarda_switchboard,
        first=first,
    )


# Finding the caller ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("0513-170 11", "51317011"),
        ("051317011", "51317011"),
        ("+46 513 170 11", "51317011"),
        ("0046 513 17011", "51317011"),
        ("(0513) 170.11", "51317011"),
        ("17011", "17011"),
    ],
)
def test_phone_digits_ignore_the_way_a_number_is_written(raw, digits):
    assert phone_digits(raw) == digits


@pytest.mark.parametrize("query", ["0513-170 11", "051317011", "+46 513 17011", "17011"])
def test_a_caller_is_found_by_phone_number_however_written(world, query):
    found = find_callers(world["switchboard"], query).people
    assert found == [world["astrid"]]


def test_a_number_stored_with_country_code_is_found_by_the_national_number(world):
    assert find_callers(world["switchboard"], "0513-170 99").people == [world["asa"]]


@pytest.mark.parametrize(
    "query", ["astrid", "ANDERSSON astrid", "astrid.andersson@herr", "Astrid Anders"]
)
def test_a_caller_is_found_by_name_or_e_mail(world, query):
    assert world["astrid"] in find_callers(world["switchboard"], query).people


def test_swedish_letters_match_in_any_case(world):
    assert find_callers(world["switchboard"], "åsa öberg").people == [world["asa"]]


def test_the_search_respects_what_the_switchboard_may_see(world):
    everyone = find_callers(world["switchboard"], "andersson").people
    assert set(everyone) == {world["astrid"], world["jakob"]}
    # A switchboard scoped to Vårgårda does not find Herrljunga people, by name or number.
    scoped = world["vargarda_switchboard"]
    assert find_callers(scoped, "andersson").people == [world["jakob"]]
    assert find_callers(scoped, "0513-170 11").people == []
    assert find_callers(scoped, "astrid").people == []


def test_too_short_a_query_asks_for_more(world):
    assert find_callers(world["switchboard"], "a").too_short
    assert find_callers(world["switchboard"], "05").too_short


def test_live_search_answers_with_the_results_only(client, world):
    client.force_login(world["switchboard"])
    response = client.get(
        reverse("servicedesk:phone_search"), {"q": "0513-170 11"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "Astrid Andersson" in page and 'hx-swap-oob="innerHTML"' in page
    assert f"?caller={world['astrid'].pk}" in page


def test_search_without_javascript_shows_the_results_in_the_page(client, world):
    client.force_login(world["switchboard"])
    response = client.get(reverse("servicedesk:phone_search"), {"q": "astrid"})
    assert response.status_code == 302
    assert response["Location"] == f"{INTAKE}?q=astrid"
    page = client.get(INTAKE, {"q": "astrid"}).content.decode()
    assert "Astrid Andersson" in page and "1 person found." in page
    assert 'hx-get="/phone/search/"' in page  # the same field, enhanced when HTMX runs


def test_only_people_who_log_tickets_use_the_phone_intake(client, world):
    client.force_login(world["astrid"])
    assert client.get(INTAKE).status_code == 403
    assert client.get(reverse("servicedesk:phone_search"), {"q": "x"}).status_code == 403


def test_search_query_count_does_not_grow_with_the_directory(client, world):
    client.force_login(world["switchboard"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(INTAKE, {"q": "andersson"})
        assert response.status_code == 200
        return len(queries)

    few = count()
    for _ in range(15):
        UserFactory(organisation=world["herrljunga"], last_name="Andersson")
    assert count() == few


# Logging and solving ------------------------------------------------------------------------


def test_choosing_the_caller_fills_in_organisation_and_moves_focus_to_the_title(client, world):
    client.force_login(world["switchboard"])
    page = client.get(INTAKE, {"caller": world["astrid"].pk}).content.decode()
    assert "Herrljunga kommun" in page and "Kommunledningskontoret" in page
    assert 'name="title"' in page
    title_input = page[page.index('name="title"') - 200 : page.index('name="title"') + 200]
    assert "autofocus" in title_input
    assert page.count("autofocus") == 1


def test_a_call_is_logged_in_at_most_three_posts(client, world):
    client.force_login(world["switchboard"])
    posts = 0
    # Step 1: find and choose the caller (GETs). Step 2 and 3: one POST.
    client.get(INTAKE, {"q": "0513-170 11"})
    client.get(INTAKE, {"caller": world["astrid"].pk})
    response = client.post(
        INTAKE,
        {
            "caller": world["astrid"].pk,
            "title": "Kan inte skriva ut",
            "description": "Skrivaren på plan 2.",
            "kind": "incident",
            "impact": "3",
            "urgency": "2",
            "action": "log",
        },
    )
    posts += 1
    assert response.status_code == 302 and response["Location"] == INTAKE
    assert posts <= 3
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.status, ticket.line) == ("phone", Status.NEW, 1)
    assert ticket.group == world["first"]
    assert ticket.requester == world["astrid"]
    assert (ticket.organisation, ticket.department) == (world["herrljunga"], world["office"])
    page = client.get(INTAKE).content.decode()
    assert f"Ticket {ticket.reference} for Astrid Andersson is logged" in page
    assert "Your latest calls" in page and ticket.reference in page


def test_a_call_solved_on_the_spot_is_resolved_in_first_line_in_one_post(client, world):
    client.force_login(world["switchboard"])
    response = client.post(
        INTAKE,
        {
            "caller": world["astrid"].pk,
            "title": "Glömt lösenord",
            "description": "Hjälpte till att byta lösenord.",
            "kind": "question",
            "impact": "3",
            "urgency": "2",
            "action": "solve",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution == "Hjälpte till att byta lösenord."
    assert ticket.resolved_in_first_line is True
    assert (ticket.channel, ticket.kind) == ("phone", "question")


def test_an_unknown_caller_is_logged_as_a_contact(client, world):
    client.force_login(world["switchboard"])
    page = client.get(INTAKE, {"caller": "unknown", "q": "0701-23 45 67"}).content.decode()
    assert 'value="0701-23 45 67"' in page
    response = client.post(
        INTAKE,
        {
            "contact_name": "Nisse Hult",
            "contact_phone": "0701-23 45 67",
            "organisation": world["herrljunga"].pk,
            "department": world["office"].pk,
            "title": "Wifi i stadshuset",
            "kind": "incident",
            "impact": "2",
            "urgency": "2",
            "action": "log",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester is None
    assert (ticket.contact_name, ticket.contact_phone) == ("Nisse Hult", "0701-23 45 67")
    assert (ticket.organisation, ticket.department) == (world["herrljunga"], world["office"])


def test_an_unknown_caller_needs_a_name_or_number_and_an_organisation(client, world):
    client.force_login(world["switchboard"])
    response = client.post(
        INTAKE,
        {"title": "Något", "kind": "incident", "impact": "3", "urgency": "2", "action": "log"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Write the caller&#x27;s name or phone number" in page
    assert "Choose the caller&#x27;s organisation." in page
    assert 'value="Något"' in page
    assert not Ticket.objects.exists()


def test_a_scoped_switchboard_cannot_log_for_the_other_municipality(client, world):
    client.force_login(world["vargarda_switchboard"])
    assert client.get(INTAKE, {"caller": world["astrid"].pk}).status_code == 404
    base = {"title": "X", "kind": "incident", "impact": "3", "urgency": "2", "action": "log"}
    response = client.post(INTAKE, {**base, "caller": world["astrid"].pk})
    assert response.status_code == 400
    response = client.post(
        INTAKE, {**base, "contact_name": "Okänd", "organisation": world["herrljunga"].pk}
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    response = client.post(INTAKE, {**base, "caller": world["jakob"].pk, "action": "solve"})
    assert response.status_code == 302
    assert Ticket.objects.get().organisation == world["vargarda"]
