"""The operations panel on the start page: major incidents, changes waiting for the person's
decision (role by role), and the follow-up actions they own."""

from __future__ import annotations

import datetime

import pytest

from arende.core.tests.factories import UserFactory, grant
from arende.operations import selectors
from arende.operations.services import changes as change_services
from arende.operations.services import incidents as incident_services
from arende.operations.tests.test_changes import _change
from arende.operations.tests.test_incidents import _declare

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_change_waits_for_each_approver_role_until_that_role_has_decided(client, ops):
    # Medium risk: the change manager and the IT manager must both approve (rule "all").
    change = _change(ops, answers={"many_users": True, "critical_service": True})
    assert not selectors.changes_awaiting_decision_by(ops["cm"]).exists(), "a draft waits for none"
    change = change_services.change_submit(actor=ops["specialist"], change=change, version=None)
    second_cm = grant(UserFactory(organisation=ops["it"]), "change_manager")

    for approver in (ops["cm"], second_cm, ops["manager"]):
        assert list(selectors.changes_awaiting_decision_by(approver)) == [change]
    for bystander in (ops["specialist"], ops["agent"], ops["im"]):
        assert not selectors.changes_awaiting_decision_by(bystander).exists()
    assert change.reference in _home(client, ops["cm"])

    change_services.change_decide(actor=ops["cm"], change=change, approve=True)
    # The change manager role has decided, for both of its holders; the IT manager has not.
    assert not selectors.changes_awaiting_decision_by(ops["cm"]).exists()
    assert not selectors.changes_awaiting_decision_by(second_cm).exists()
    assert list(selectors.changes_awaiting_decision_by(ops["manager"])) == [change]
    assert "Changes waiting for your decision" not in _home(client, ops["cm"])
    assert change.reference in _home(client, ops["manager"])

    change_services.change_decide(actor=ops["manager"], change=change, approve=True)
    assert not selectors.changes_awaiting_decision_by(ops["manager"]).exists()


def test_an_emergency_change_started_before_approval_still_waits_for_it(ops):
    change = _change(ops, type="emergency")
    change = change_services.change_submit(actor=ops["specialist"], change=change, version=None)
    change = change_services.change_start(actor=ops["specialist"], change=change, version=None)
    assert change.status == "in_progress"
    assert list(selectors.changes_awaiting_decision_by(ops["manager"])) == [change]
    change_services.change_decide(actor=ops["manager"], change=change, approve=True)
    # Rule "any": one approval is enough for every approver.
    assert not selectors.changes_awaiting_decision_by(ops["cm"]).exists()


def test_the_owner_sees_their_follow_up_actions_and_which_are_overdue(client, ops):
    incident = _declare(ops, started_at=datetime.datetime(2021, 5, 3, 8, tzinfo=datetime.UTC))
    incident = incident_services.major_incident_resolve(
        actor=ops["im"], incident=incident, version=None, resolution="Löst."
    )
    review = incident.review
    late = incident_services.review_action_add(
        actor=ops["im"],
        review=review,
        description="Köp omstyrningstjänst",
        owner=ops["specialist"],
        due_date=datetime.date(2021, 6, 1),
    )
    future = datetime.date.today() + datetime.timedelta(days=30)
    incident_services.review_action_add(
        actor=ops["im"],
        review=review,
        description="Dokumentera reservvägen",
        owner=ops["specialist"],
        due_date=future,
    )
    incident_services.review_action_add(
        actor=ops["im"], review=review, description="Någon annans", owner=ops["agent"],
        due_date=future,
    )  # fmt: skip

    page = _home(client, ops["specialist"])
    assert "Köp omstyrningstjänst" in page and "Dokumentera reservvägen" in page
    assert "Någon annans" not in page
    assert page.count("(overdue)") == 1
    assert page.index("Köp omstyrningstjänst") < page.index("Dokumentera reservvägen")

    incident_services.review_action_set_done(actor=ops["im"], action=late)
    assert "Köp omstyrningstjänst" not in _home(client, ops["specialist"])


def test_major_incidents_show_to_those_who_may_see_them_only(client, ops):
    incident = _declare(ops, title="Överbelastningsattack mot brandväggen")
    assert incident.title in _home(client, ops["agent"])
    assert incident.title not in _home(client, ops["vargarda_im"])  # another municipality's
    requester_page = _home(client, ops["requesters"][0])
    assert incident.title not in requester_page and "Ongoing major incidents" not in requester_page
