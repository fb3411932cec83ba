"""Major incidents, their children and their follow-up, as the services enforce them."""

from __future__ import annotations

import datetime

import pytest

from arende.core.errors import ValidationFailed
from arende.core.models import AuditEvent
from arende.operations import selectors
from arende.operations.models import MajorIncident, PostIncidentReview, ReviewAction
from arende.operations.services import incidents as services
from arende.servicedesk.models import Ticket, TicketActivity
from arende.servicedesk.services import tickets as ticket_services

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def _ticket(ops, requester, title="Växeln svarar inte"):
    return ticket_services.ticket_create(
        actor=requester, channel="portal", title=title, requester=requester, service=ops["phone"]
    )


def _declare(ops, **kwargs):
    values = dict(
        actor=ops["im"],
        title="Växeln ligger nere",
        services=[ops["phone"]],
        organisations=[ops["herrljunga"]],
        lead=ops["im"],
        public_title="Störning i telefonin",
    )
    values.update(kwargs)
    return services.major_incident_declare(**values)


def test_declare_from_a_ticket_link_three_and_resolve_answers_each_requester_once(ops):
    first = _ticket(ops, ops["requesters"][0])
    incident = _declare(ops, parent_ticket=first)
    assert incident.parent_ticket == first
    children = [_ticket(ops, requester) for requester in ops["requesters"][1:]]
    children.append(_ticket(ops, ops["requesters"][1], "Kan inte ringa ut"))
    for child in children:
        services.major_incident_link_ticket(actor=ops["im"], incident=incident, ticket=child)
    assert set(first.children.values_list("pk", flat=True)) == {c.pk for c in children}

    incident.refresh_from_db()
    services.major_incident_resolve(
        actor=ops["im"],
        incident=incident,
        version=incident.version,
        resolution="Växeln är omstartad och samtal kopplas igen.",
    )
    incident.refresh_from_db()
    assert incident.status == MajorIncident.Status.RESOLVED
    assert incident.mitigated_at == incident.resolved_at
    for ticket in [first, *children]:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.RESOLVED
        public = TicketActivity.objects.filter(ticket=ticket, is_public=True, kind="status")
        assert public.count() == 1  # one message per ticket, no separate reply
    assert PostIncidentReview.objects.get(incident=incident).status == "open"
    verbs = set(
        AuditEvent.objects.filter(object_id=str(incident.pk)).values_list("verb", flat=True)
    )
    assert {"declare", "link_ticket", "resolve"} <= verbs


def test_declared_directly_gets_a_parent_ticket(ops):
    incident = _declare(ops, title="DDoS mot brandväggen", services=[ops["internet"]])
    assert incident.parent_ticket.title == "DDoS mot brandväggen"
    assert incident.parent_ticket.organisation == ops["herrljunga"]


def test_rules_of_declaring(ops):
    with pytest.raises(ValidationFailed):
        _declare(ops, services=[])
    with pytest.raises(ValidationFailed):
        _declare(ops, is_security=True)  # no kind
    with pytest.raises(
        ValidationFailed
    ):  # Vårgårda's incident manager cannot declare for Herrljunga
        _declare(ops, actor=ops["vargarda_im"])
    ticket = _ticket(ops, ops["requesters"][0])
    _declare(ops, parent_ticket=ticket)
    with pytest.raises(ValidationFailed):
        _declare(ops, parent_ticket=ticket)
    with pytest.raises(ValidationFailed):  # an agent may not declare
        _declare(ops, actor=ops["agent"])


def test_security_incident_time_to_mitigate(ops):
    detected = datetime.datetime(2021, 5, 3, 10, 0, tzinfo=UTC)
    incident = _declare(
        ops,
        services=[ops["internet"]],
        is_security=True,
        security_type="ddos",
        started_at=detected,
        detected_at=detected,
    )
    services.major_incident_set_status(
        actor=ops["im"],
        incident=incident,
        version=incident.version,
        status="mitigated",
        at=detected + datetime.timedelta(minutes=4),
    )
    incident.refresh_from_db()
    assert incident.time_to_mitigate == datetime.timedelta(minutes=4)


def test_who_sees_which_major_incident(ops):
    herrljunga = _declare(ops)
    both = _declare(ops, organisations=[ops["herrljunga"], ops["vargarda"]])
    assert set(MajorIncident.objects.visible_to(ops["im"])) == {herrljunga, both}
    assert set(MajorIncident.objects.visible_to(ops["vargarda_im"])) == {both}
    assert not MajorIncident.objects.visible_to(ops["requesters"][0]).exists()


def test_review_and_actions_overdue(ops):
    incident = _declare(ops)
    services.major_incident_resolve(
        actor=ops["im"], incident=incident, version=None, resolution="Löst."
    )
    review = incident.review
    with pytest.raises(ValidationFailed):
        services.review_complete(actor=ops["im"], review=review, version=review.version)
    review = services.review_update(
        actor=ops["im"],
        review=review,
        version=review.version,
        cause="Strömavbrott i korskopplingen",
        what_worked="Snabb information",
        what_to_improve="Reservväg saknas",
    )
    action = services.review_action_add(
        actor=ops["im"],
        review=review,
        description="Köp omstyrningstjänst",
        owner=ops["manager"],
        due_date=datetime.date(2021, 6, 1),
    )
    assert list(selectors.open_reviews(ops["manager"])) == [review]
    assert list(selectors.overdue_actions(ops["manager"], today=datetime.date(2021, 6, 2))) == [
        action
    ]
    assert not selectors.overdue_actions(ops["manager"], today=datetime.date(2021, 6, 1)).exists()
    services.review_action_set_done(actor=ops["manager"], action=action)
    assert ReviewAction.objects.get().status == "done"
    services.review_complete(actor=ops["im"], review=review, version=review.version)
    assert not selectors.open_reviews(ops["manager"]).exists()


def _resolved(ops, resolved_at, completed_at=None):
    incident = _declare(ops, started_at=resolved_at - datetime.timedelta(hours=1))
    incident = services.major_incident_resolve(
        actor=None, incident=incident, version=None, resolution="Löst.", at=resolved_at
    )
    if completed_at is not None:
        review = incident.review
        services.review_update(
            actor=None, review=review, version=None, cause="Orsak", what_worked="",
            what_to_improve="",
        )  # fmt: skip
        services.review_complete(actor=None, review=review, version=None, at=completed_at)
    return incident


def test_followup_share_within_n_working_days(ops):
    def local(*args):
        return datetime.datetime(*args, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))

    # Resolved Thursday 2021-05-06. Ten working days: 7, 10–12, (13 Ascension), 14, 17–21
    # → the tenth is Friday 2021-05-21; done before its midnight counts.
    _resolved(ops, local(2021, 5, 6, 15), completed_at=local(2021, 5, 21, 23, 59))
    _resolved(ops, local(2021, 5, 6, 15), completed_at=local(2021, 5, 22, 0, 1))  # too late
    _resolved(ops, local(2021, 5, 6, 15))  # never reviewed
    _resolved(ops, local(2021, 6, 1, 9), completed_at=local(2021, 6, 2, 9))  # in time
    pending = _resolved(ops, local(2021, 6, 20, 9))  # not due yet at "now"
    result = selectors.followup_share(
        MajorIncident.objects.all(), working_days=10, now=local(2021, 6, 22, 12)
    )
    assert (result.total, result.in_time, result.pending) == (4, 2, 1)
    assert result.share == 0.5
    assert [row.in_time for row in result.rows if row.incident == pending] == [None]
    # With N = 11 the late one is in time too.
    assert (
        selectors.followup_share(
            MajorIncident.objects.all(), working_days=11, now=local(2021, 6, 22, 12)
        ).in_time
        == 3
    )


def test_unlinking_and_linking_rules(ops):
    incident = _declare(ops, parent_ticket=_ticket(ops, ops["requesters"][0]))
    child = _ticket(ops, ops["requesters"][1])
    services.major_incident_link_ticket(actor=ops["im"], incident=incident, ticket=child)
    with pytest.raises(ValidationFailed):
        services.major_incident_link_ticket(actor=ops["im"], incident=incident, ticket=child)
    services.major_incident_unlink_ticket(actor=ops["im"], incident=incident, ticket=child)
    child.refresh_from_db()
    assert child.parent_id is None
